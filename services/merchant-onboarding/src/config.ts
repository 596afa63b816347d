import { z } from 'zod';
import { loadConfig, platformEnvironment, port } from '@puhui/config';

export const merchantOnboardingEnvironment = platformEnvironment.extend({
  PORT: port.default(4101),
  DATABASE_NAME: z.string().default('puhui_merchant_onboarding'),
});
export type MerchantOnboardingConfig = z.infer<typeof merchantOnboardingEnvironment>;

export function loadMerchantOnboardingConfig(
  environment: Record<string, string | undefined> = process.env,
): MerchantOnboardingConfig {
  return loadConfig(merchantOnboardingEnvironment, environment);
}
