/**
 * The outbox relay: publishes unpublished outbox rows to Kafka in bounded batches, with
 * `acks: -1` and an idempotent producer, then marks them sent. One relay per database
 * publishes at a time (advisory lock), so rows of one key reach Kafka in outbox order.
 *
 * A crash after publishing and before marking leaves the rows unpublished; they are
 * published again and consumers drop the duplicates by event id (at-least-once).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, propagation, trace } from '@opentelemetry/api';
import type { Span } from '@opentelemetry/api';
import { Partitioners } from 'kafkajs';
import type { Kafka, Message, Producer, TopicMessages } from 'kafkajs';
import type { Pool, PoolClient } from 'pg';
import type { Logger } from '@puhui/logging';
import { withTransaction } from '@puhui/postgres';
import type { RelayObserver } from './metrics';

/** Any constant distinct from other advisory locks in the service database. */
const RELAY_LOCK_KEY = 7_208_315_001;
const BACKOFF_MS_MAX = 5000;
/** The pause after a batch that had events. */
const BUSY_POLL_MS = 5;
export const CLOUDEVENTS_CONTENT_TYPE = 'application/cloudevents+json; charset=UTF-8';
/** The tracer of the relay's publish spans; a no-op unless a service started tracing (decision 0026). */
const tracer = trace.getTracer('@puhui/events/relay');

export interface RelaySettings {
  pool: Pool;
  kafka: Kafka;
  logger: Logger;
  batchSizeMax: number;
  pollIntervalMs: number;
  topicPrefix?: string;
  /** Told each pass whether this instance led, and what it published (decision 0024's metrics). */
  observer?: RelayObserver;
  /** Test seam: runs after Kafka acknowledged a batch and before the rows are marked sent. */
  afterPublish?: (positions: readonly string[]) => Promise<void> | void;
}

interface OutboxRow {
  position: string;
  topic: string;
  message_key: string;
  envelope: unknown;
}

export class OutboxRelay {
  private readonly settings: RelaySettings;
  private readonly logger: Logger;
  private producer: Producer | undefined;
  private running = false;
  private loop: Promise<void> | undefined;
  private wake: (() => void) | undefined;

  constructor(settings: RelaySettings) {
    this.settings = settings;
    this.logger = settings.logger.child({ component: 'outbox-relay' });
  }

  /** Publishes one batch; returns how many events it published (0 when idle or not the leader). */
  async publishBatch(): Promise<number> {
    const producer = await this.connectedProducer();
    return withTransaction(this.settings.pool, async (client) => {
      const leading = await this.tryLead(client);
      this.settings.observer?.passed(leading);
      if (!leading) return 0;
      const { rows } = await client.query<OutboxRow>(
        `SELECT position, topic, message_key, envelope FROM outbox_events
         WHERE published_at IS NULL ORDER BY position LIMIT $1`,
        [this.settings.batchSizeMax],
      );
      if (rows.length === 0) return 0;
      const { topicMessages, spans } = this.groupByTopic(rows);
      try {
        await producer.sendBatch({ acks: -1, topicMessages });
      } catch (error) {
        for (const span of spans) span.setStatus({ code: SpanStatusCode.ERROR, message: String(error) });
        throw error;
      } finally {
        for (const span of spans) span.end();
      }
      const positions = rows.map((row) => row.position);
      await this.settings.afterPublish?.(positions);
      await client.query('UPDATE outbox_events SET published_at = now() WHERE position = ANY($1::bigint[])', [
        positions,
      ]);
      // Counted once marked; a commit that then fails re-publishes the batch and counts it twice,
      // which at-least-once delivery allows anyway.
      for (const [topic, events] of eventsPerTopic(rows)) this.settings.observer?.published(topic, events);
      return rows.length;
    });
  }

  /** Unpublished events, for metrics and tests. */
  async backlog(): Promise<number> {
    const { rows } = await this.settings.pool.query<{ count: string }>(
      'SELECT count(*) AS count FROM outbox_events WHERE published_at IS NULL',
    );
    return Number(rows[0]?.count ?? 0);
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.wake?.();
    await this.loop;
    await this.producer?.disconnect().catch(() => undefined);
    this.producer = undefined;
  }

