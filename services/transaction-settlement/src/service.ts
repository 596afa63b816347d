import path from 'node:path';
import { TOPICS } from '@puhui/contracts';
import { DUAL_CONTROL_MIGRATIONS } from '@puhui/dual-control';
import { IDEMPOTENCY_MIGRATIONS } from '@puhui/idempotency';
import type { ServiceDefinition } from '@puhui/service';
import type { TransactionSettlementConfig } from './config';
import { replicaConsumers } from './consumers/replicas';
import { parseCutoff } from './domain/business-day';
import type { SettlementContext } from './commands/context';
import { settlementApprovals } from './commands/approvals';
import { transactionSettlementApi } from './http/api';
import { transactionSettlementRoutes } from './http/routes';
import { automaticSettlementJob } from './commands/settlement';
import { RateSheets } from './rates/rate-sheets';
import { crashAfterCommit } from './crash-after-commit';
import { transactionSettlementMetrics } from './metrics';
import { CHECKOUT_GROSS_MINOR_MAX_BY_CATEGORY, CHECKOUT_QUANTITY_TOTAL_MAX } from './domain/checkout-limits';

export const SERVICE_NAME = 'transaction-settlement';

export function transactionSettlementService(
  config: TransactionSettlementConfig,
): ServiceDefinition<TransactionSettlementConfig> {
  return {
    name: SERVICE_NAME,
    config,
    migrationsDirectory: path.join(__dirname, '..', 'migrations'),
    libraryMigrations: [IDEMPOTENCY_MIGRATIONS, DUAL_CONTROL_MIGRATIONS],
    redis: true,
    kafka: { publishes: [TOPICS.checkouts, TOPICS.settlements], consumers: replicaConsumers },
    routes: (router, dependencies) => {
      const rateSheets = new RateSheets({
        redis: dependencies.redis,
        logger: dependencies.logger,
        discountRulesUrl: config.DISCOUNT_RULES_URL,
        timeoutMs: config.RATE_SHEET_TIMEOUT_MS,
        serviceCredential: config.SERVICE_CREDENTIAL,
        signingKey: config.RATE_SHEET_SIGNING_KEY,
      });
      dependencies.closeOnShutdown({ name: 'rate sheet breaker', close: async () => rateSheets.shutdown() });
      if (config.PUHUI_TEST_CRASH_AFTER_COMMIT !== undefined) {
        dependencies.logger.warn(
          { pattern: config.PUHUI_TEST_CRASH_AFTER_COMMIT },
          'test hook armed: captures whose reference matches kill this process after commit',
        );
      }
      const context: SettlementContext = {
        pool: dependencies.pool,
        logger: dependencies.logger,
        rateSheets,
        cardTokenKey: config.CARD_TOKEN_KEY,
        cardHandleKey: config.CARD_HANDLE_KEY,
        requestHashKey: config.IDEMPOTENCY_REQUEST_HASH_KEY,
        businessDayCutoffMinutes: parseCutoff(config.BUSINESS_DAY_CUTOFF),
        checkoutLimits: {
          grossMinorMaxByCategory: {
            ...CHECKOUT_GROSS_MINOR_MAX_BY_CATEGORY,
            ...config.CHECKOUT_GROSS_MINOR_MAX_BY_CATEGORY,
          },
          grossMinorMaxByMerchant: config.CHECKOUT_GROSS_MINOR_MAX_BY_MERCHANT ?? {},
          quantityTotalMax: CHECKOUT_QUANTITY_TOTAL_MAX,
          unionFundedCapturesPerCardHourMax: config.UNION_FUNDED_CAPTURES_PER_CARD_HOUR_MAX,
        },
        afterCaptureCommitted: crashAfterCommit(SERVICE_NAME, config.PUHUI_TEST_CRASH_AFTER_COMMIT),
        approvals: settlementApprovals(),
      };
      transactionSettlementRoutes(router, dependencies, context);
    },
    api: transactionSettlementApi,
    metrics: transactionSettlementMetrics,
    jobs: ({ pool, logger }) => [
      automaticSettlementJob(
        { pool, businessDayCutoffMinutes: parseCutoff(config.BUSINESS_DAY_CUTOFF) },
        logger,
        config.SETTLEMENT_CHECK_INTERVAL_MS,
      ),
    ],
  };
}
