/**
 * The event pipeline's and the jobs' metrics on a real Postgres and Kafka: the outbox backlog is
 * the rows written and not relayed, the group's lag is the messages it has not committed, a
 * message sent to the DLQ shows in puhui_dlq_messages, and job passes count by outcome with the
 * leader gauge following the lock.
 */
import path from 'node:path';
import { z } from 'zod';
import { defineEvent } from '@puhui/contracts';
import { EventConsumer, OutboxRelay, appendEvent, onEvent } from '@puhui/events';
import { parseMetricsText, sampleValue } from '@puhui/metrics';
import type { Sample } from '@puhui/metrics';
import { createPool, databaseUrl, dropDatabase, withTransaction } from '@puhui/postgres';
import type { Pool } from '@puhui/postgres';
import { startService } from '@puhui/service';
import type { RunningService, ServiceConfig, ServiceDefinition } from '@puhui/service';
import { captureLogger, testPostgresUrl, uniqueSuffix, waitFor } from '@puhui/testing';
import { configOf, testEnvironment } from './widget-service';

const TOPIC = 'puhui.widgets.v1';
const DLQ_TOPIC = `${TOPIC}.dlq`;
const GROUP = 'widget-counter';
const widgetMade = defineEvent('puhui.widget.made.v1', TOPIC, z.strictObject({ widget_id: z.string() }));
const { logger } = captureLogger('pipeline-metrics', 'warn');
/** Job passes this test runs: one every 50 ms. */
const JOB_INTERVAL_MS = 50;
/** The first key of the jobs' advisory locks (jobs.ts JOB_LOCK_NAMESPACE). */
const JOB_LOCK_NAMESPACE = 1_247_000_013;

/** Holds the consumer's handler until released: while held, nothing the group reads is committed. */
function gate() {
  let open: () => void = () => undefined;
  const opened = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { opened, open: () => open() };
}

async function scrape(url: string): Promise<Sample[]> {
  const response = await fetch(`${url}/metrics`);
  expect(response.status).toBe(200);
  const samples = parseMetricsText(await response.text());
  expect(samples.length).toBeGreaterThan(0);
  return samples;
}

function total(samples: readonly Sample[], name: string): number {
  return samples.filter((sample) => sample.name === name).reduce((sum, sample) => sum + sample.value, 0);
}

