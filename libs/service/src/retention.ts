/** The periodic pruning of the outbox and inbox tables (libs/events retention.ts). */
import type { Logger } from '@puhui/logging';
import { pruneEventTables } from '@puhui/events';
import type { Pool } from '@puhui/postgres';

const HOUR_MS = 3600_000;
const BATCH_SIZE = 5_000;

export interface RetentionConfig {
  OUTBOX_RETENTION_HOURS: number;
  INBOX_RETENTION_HOURS: number;
  EVENT_RETENTION_INTERVAL_MS: number;
}

/** Prunes now and then every interval; `stop` waits for a pass under way. */
export function scheduleEventRetention(pool: Pool, config: RetentionConfig, logger: Logger) {
  let running: Promise<void> = Promise.resolve();
  const prune = async () => {
    try {
      const pruned = await pruneEventTables(pool, {
        outboxRetentionMs: config.OUTBOX_RETENTION_HOURS * HOUR_MS,
        inboxRetentionMs: config.INBOX_RETENTION_HOURS * HOUR_MS,
        batchSize: BATCH_SIZE,
      });
      if (pruned.outbox + pruned.inbox > 0) logger.info(pruned, 'old outbox and inbox rows deleted');
    } catch (error) {
      logger.warn({ err: error }, 'outbox and inbox pruning failed; will retry');
    }
  };
  const tick = () => {
    running = running.then(prune);
  };
  const timer = setInterval(tick, config.EVENT_RETENTION_INTERVAL_MS);
  timer.unref();
  tick();
  return {
    stop: async () => {
      clearInterval(timer);
      await running;
    },
  };
}
