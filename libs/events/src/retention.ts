/**
 * Keeps the outbox and inbox tables from growing for ever: published outbox rows older than
 * the outbox retention and inbox rows older than the inbox retention are deleted, a batch per
 * statement. Unpublished outbox rows are never deleted. The inbox must outlive every way an
 * old event can come back (Kafka's retention, a consumer group reset to the earliest offset):
 * an inbox row deleted earlier would let such an event apply twice.
 */
import type { Pool } from 'pg';

export interface RetentionSettings {
  outboxRetentionMs: number;
  inboxRetentionMs: number;
  /** Rows per DELETE statement, so that no statement holds many locks or runs long. */
  batchSize: number;
}

async function deleteInBatches(
  pool: Pool,
  sql: string,
  parameters: unknown[],
  batchSize: number,
): Promise<number> {
  let deleted = 0;
  for (;;) {
    const { rowCount } = await pool.query(sql, [...parameters, batchSize]);
    deleted += rowCount ?? 0;
    if ((rowCount ?? 0) < batchSize) return deleted;
  }
}

/** Deletes what is past retention; returns how many rows of each table went. */
export async function pruneEventTables(
  pool: Pool,
  settings: RetentionSettings,
): Promise<{ outbox: number; inbox: number }> {
  const outbox = await deleteInBatches(
    pool,
    `DELETE FROM outbox_events WHERE position IN (
       SELECT position FROM outbox_events
       WHERE published_at IS NOT NULL AND published_at < now() - make_interval(secs => $1 / 1000.0)
       LIMIT $2)`,
    [settings.outboxRetentionMs],
    settings.batchSize,
  );
  const inbox = await deleteInBatches(
    pool,
    `DELETE FROM inbox_events WHERE (consumer_group, event_id) IN (
       SELECT consumer_group, event_id FROM inbox_events
       WHERE processed_at < now() - make_interval(secs => $1 / 1000.0)
       LIMIT $2)`,
    [settings.inboxRetentionMs],
    settings.batchSize,
  );
  return { outbox, inbox };
}
