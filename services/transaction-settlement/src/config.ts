import { z } from 'zod';
import { defaultPort, defaultUrl, loadConfig, positiveInteger } from '@puhui/config';
import { AMOUNT_MINOR_MAX } from '@puhui/money';
import { serviceEnvironment } from '@puhui/service';
import { compilesAsRegularExpression } from './crash-after-commit';

/** A JSON object of positive fen amounts, as an environment variable. */
const fenByKey = z
  .string()
  .transform((text, context) => {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      context.addIssue({ code: 'custom', message: 'must be a JSON object' });
      return z.NEVER;
    }
  })
  .pipe(z.record(z.string(), z.int().positive().max(AMOUNT_MINOR_MAX)));

export const transactionSettlementEnvironment = serviceEnvironment({
  port: defaultPort('transaction-settlement'),
  databaseName: 'puhui_transaction_settlement',
  secrets: [
    'FIELD_ENCRYPTION_KEY',
    'IDEMPOTENCY_REQUEST_HASH_KEY',
    'CARD_TOKEN_KEY',
    'CARD_HANDLE_KEY',
    'RATE_SHEET_SIGNING_KEY',
    'SERVICE_CREDENTIAL',
  ],
})
  .extend({
    /** discount-rules, for rate sheets Redis does not have. */
    DISCOUNT_RULES_URL: z.url().default(defaultUrl('discount-rules')),
    /** A checkout waits this long for discount-rules before answering 503. */
    RATE_SHEET_TIMEOUT_MS: positiveInteger.default(300),
    /** When a business day closes, Asia/Shanghai (DESIGN §6). */
    BUSINESS_DAY_CUTOFF: z
      .string()
      .regex(/^([01]\d|2[0-3]):[0-5]\d$/u)
      .default('23:00'),
    /** How often the service checks whether a closed business day still needs settling. */
    SETTLEMENT_CHECK_INTERVAL_MS: positiveInteger.default(60_000),
    /** A statement line and a ledger item without a common reference match within this time (DESIGN §6). */
    RECONCILIATION_TIME_TOLERANCE_MS: positiveInteger.max(24 * 60 * 60_000).default(15 * 60_000),
    /**
     * The largest reconciliation difference finance may write off (fen; ¥10 by default): anything
     * larger is adjusted to suspense:reconciliation until explained. Either needs a second person.
     */
    RECONCILIATION_WRITE_OFF_LIMIT_MINOR: positiveInteger.max(100_000_000).default(1_000),
    /**
     * How long a statement upload may take to arrive (the platform's 30 s is for every other
     * route, decision 0018): a million-line acquirer statement takes about 50 s to upload and
     * reconcile.
     */
    RECONCILIATION_UPLOAD_TIMEOUT_MS: positiveInteger.default(10 * 60_000),
    /** JSON {category: fen} over the defaults in domain/checkout-limits.ts: one checkout's gross at most. */
    CHECKOUT_GROSS_MINOR_MAX_BY_CATEGORY: fenByKey.optional(),
    /** JSON {merchant_id: fen}: a merchant's own ceiling on one checkout's gross, replacing its category's. */
    CHECKOUT_GROSS_MINOR_MAX_BY_MERCHANT: fenByKey.optional(),
    /** Union-funded captures one card may make in any hour (DESIGN §8: bounds on what a POS can claim). */
    UNION_FUNDED_CAPTURES_PER_CARD_HOUR_MAX: positiveInteger.default(10),
    /**
     * A merchant's payment file is refused for this long after its settlement account changed
     * (issue 16): a day for the merchant to hear of a change it did not make before money goes there.
     */
    SETTLEMENT_ACCOUNT_COOLING_OFF_HOURS: z.coerce
      .number()
      .min(0)
      .max(24 * 30)
      .default(24),
    /**
     * Test only: a regular expression over capture references. A capture whose reference matches
     * kills the process with SIGKILL after its transaction committed and before its answer is
     * written (see crash-after-commit.ts), so that crash tests can force the case idempotency
     * exists for. Unset, nothing happens; refused when NODE_ENV=production.
     */
    PUHUI_TEST_CRASH_AFTER_COMMIT: z
      .string()
      .refine(compilesAsRegularExpression, 'must be a JavaScript regular expression')
      .optional(),
  })
  .superRefine((environment, context) => {
    // A variable that kills the service on purpose must not be one typo away from production.
    if (environment.NODE_ENV === 'production' && environment.PUHUI_TEST_CRASH_AFTER_COMMIT !== undefined) {
      context.addIssue({
        code: 'custom',
        path: ['PUHUI_TEST_CRASH_AFTER_COMMIT'],
        message: 'a test-only fault that kills the service; refused when NODE_ENV=production',
      });
    }
  });
export type TransactionSettlementConfig = z.infer<typeof transactionSettlementEnvironment>;

export function loadTransactionSettlementConfig(
  environment: Record<string, string | undefined> = process.env,
): TransactionSettlementConfig {
  return loadConfig(transactionSettlementEnvironment, environment);
}
