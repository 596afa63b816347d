import path from 'node:path';
import type { Job } from '@puhui/service';
import type { ServiceDefinition } from '@puhui/service';
import type { ConsoleConfig } from './config';
import { refuseUnsafeProductionSettings } from './config';
import { consoleApi } from './http/api';
import { consoleRoutes, consoleStreamingRoutes } from './http/routes';
import { consoleMetrics } from './metrics/sign-ins';
import { pruneOldSessions } from './store/sessions';
import { pruneSignInGuards } from './store/sign-in-guards';

export const SERVICE_NAME = 'console';

/**
 * Every 10 minutes: rate-limit windows and failures older than an hour are forgotten, and
 * sessions over for 30 days deleted, 10,000 at most a pass (one statement, well under a second).
 */
const PRUNE_INTERVAL_MS = 10 * 60_000;
const SESSIONS_PRUNED_PER_PASS_MAX = 10_000;

/**
 * The console to libs/service: Postgres only (no Redis, no Kafka). Its sign-in guards live in
 * Postgres too, so several instances share one lockout and one rate limit.
 */
export function consoleService(config: ConsoleConfig): ServiceDefinition<ConsoleConfig, never> {
  refuseUnsafeProductionSettings(config);
  return {
    name: SERVICE_NAME,
    config,
    migrationsDirectory: path.join(__dirname, '..', 'migrations'),
    streamingRoutes: consoleStreamingRoutes,
    routes: consoleRoutes,
    api: consoleApi,
    metrics: consoleMetrics,
    jobs: ({ pool }): Job[] => [
      {
        name: 'prune sign-in guards and old sessions',
        intervalMs: PRUNE_INTERVAL_MS,
        timeoutMs: 30_000,
        leader: true,
        run: async () => {
          await pruneSignInGuards(pool);
          await pruneOldSessions(pool, SESSIONS_PRUNED_PER_PASS_MAX);
        },
      },
    ],
  };
}
