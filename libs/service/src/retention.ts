/** The periodic pruning of the outbox and inbox tables (libs/events retention.ts), as a job. */
import { HOUR_MS, MINUTE_MS } from '@puhui/config';
import type { Logger } from '@puhui/logging';
import { pruneEventTables } from '@puhui/events';
import type { Pool } from '@puhui/postgres';
import type { Job } from './jobs';

const BATCH_SIZE = 5_000;

export interface RetentionConfig {
  OUTBOX_RETENTION_HOURS: number;
  INBOX_RETENTION_HOURS: number;
  EVENT_RETENTION_INTERVAL_MS: number;
}

/**
 * Prunes at start and then every interval, on one instance at a time: two would only queue on
 * each other's row locks. A backlog of a few million rows takes minutes in 5,000-row deletes.
 */
export function eventRetentionJob(pool: Pool, config: RetentionConfig, logger: Logger): Job {
  return {
    name: 'event retention',
    intervalMs: config.EVENT_RETENTION_INTERVAL_MS,
    timeoutMs: 15 * MINUTE_MS,
    leader: true,
    run: async () => {
      const pruned = await pruneEventTables(pool, {
        outboxRetentionMs: config.OUTBOX_RETENTION_HOURS * HOUR_MS,
        inboxRetentionMs: config.INBOX_RETENTION_HOURS * HOUR_MS,
        batchSize: BATCH_SIZE,
      });
      if (pruned.outbox + pruned.inbox > 0) logger.info(pruned, 'old outbox and inbox rows deleted');
    },
  };
}
