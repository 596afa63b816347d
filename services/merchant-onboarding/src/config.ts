import { z } from 'zod';
import { DAY_MS, HOUR_MS, defaultPort, loadConfig } from '@puhui/config';
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
  /**
   * How long a terminated merchant's personal fields are kept after its termination, in days,
   * before the retention job erases them (decision 0017): five years by default, beyond the
   * three-year limitation period for claims (民法典 art. 188) a dispute about its last payout
   * could still raise; the union's counsel may set another.
   */
  PERSONAL_DATA_RETENTION_DAYS: z.coerce.number().int().min(1).max(36_500).default(1826),
  /** The wait between two passes of the retention job; an hour, like the event tables' pruning. */
  PERSONAL_DATA_RETENTION_INTERVAL_MS: z.coerce.number().int().min(100).max(DAY_MS).default(HOUR_MS),
});
export type MerchantOnboardingConfig = z.infer<typeof merchantOnboardingEnvironment>;

export function loadMerchantOnboardingConfig(
  environment: Record<string, string | undefined> = process.env,
): MerchantOnboardingConfig {
  return loadConfig(merchantOnboardingEnvironment, environment);
}
