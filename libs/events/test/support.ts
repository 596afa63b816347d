import path from 'node:path';
import type { Kafka } from 'kafkajs';
import { z } from 'zod';
import { defineEvent } from '@puhui/contracts';
import {
  EVENTS_MIGRATIONS_DIRECTORY,
  EVENTS_MIGRATIONS_TABLE,
  OutboxRelay,
  createKafka,
  ensureTopics,
  onEvent,
} from '@puhui/events';
import type { Logger } from '@puhui/logging';
import { createPool, migrate } from '@puhui/postgres';
import type { Pool } from '@puhui/postgres';
import { createTestDatabase, testKafkaBrokers, uniqueSuffix } from '@puhui/testing';
import type { TestDatabase } from '@puhui/testing';

export const TEST_TOPIC = 'puhui.things.v1';
/** The one producer of the test topic, as TOPIC_PRODUCERS names the real topics' producers. */
export const TEST_SOURCE = 'events-test';
export const TEST_PRODUCERS: Readonly<Record<string, string>> = { [TEST_TOPIC]: TEST_SOURCE };
export const thingCreated = defineEvent(
  'puhui.thing.created.v1',
  TEST_TOPIC,
  z.strictObject({ thing_id: z.string(), amount_minor: z.number().int() }),
);
export const thingFailed = defineEvent(
  'puhui.thing.failed.v1',
  TEST_TOPIC,
  z.strictObject({ thing_id: z.string() }),
);

export interface EventsTestContext {
  database: TestDatabase;
  pool: Pool;
  kafka: Kafka;
  topicPrefix: string;
  close: () => Promise<void>;
}

export async function setUpEventsTest(label: string, logger: Logger): Promise<EventsTestContext> {
  const database = await createTestDatabase(label);
  await migrate({
    connectionString: database.url,
    directory: EVENTS_MIGRATIONS_DIRECTORY,
    table: EVENTS_MIGRATIONS_TABLE,
  });
  const pool = createPool({ connectionString: database.url, connectionsMax: 5, applicationName: label });
  await pool.query('CREATE TABLE things (id text PRIMARY KEY, amount_minor bigint NOT NULL)');
  await pool.query('CREATE TABLE applied_things (id text PRIMARY KEY, applied_count integer NOT NULL)');
  const kafka = createKafka({ brokers: testKafkaBrokers(), clientId: label, logger });
  const topicPrefix = `test.${uniqueSuffix()}.`;
  await ensureTopics(kafka, [TEST_TOPIC], { partitions: 3, replicationFactor: 1, prefix: topicPrefix });
  return {
    database,
    pool,
    kafka,
    topicPrefix,
    close: async () => {
      await pool.end();
      await database.drop();
    },
  };
}

/** A relay on the test's database and topics that polls every 20 ms, 100 events a batch. */
export function testRelay(context: EventsTestContext, logger: Logger): OutboxRelay {
  return new OutboxRelay({
    pool: context.pool,
    kafka: context.kafka,
    logger,
    batchSizeMax: 100,
    pollIntervalMs: 20,
    topicPrefix: context.topicPrefix,
  });
}

/** Messages ever written to a topic: the sum over partitions of high minus low watermark. */
export async function messageCount(kafka: Kafka, topic: string): Promise<number> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const offsets = await admin.fetchTopicOffsets(topic);
    return offsets.reduce((sum, offset) => sum + Number(offset.high) - Number(offset.low), 0);
  } finally {
    await admin.disconnect();
  }
}

export const FIXTURES_DIRECTORY = path.join(__dirname, 'fixtures');

/** Node's arguments running a fixture script (TypeScript, through tsx) with its own arguments. */
export function fixtureArguments(fixture: string, ...fixtureArgs: string[]): string[] {
  return ['--require', require.resolve('tsx/cjs'), path.join(FIXTURES_DIRECTORY, fixture), ...fixtureArgs];
}

/** The handler every test consumer uses: counts each `thing.created` applied into `applied_things`. */
export const applyThingCreated = onEvent(thingCreated, async (event, client) => {
  await client.query(
    `INSERT INTO applied_things (id, applied_count) VALUES ($1, 1)
     ON CONFLICT (id) DO UPDATE SET applied_count = applied_things.applied_count + 1`,
    [event.data.thing_id],
  );
});
