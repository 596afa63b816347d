/**
 * The service's background jobs, every BACKGROUND_INTERVAL_MS, each failing on its own and
 * retried on its next pass. Each runs once before the service answers (Redis holds the ruleset
 * version, and what fell due while it was down is live, before the first checkout asks):
 * - Redis's ruleset version is brought up to Postgres's, healing a crash (or a Redis outage)
 *   between a publish's commit and its Redis write;
 * - scheduled publishes that are due go live;
 * - card changes whose rate sheet could not be dropped at the time are dropped now;
 * - imports left `running` by a process that died (no progress for CARD_IMPORT_ABANDONED_AFTER_MS)
 *   are marked failed, keeping the batches they committed.
 * The publishes and the sheet drops run on one instance at a time: two instances would queue on
 * the same rules' row locks and drop the same sheets twice. The version sync and the import
 * sweep are one idempotent statement each, and every instance runs them.
 */
import type { Job } from '@puhui/service';
import type { CommandContext } from '../commands/context';
import { publishIfDue } from '../commands/rules';
import type { DiscountRulesConfig } from '../config';
import { failAbandonedImports } from '../store/card-imports';
import { dueScheduledRules } from '../store/rules';

/** Scheduled publishes per pass: each is its own transaction; more wait for the next pass. */
const DUE_RULES_PER_PASS_MAX = 100;
/**
 * A pass is a few statements (100 publishes at most, 1,000 sheet drops); a pass still running after
 * 30 s is stuck on a connection, and the next one starts afresh.
 */
const PASS_TIMEOUT_MS = 30_000;

export function backgroundJobs(
  context: CommandContext,
  config: Pick<DiscountRulesConfig, 'BACKGROUND_INTERVAL_MS' | 'CARD_IMPORT_ABANDONED_AFTER_MS'>,
): Job[] {
  const { pool, sheets, logger } = context;
  const every = { intervalMs: config.BACKGROUND_INTERVAL_MS, timeoutMs: PASS_TIMEOUT_MS, beforeStart: true };
  const quietMs = config.CARD_IMPORT_ABANDONED_AFTER_MS;
  const reason = `interrupted: no progress for ${Math.round(quietMs / 1000)} s (the service stopped during the import); nothing of the file was registered, import it again`;
  return [
    { name: 'sync ruleset version', ...every, run: () => sheets.syncRulesetVersion() },
    {
      name: 'publish due rules',
      ...every,
      leader: true,
      run: async (signal) => {
        for (const ruleId of await dueScheduledRules(pool, DUE_RULES_PER_PASS_MAX)) {
          if (signal.aborted) return;
          await publishIfDue(context, ruleId);
        }
      },
    },
    {
      name: 'retry rate sheet drops',
      ...every,
      leader: true,
      run: async () => {
        await sheets.retryInvalidations();
      },
    },
    {
      name: 'fail abandoned imports',
      ...every,
      run: async () => {
        for (const importId of await failAbandonedImports(pool, quietMs, reason)) {
          logger.warn({ import_id: importId }, 'abandoned card import marked failed');
        }
      },
    },
  ];
}