describe('event pipeline and job metrics', () => {
  const held = gate();
  let config: ServiceConfig;
  let service: RunningService<ServiceConfig, 'kafka'>;
  let consumer: EventConsumer;
  let lockHolder: Pool;

  beforeAll(async () => {
    config = configOf(
      testEnvironment({
        DATABASE_NAME: `puhui_t_a_${uniqueSuffix()}`,
        // The service's relay passes once at start and then waits: the test relays by hand.
        OUTBOX_POLL_INTERVAL_MS: '600000',
        METRICS_COLLECT_MAX_AGE_MS: '0',
      }),
    );
    const definition: ServiceDefinition<ServiceConfig, 'kafka'> = {
      name: 'widget-service',
      config,
      migrationsDirectory: path.join(__dirname, 'migrations'),
      kafka: {
        publishes: [TOPIC],
        consumers: ({ pool, kafka }) => {
          consumer = new EventConsumer({
            kafka,
            pool,
            logger,
            groupId: GROUP,
            topicPrefix: config.KAFKA_TOPIC_PREFIX,
            producers: { [TOPIC]: 'widget-service' },
            retryBackoffMs: 1,
            handlers: [onEvent(widgetMade, () => held.opened)],
          });
          return [consumer];
        },
      },
      jobs: () => [
        {
          name: 'sweep',
          intervalMs: JOB_INTERVAL_MS,
          timeoutMs: 1000,
          leader: true,
          run: async () => undefined,
        },
        {
          name: 'flaky',
          intervalMs: JOB_INTERVAL_MS,
          timeoutMs: 1000,
          run: () => Promise.reject(new Error('flaky job fails')),
        },
        {
          name: 'slow',
          intervalMs: JOB_INTERVAL_MS,
          timeoutMs: 20,
          run: (signal) => new Promise((resolve) => signal.addEventListener('abort', () => resolve())),
        },
      ],
    };
    service = await startService(definition, { logger });
    // The consumers start in the background once the topics exist.
    await waitFor(() => consumer.joined().then(() => true), {
      description: 'the consumer joining',
      timeoutMs: 30_000,
    });
    lockHolder = createPool({
      connectionString: databaseUrl(testPostgresUrl(), config.DATABASE_NAME),
      connectionsMax: 1,
      applicationName: 'pipeline-metrics-test',
    });
  });

  afterAll(async () => {
    held.open();
    await lockHolder?.end();
    await service?.shutdown('test over');
    await dropDatabase(testPostgresUrl(), config.DATABASE_NAME);
  });

  it('reads the outbox backlog as the rows written and not relayed, and the group lag as what it has not committed', async () => {
    const before = await scrape(service.url);
    expect(sampleValue(before, 'puhui_outbox_backlog_events')).toBe(0);
    expect(sampleValue(before, 'puhui_outbox_oldest_unpublished_age_seconds')).toBe(0);
    const { pool } = service.dependencies;
    await withTransaction(pool, async (client) => {
      for (let index = 0; index < 3; index += 1)
        await appendEvent(client, 'widget-service', {
          definition: widgetMade,
          subject: `widget-${index}`,
          data: { widget_id: `widget-${index}` },
        });
    });
    await pool.query(
      "UPDATE outbox_events SET created_at = now() - interval '90 seconds' WHERE position = 1",
    );
    const waiting = await scrape(service.url);
    expect(sampleValue(waiting, 'puhui_outbox_backlog_events')).toBe(3);
    const age = sampleValue(waiting, 'puhui_outbox_oldest_unpublished_age_seconds') ?? 0;
    expect(age).toBeGreaterThanOrEqual(90);
    expect(age).toBeLessThan(600);

    const relay = new OutboxRelay({
      pool,
      kafka: service.dependencies.kafka,
      logger,
      batchSizeMax: 100,
      pollIntervalMs: 20,
      topicPrefix: config.KAFKA_TOPIC_PREFIX,
    });
    try {
      expect(await relay.publishBatch()).toBe(3);
    } finally {
      await relay.stop();
    }
    const relayed = await scrape(service.url);
    expect(sampleValue(relayed, 'puhui_outbox_backlog_events')).toBe(0);
    expect(sampleValue(relayed, 'puhui_outbox_oldest_unpublished_age_seconds')).toBe(0);
    // The handler holds the first message: the group has committed none of the three.
    const lags = relayed.filter(
      (sample) => sample.name === 'puhui_kafka_consumer_lag_messages' && sample.labels.group === GROUP,
    );
    expect(lags.map((sample) => sample.labels.partition).sort()).toEqual(['0', '1', '2']);
    expect(lags.every((sample) => sample.labels.topic === TOPIC)).toBe(true);
    expect(total(lags, 'puhui_kafka_consumer_lag_messages')).toBe(3);

    held.open();
    const caughtUp = await waitFor(
      async () => {
        const samples = await scrape(service.url);
        return total(samples, 'puhui_kafka_consumer_lag_messages') === 0 && samples;
      },
      { description: 'the group committing the three events' },
    );
    expect(
      sampleValue(caughtUp, 'puhui_events_consumed_total', {
        group: GROUP,
        topic: TOPIC,
        outcome: 'applied',
      }),
    ).toBe(3);
  });

  it('shows a message sent to the DLQ in puhui_dlq_messages and counts it dead-lettered', async () => {
    const before = await scrape(service.url);
    expect(sampleValue(before, 'puhui_dlq_messages', { topic: DLQ_TOPIC })).toBe(0);
    const deadLetteredBefore = { group: GROUP, topic: TOPIC, outcome: 'dead_lettered' };
    expect(sampleValue(before, 'puhui_events_consumed_total', deadLetteredBefore)).toBe(0);
    const producer = service.dependencies.kafka.producer({ allowAutoTopicCreation: false });
    await producer.connect();
    try {
      await producer.send({
        topic: `${config.KAFKA_TOPIC_PREFIX}${TOPIC}`,
        messages: [{ key: 'poison', value: 'not json' }],
      });
    } finally {
      await producer.disconnect();
    }
    const after = await waitFor(
      async () => {
        const samples = await scrape(service.url);
        const deadLettered = sampleValue(samples, 'puhui_events_consumed_total', {
          group: GROUP,
          topic: TOPIC,
          outcome: 'dead_lettered',
        });
        // The count moves once the DLQ acknowledged the message: wait for it, not the DLQ alone.
        return deadLettered === 1 && samples;
      },
      { description: 'the poison message dead-lettered' },
    );
    expect(sampleValue(after, 'puhui_dlq_messages', { topic: DLQ_TOPIC })).toBe(1);
    expect(
      sampleValue(after, 'puhui_events_consumed_total', {
        group: GROUP,
        topic: TOPIC,
        outcome: 'dead_lettered',
      }),
    ).toBe(1);
    expect(consumer.counts.dead_lettered).toBe(1);
  });

  it('counts job passes by outcome and follows the leader lock', async () => {
    const running = await waitFor(async () => {
      const samples = await scrape(service.url);
      const counted = ['ok', 'failed', 'timed_out'].map((outcome) =>
        sampleValue(samples, 'puhui_job_runs_total', {
          job: { ok: 'sweep', failed: 'flaky', timed_out: 'slow' }[outcome] as string,
          outcome,
        }),
      );
      return counted.every((count) => (count ?? 0) > 0) && samples;
    });
    expect(sampleValue(running, 'puhui_job_leader', { job: 'sweep' })).toBe(1);
    // Every outcome's series exists from the start (at 0), so increase() sees the first one.
    expect(sampleValue(running, 'puhui_job_runs_total', { job: 'flaky', outcome: 'ok' })).toBe(0);
    expect(
      sampleValue(running, 'puhui_job_runs_total', { job: 'flaky', outcome: 'not_leader' }),
    ).toBeUndefined();

    // Another instance (this test's connection) holds the sweep's lock: this one is not the leader.
    const holder = await lockHolder.connect();
    try {
      await holder.query('SELECT pg_advisory_lock($1, hashtext($2))', [JOB_LOCK_NAMESPACE, 'sweep']);
      // The gauge falls when the lock is refused, the counter moves when that pass ends a moment
      // later: wait for both (a scrape between the two saw 0 and 0 on a loaded CI run).
      const follower = await waitFor(async () => {
        const samples = await scrape(service.url);
        const notLeader = sampleValue(samples, 'puhui_job_runs_total', {
          job: 'sweep',
          outcome: 'not_leader',
        });
        return (
          sampleValue(samples, 'puhui_job_leader', { job: 'sweep' }) === 0 && (notLeader ?? 0) > 0 && samples
        );
      });
      expect(
        sampleValue(follower, 'puhui_job_runs_total', { job: 'sweep', outcome: 'not_leader' }),
      ).toBeGreaterThan(0);
      await holder.query('SELECT pg_advisory_unlock($1, hashtext($2))', [JOB_LOCK_NAMESPACE, 'sweep']);
      await waitFor(
        async () => sampleValue(await scrape(service.url), 'puhui_job_leader', { job: 'sweep' }) === 1,
      );
    } finally {
      holder.release();
    }
  });
});
