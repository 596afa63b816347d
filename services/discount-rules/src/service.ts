import path from 'node:path';
import { TOPICS } from '@puhui/contracts';
import { DUAL_CONTROL_MIGRATIONS } from '@puhui/dual-control';
import type { ServiceDefinition, ServiceDependencies } from '@puhui/service';
import { RateSheetCache } from './cache/rate-sheet-cache';
import { ruleDualControl } from './commands/approvals';
import { RateSheets } from './commands/rate-sheets';
import type { DiscountRulesConfig } from './config';
import { merchantReplica } from './consumers/merchants';
import { discountRulesApi } from './http/api';
import { discountRulesRoutes } from './http/routes';
import { backgroundJobs } from './jobs/background';
import { discountRulesMetrics } from './metrics';

export const SERVICE_NAME = 'discount-rules';

export function discountRulesService(config: DiscountRulesConfig): ServiceDefinition<DiscountRulesConfig> {
  const rateSheetsFor = ({ pool, redis, logger }: ServiceDependencies): RateSheets =>
    new RateSheets(pool, new RateSheetCache(redis, logger, config.RATE_SHEET_SIGNING_KEY), logger);
  return {
    name: SERVICE_NAME,
    config,
    migrationsDirectory: path.join(__dirname, '..', 'migrations'),
    libraryMigrations: [DUAL_CONTROL_MIGRATIONS],
    redis: true,
    kafka: {
      publishes: [TOPICS.rules, TOPICS.cards],
      consumers: (dependencies) => [merchantReplica(dependencies)],
    },
    routes: discountRulesRoutes(rateSheetsFor),
    api: discountRulesApi,
    metrics: discountRulesMetrics,
    jobs: (dependencies) => {
      const context = {
        pool: dependencies.pool,
        logger: dependencies.logger.child({ component: 'background' }),
        sheets: rateSheetsFor(dependencies),
        actor: `service:${SERVICE_NAME}`,
        requestId: null,
        operator: null,
        dualControl: ruleDualControl(),
      };
      return backgroundJobs(context, config);
    },
  };
}
