import type { z } from 'zod';
import { loadConfig } from '@puhui/config';
import { serviceEnvironment } from '@puhui/service';

export const merchantOnboardingEnvironment = serviceEnvironment({
  port: 4101,
  databaseName: 'puhui_merchant_onboarding',
});
export type MerchantOnboardingConfig = z.infer<typeof merchantOnboardingEnvironment>;

export function loadMerchantOnboardingConfig(
  environment: Record<string, string | undefined> = process.env,
): MerchantOnboardingConfig {
  return loadConfig(merchantOnboardingEnvironment, environment);
}