  private async run(): Promise<void> {
    let failures = 0;
    while (this.running) {
      let published = 0;
      try {
        published = await this.publishBatch();
        if (failures > 0) this.logger.info({ failures }, 'relay recovered');
        failures = 0;
      } catch (error) {
        failures += 1;
        await this.dropProducer();
        // Log the first failure and then every tenth, not every retry while Kafka is away.
        if (failures === 1 || failures % 10 === 0) {
          this.logger.warn({ err: error, failures }, 'relay could not publish; will retry');
        }
      }
      if (published < this.settings.batchSizeMax || failures > 0) {
        // Idle: poll at the interval. Busy (the last batch had events, more are likely coming):
        // look again soon, so that under load an event waits a few milliseconds for the relay
        // instead of up to a whole interval (docs/performance.md, outbox lag).
        const waitMs =
          failures > 0
            ? Math.min(BACKOFF_MS_MAX, this.settings.pollIntervalMs * 2 ** Math.min(failures, 10))
            : published > 0
              ? Math.min(BUSY_POLL_MS, this.settings.pollIntervalMs)
              : this.settings.pollIntervalMs;
        await this.pause(waitMs);
      }
    }
  }

  private pause(milliseconds: number): Promise<void> {
    const controller = new AbortController();
    this.wake = () => controller.abort();
    return sleep(milliseconds, undefined, { signal: controller.signal }).catch(() => undefined);
  }

  private async tryLead(client: PoolClient): Promise<boolean> {
    const { rows } = await client.query<{ leading: boolean }>(
      'SELECT pg_try_advisory_xact_lock($1) AS leading',
      [RELAY_LOCK_KEY],
    );
    return rows[0]?.leading === true;
  }

  /**
   * The batch as Kafka messages per topic, and a publish span for each event that carries a
   * trace context (decision 0026): the span continues the writer's trace, and its own context
   * goes into the record's `traceparent` header, where the consumers pick it up.
   */
  private groupByTopic(rows: readonly OutboxRow[]): { topicMessages: TopicMessages[]; spans: Span[] } {
    const byTopic = new Map<string, Message[]>();
    const spans: Span[] = [];
    for (const row of rows) {
      const topic = `${this.settings.topicPrefix ?? ''}${row.topic}`;
      const messages = byTopic.get(topic) ?? [];
      const headers: Record<string, string> = { 'content-type': CLOUDEVENTS_CONTENT_TYPE };
      const span = publishSpanOf(row, topic, headers);
      if (span !== undefined) spans.push(span);
      messages.push({ key: row.message_key, value: JSON.stringify(row.envelope), headers });
      byTopic.set(topic, messages);
    }
    return { topicMessages: [...byTopic].map(([topic, messages]) => ({ topic, messages })), spans };
  }

  private async connectedProducer(): Promise<Producer> {
    if (this.producer !== undefined) return this.producer;
    // One request in flight keeps a key's messages in order across retries. Not the
    // idempotent producer: it wants unbounded retries, and a relay stuck retrying would hold
    // its transaction open; a bounded retry that fails leaves the rows for the next round.
    const producer = this.settings.kafka.producer({
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
      createPartitioner: Partitioners.DefaultPartitioner,
      retry: { retries: 3, initialRetryTime: 100, maxRetryTime: 1000 },
    });
    await producer.connect();
    this.producer = producer;
    return producer;
  }

  private async dropProducer(): Promise<void> {
    const producer = this.producer;
    this.producer = undefined;
    await producer?.disconnect().catch(() => undefined);
  }
}

/** How many of `rows` each logical topic (without the prefix) has. */
function eventsPerTopic(rows: readonly OutboxRow[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const row of rows) counts.set(row.topic, (counts.get(row.topic) ?? 0) + 1);
  return counts;
}

/**
 * A PRODUCER span `publish <topic>` under the envelope's `traceparent`, its context injected into
 * `headers`; none for an event written outside a trace (a job's, or with tracing off).
 */
function publishSpanOf(row: OutboxRow, topic: string, headers: Record<string, string>): Span | undefined {
  const envelope = row.envelope as { traceparent?: unknown; tracestate?: unknown; id?: unknown };
  if (typeof envelope.traceparent !== 'string') return undefined;
  const writer = propagation.extract(ROOT_CONTEXT, {
    traceparent: envelope.traceparent,
    ...(typeof envelope.tracestate === 'string' ? { tracestate: envelope.tracestate } : {}),
  });
  const span = tracer.startSpan(
    `publish ${topic}`,
    {
      kind: SpanKind.PRODUCER,
      attributes: {
        'messaging.system': 'kafka',
        'messaging.operation.type': 'send',
        'messaging.operation.name': 'publish',
        'messaging.destination.name': topic,
        'messaging.message.id': String(envelope.id),
      },
    },
    writer,
  );
  propagation.inject(trace.setSpan(writer, span), headers);
  return span;
}
