/**
 * The platform's metrics of a service with Kafka (decision 0024): the outbox backlog from its
 * own table, its consumer groups' lag and its DLQs' depth from Kafka, each read at scrape time
 * (at most once per 5 s, cachedReading), and the counters its consumers, relay and jobs move.
 */
import type { EventConsumer, Kafka } from '@puhui/events';
import type { Closer } from '@puhui/http';
import { EventMetrics, consumerLagGauge, deadLetterGauge, outboxGauges } from '@puhui/metrics';
import type { GroupPartitionLag, OutboxReading, Registry } from '@puhui/metrics';
import type { Pool } from '@puhui/postgres';

/**
 * The backlog is counted up to this many rows (the partial index on unpublished rows, a few
 * milliseconds at this size), so that a scrape stays cheap when the relay is far behind: past it
 * the gauge reads 100,000, which every alert treats as "far too many" anyway.
 */
export const OUTBOX_BACKLOG_COUNT_MAX = 100_000;

export async function readOutbox(pool: Pool): Promise<OutboxReading> {
  const { rows } = await pool.query<{ backlog: number; oldest_age_seconds: number }>(
    `SELECT (SELECT count(*) FROM (SELECT 1 FROM outbox_events WHERE published_at IS NULL LIMIT $1) AS waiting)::int
              AS backlog,
            COALESCE(EXTRACT(EPOCH FROM now() - (SELECT created_at FROM outbox_events
              WHERE published_at IS NULL ORDER BY position LIMIT 1)), 0)::float8 AS oldest_age_seconds`,
    [OUTBOX_BACKLOG_COUNT_MAX],
  );
  const row = rows[0];
  return {
    backlogEvents: row?.backlog ?? 0,
    oldestUnpublishedAgeSeconds: Math.max(0, row?.oldest_age_seconds ?? 0),
  };
}

/** One admin client for the readings, connected on first use and again after a failure. */
function lazyAdmin(kafka: Kafka) {
  let admin: ReturnType<Kafka['admin']> | undefined;
  let connecting: Promise<ReturnType<Kafka['admin']>> | undefined;
  return {
    get: async () => {
      if (admin !== undefined) return admin;
      connecting ??= (async () => {
        const created = kafka.admin();
        await created.connect();
        admin = created;
        return created;
      })().finally(() => {
        connecting = undefined;
      });
      return connecting;
    },
    /** After a failed reading: the next one connects afresh (the broker may have moved). */
    drop: async () => {
      const dropped = admin;
      admin = undefined;
      await dropped?.disconnect().catch(() => undefined);
    },
  };
}

export interface EventPipelineMetrics {
  events: EventMetrics;
  /** Disconnects the readings' admin client (after the consumers stopped). */
  closer: Closer;
}

export function eventPipelineMetrics(settings: {
  registry: Registry;
  pool: Pool;
  kafka: Kafka;
  consumers: readonly EventConsumer[];
  /** The topics the service publishes (their published count starts at 0). */
  publishes: readonly string[];
  /** METRICS_COLLECT_MAX_AGE_MS. */
  collectMaxAgeMs: number;
}): EventPipelineMetrics {
  const { registry, consumers, collectMaxAgeMs } = settings;
  const events = new EventMetrics(registry);
  for (const consumer of consumers) consumer.observeWith(events);
  events.expect(
    consumers.map((consumer) => ({ group: consumer.groupId, topics: consumer.subscribedTopics })),
    settings.publishes,
  );
  outboxGauges(registry, () => readOutbox(settings.pool), collectMaxAgeMs);
  const admin = lazyAdmin(settings.kafka);
  const withAdmin = async <T>(read: (client: ReturnType<Kafka['admin']>) => Promise<T>): Promise<T> => {
    try {
      return await read(await admin.get());
    } catch (error) {
      await admin.drop();
      throw error;
    }
  };
  if (consumers.length > 0) {
    consumerLagGauge(
      registry,
      () =>
        withAdmin(async (client) => {
          const lags: GroupPartitionLag[] = [];
          for (const consumer of consumers)
            for (const lag of await consumer.lag(client)) lags.push({ group: consumer.groupId, ...lag });
          return lags;
        }),
      collectMaxAgeMs,
    );
    deadLetterGauge(
      registry,
      () =>
        withAdmin(async (client) => {
          const depths = new Map<string, number>();
          for (const consumer of consumers)
            for (const depth of await consumer.deadLetters(client)) depths.set(depth.topic, depth.messages);
          return [...depths].map(([topic, messages]) => ({ topic, messages }));
        }),
      collectMaxAgeMs,
    );
  }
  return { events, closer: { name: 'metrics kafka admin', close: () => admin.drop() } };
}
