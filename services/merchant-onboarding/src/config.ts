import { z } from 'zod';
import { defaultPort, loadConfig } from '@puhui/config';
import { serviceEnvironment } from '@puhui/service';

export const merchantOnboardingEnvironment = serviceEnvironment({
  port: defaultPort('merchant-onboarding'),
  databaseName: 'puhui_merchant_onboarding',
  secrets: ['FIELD_ENCRYPTION_KEY', 'IDENTITY_HASH_KEY'],
}).extend({
  /**
   * How long a new merchant key works (issue 14): a key copied off a POS stops working by
   * itself; a year lets a merchant rotate once a year with the overlap rotation gives.
   */
  MERCHANT_API_KEY_LIFETIME_DAYS: z.coerce.number().int().min(1).max(3650).default(365),
});
export type MerchantOnboardingConfig = z.infer<typeof merchantOnboardingEnvironment>;

export function loadMerchantOnboardingConfig(
  environment: Record<string, string | undefined> = process.env,
): MerchantOnboardingConfig {
  return loadConfig(merchantOnboardingEnvironment, environment);
}
