import path from 'node:path';
import { TOPICS } from '@puhui/contracts';
import { startService } from '@puhui/service';
import type { RunningService, ServiceDefinition, ServiceDependencies } from '@puhui/service';
import type { Logger } from '@puhui/logging';
import { RateSheetCache } from './cache/rate-sheet-cache';
import { RateSheets } from './commands/rate-sheets';
import type { DiscountRulesConfig } from './config';
import { merchantReplica } from './consumers/merchants';
import { discountRulesApi } from './http/api';
import { discountRulesRoutes } from './http/routes';
import { BackgroundJobs } from './jobs/background';

export const SERVICE_NAME = 'discount-rules';

function rateSheetsFor({ pool, redis, logger }: ServiceDependencies): RateSheets {
  return new RateSheets(pool, new RateSheetCache(redis, logger), logger);
}

export function discountRulesService(config: DiscountRulesConfig): ServiceDefinition<DiscountRulesConfig> {
  return {
    name: SERVICE_NAME,
    config,
    migrationsDirectory: path.join(__dirname, '..', 'migrations'),
    publishes: [TOPICS.rules, TOPICS.cards],
    routes: discountRulesRoutes(rateSheetsFor),
    api: discountRulesApi,
    consumers: (dependencies) => [merchantReplica(dependencies)],
  };
}

/**
 * Starts the service and its background pass (ruleset version sync, scheduled publishes,
 * deferred rate-sheet drops). The pass runs once before this resolves, so Redis holds the
 * ruleset version as soon as the service answers; `shutdown` stops it before the pools close.
 */
export async function startDiscountRules(
  config: DiscountRulesConfig,
  options: { logger?: Logger } = {},
): Promise<RunningService<DiscountRulesConfig>> {
  const running = await startService(discountRulesService(config), options);
  const { dependencies } = running;
  const context = {
    pool: dependencies.pool,
    logger: dependencies.logger.child({ component: 'background' }),
    sheets: rateSheetsFor(dependencies),
    actor: `service:${SERVICE_NAME}`,
    requestId: null,
  };
  const jobs = new BackgroundJobs(
    context,
    config.BACKGROUND_INTERVAL_MS,
    config.CARD_IMPORT_ABANDONED_AFTER_MS,
  );
  await jobs.pass();
  jobs.start();
  return {
    ...running,
    shutdown: async (reason) => {
      await jobs.stop();
      await running.shutdown(reason);
    },
  };
}
