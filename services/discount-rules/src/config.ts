import { z } from 'zod';
import { loadConfig, platformEnvironment, port } from '@puhui/config';

export const discountRulesEnvironment = platformEnvironment.extend({
  PORT: port.default(4102),
  DATABASE_NAME: z.string().default('puhui_discount_rules'),
});
export type DiscountRulesConfig = z.infer<typeof discountRulesEnvironment>;

export function loadDiscountRulesConfig(
  environment: Record<string, string | undefined> = process.env,
): DiscountRulesConfig {
  return loadConfig(discountRulesEnvironment, environment);
}
