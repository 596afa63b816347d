import type { z } from 'zod';
import { loadConfig } from '@puhui/config';
import { serviceEnvironment } from '@puhui/service';

export const discountRulesEnvironment = serviceEnvironment({
  port: 4102,
  databaseName: 'puhui_discount_rules',
});
export type DiscountRulesConfig = z.infer<typeof discountRulesEnvironment>;

export function loadDiscountRulesConfig(
  environment: Record<string, string | undefined> = process.env,
): DiscountRulesConfig {
  return loadConfig(discountRulesEnvironment, environment);
}
