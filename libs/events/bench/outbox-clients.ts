/**
 * Benchmark (not a test): the outbox path — append, relay, Kafka, consumer, inbox — with the
 * client PUHUI_KAFKA_CLIENT picks (kafkajs by default, `confluent` for decision 0023), so the
 * two are compared on the same code, settings and machine. Prints one JSON line of figures.
 *
 *   npm run bench -w @puhui/events                       # kafkajs
 *   PUHUI_KAFKA_CLIENT=confluent NODE_PATH=<its node_modules> npm run bench -w @puhui/events
 *
 * Two phases on a fresh database and topic prefix (both removed at the end), with a service's
 * relay settings (batches of 500, 100 ms idle poll, its own connection) and one EventConsumer:
 * 1. Steady load: one event per transaction at BENCH_RATE per second for BENCH_SECONDS
 *    (scheduled by due time, not by the previous commit). Per event: publish lag = marked sent
 *    − event time, applied lag = applied in the consumer's transaction − event time (both on
 *    this machine's clock; the event time is set a few ms before commit).
 * 2. Drain: BENCH_BACKLOG events appended in one transaction while the relay is stopped, then
 *    the relay started: events per second published and applied.
 * Bounded: about 15 s of load plus the drain, under a minute in all.
 */
import os from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import type { NewEvent } from '../src';
import {
  EVENTS_MIGRATIONS_DIRECTORY,
  EVENTS_MIGRATIONS_TABLE,
  EventConsumer,
  OutboxRelay,
  appendEvent,
  appendEvents,
  createKafka,
  ensureTopics,
  kafkaClientName,
  onEvent,
} from '../src';
import { createLogger } from '@puhui/logging';
import { createPool, migrate, withTransaction } from '@puhui/postgres';
import { createTestDatabase, testKafkaBrokers, uniqueSuffix, waitFor } from '@puhui/testing';
import { thingCreated } from '../test/support';

const RATE_PER_SECOND = Number(process.env.BENCH_RATE ?? 200);
const LOAD_SECONDS = Number(process.env.BENCH_SECONDS ?? 15);
const BACKLOG_EVENTS = Number(process.env.BENCH_BACKLOG ?? 5_000);
const SOURCE = 'events-test';
const PARTITIONS = 3;
/** libs/config's OUTBOX_BATCH_SIZE_MAX and OUTBOX_POLL_INTERVAL_MS defaults. */
const RELAY_BATCH_SIZE_MAX = 500;
const RELAY_POLL_INTERVAL_MS = 100;
const DRAIN_TIMEOUT_MS = 60_000;

interface LagFigures {
  events: number;
  p50_ms: number;
  p95_ms: number;
  p99_ms: number;
  max_ms: number;
}

function round(value: number): number {
  return Math.round(value * 10) / 10;
}

async function main(): Promise<void> {
  const client = kafkaClientName();
  const logger = createLogger({ service: 'bench-outbox', level: 'warn' });
  const database = await createTestDatabase(`bench_outbox_${client}`);
  await migrate({
    connectionString: database.url,
    directory: EVENTS_MIGRATIONS_DIRECTORY,
    table: EVENTS_MIGRATIONS_TABLE,
  });
  const pool = createPool({
    connectionString: database.url,
    connectionsMax: 5,
    applicationName: 'bench-outbox',
  });
  const relayPool = createPool({
    connectionString: database.url,
    connectionsMax: 1,
    applicationName: 'bench-relay',
  });
  await pool.query(
    'CREATE TABLE applied (id text PRIMARY KEY, event_time timestamptz NOT NULL, applied_at timestamptz NOT NULL DEFAULT clock_timestamp())',
  );
  const kafka = createKafka({ brokers: testKafkaBrokers(), clientId: `bench-outbox-${client}`, logger });
  const topicPrefix = `bench.${uniqueSuffix()}.`;
  await ensureTopics(kafka, [thingCreated.topic], {
    partitions: PARTITIONS,
    replicationFactor: 1,
    prefix: topicPrefix,
  });
  const newRelay = () =>
    new OutboxRelay({
      pool: relayPool,
      kafka,
      logger,
      batchSizeMax: RELAY_BATCH_SIZE_MAX,
      pollIntervalMs: RELAY_POLL_INTERVAL_MS,
      topicPrefix,
    });
  const consumer = new EventConsumer({
    kafka,
    pool,
    logger,
    groupId: `bench-applier-${uniqueSuffix()}`,
    topicPrefix,
    producers: { [thingCreated.topic]: SOURCE },
    handlers: [
      onEvent(thingCreated, async (event, transaction) => {
        await transaction.query('INSERT INTO applied (id, event_time) VALUES ($1, $2)', [
          event.data.thing_id,
          event.time,
        ]);
      }),
    ],
  });
  const appliedCount = async () =>
    Number((await pool.query<{ count: string }>('SELECT count(*) FROM applied')).rows[0]?.count);
  const loadAverageStart = os.loadavg()[0] ?? 0;
  let relay = newRelay();
  try {
    await consumer.start();
    await consumer.joined();
    relay.start();

    // 1. Steady load.
    const loadEvents = RATE_PER_SECOND * LOAD_SECONDS;
    const startedAt = performance.now();
    const inFlight: Promise<unknown>[] = [];
    for (let index = 0; index < loadEvents; index += 1) {
      const dueAt = startedAt + (index * 1000) / RATE_PER_SECOND;
      const wait = dueAt - performance.now();
      if (wait > 0) await sleep(wait);
      const id = `steady-${index}`;
      inFlight.push(
        withTransaction(pool, (transaction) =>
          appendEvent(transaction, SOURCE, {
            definition: thingCreated,
            subject: id,
            data: { thing_id: id, amount_minor: index },
          }),
        ),
      );
    }
    await Promise.all(inFlight);
    const offeredSeconds = (performance.now() - startedAt) / 1000;
    await waitFor(async () => (await appliedCount()) >= loadEvents, {
      timeoutMs: DRAIN_TIMEOUT_MS,
      description: 'steady events applied',
    });
    const lagOf = async (sql: string): Promise<LagFigures> => {
      const { rows } = await pool.query<Record<keyof LagFigures, string>>(
        `WITH lag AS (${sql})
         SELECT count(*) AS events,
                percentile_disc(0.5) WITHIN GROUP (ORDER BY ms) AS p50_ms,
                percentile_disc(0.95) WITHIN GROUP (ORDER BY ms) AS p95_ms,
                percentile_disc(0.99) WITHIN GROUP (ORDER BY ms) AS p99_ms,
                max(ms) AS max_ms FROM lag`,
      );
      const row = rows[0];
      if (row === undefined) throw new Error('no lag figures');
      return {
        events: Number(row.events),
        p50_ms: round(Number(row.p50_ms)),
        p95_ms: round(Number(row.p95_ms)),
        p99_ms: round(Number(row.p99_ms)),
        max_ms: round(Number(row.max_ms)),
      };
    };
    const publishLag = await lagOf(
      `SELECT extract(epoch FROM published_at - (envelope ->> 'time')::timestamptz) * 1000 AS ms
         FROM outbox_events WHERE subject LIKE 'steady-%'`,
    );
    const appliedLag = await lagOf(
      `SELECT extract(epoch FROM applied_at - event_time) * 1000 AS ms FROM applied`,
    );

    // 2. Drain a backlog.
    await relay.stop();
    const backlog: NewEvent<typeof thingCreated>[] = Array.from({ length: BACKLOG_EVENTS }, (_, index) => ({
      definition: thingCreated,
      subject: `backlog-${index}`,
      data: { thing_id: `backlog-${index}`, amount_minor: index },
    }));
    await withTransaction(pool, (transaction) => appendEvents(transaction, SOURCE, backlog));
    const appliedBefore = await appliedCount();
    relay = newRelay();
    const drainStartedAt = performance.now();
    relay.start();
    const publishedMs = await waitFor(
      async () => (await relay.backlog()) === 0 && performance.now() - drainStartedAt,
      {
        timeoutMs: DRAIN_TIMEOUT_MS,
        intervalMs: 10,
        description: 'backlog published',
      },
    );
    const appliedMs = await waitFor(
      async () =>
        (await appliedCount()) >= appliedBefore + BACKLOG_EVENTS && performance.now() - drainStartedAt,
      { timeoutMs: DRAIN_TIMEOUT_MS, intervalMs: 10, description: 'backlog applied' },
    );
    const figures = {
      client,
      at: new Date().toISOString(),
      load_average_1m: { start: round(loadAverageStart), end: round(os.loadavg()[0] ?? 0) },
      steady: {
        rate_per_second: RATE_PER_SECOND,
        offered_seconds: round(offeredSeconds),
        publish_lag: publishLag,
        applied_lag: appliedLag,
      },
      drain: {
        events: BACKLOG_EVENTS,
        published_per_second: Math.round((BACKLOG_EVENTS * 1000) / publishedMs),
        applied_per_second: Math.round((BACKLOG_EVENTS * 1000) / appliedMs),
      },
      duplicates_dropped: consumer.counts.duplicate,
    };
    process.stdout.write(`${JSON.stringify(figures)}\n`);
  } finally {
    await relay.stop();
    await consumer.stop();
    const admin = kafka.admin();
    await admin.connect();
    const topics = (await admin.listTopics()).filter((topic) => topic.startsWith(topicPrefix));
    if (topics.length > 0) await admin.deleteTopics({ topics });
    await admin.disconnect();
    await relayPool.end();
    await pool.end();
    await database.drop();
  }
}

void main().catch((error: unknown) => {
  process.stderr.write(`${String((error as Error).stack ?? error)}\n`);
  process.exitCode = 1;
});
