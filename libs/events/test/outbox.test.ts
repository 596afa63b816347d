import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { promisify } from 'node:util';
import { dlqTopicOf, formatSequence } from '@puhui/contracts';
import type { OutboxRelay } from '@puhui/events';
import { EventConsumer, appendEvent, onEvent } from '@puhui/events';
import { withTransaction } from '@puhui/postgres';
import { captureLogger, recordTopic, testKafkaBrokers, uniqueSuffix, waitFor } from '@puhui/testing';
import {
  applyThingCreated,
  fixtureArguments,
  TEST_PRODUCERS,
  TEST_TOPIC,
  messageCount,
  setUpEventsTest,
  testRelay,
  thingCreated,
  thingFailed,
} from './support';
import type { EventsTestContext } from './support';

const { logger } = captureLogger('events-test', 'warn');
let context: EventsTestContext;
let relay: OutboxRelay;
let consumer: EventConsumer;

function newRelay(): OutboxRelay {
  return testRelay(context, logger);
}

async function createThing(id: string, amountMinor: number): Promise<void> {
  await withTransaction(context.pool, async (client) => {
    await client.query('INSERT INTO things (id, amount_minor) VALUES ($1, $2)', [id, amountMinor]);
    await appendEvent(client, 'events-test', {
      definition: thingCreated,
      subject: id,
      data: { thing_id: id, amount_minor: amountMinor },
    });
  });
}

async function appliedCount(id: string): Promise<number | undefined> {
  const { rows } = await context.pool.query<{ applied_count: number }>(
    'SELECT applied_count FROM applied_things WHERE id = $1',
    [id],
  );
  return rows[0]?.applied_count;
}

const physicalTopic = () => `${context.topicPrefix}${TEST_TOPIC}`;

beforeAll(async () => {
  context = await setUpEventsTest('events_outbox', logger);
  relay = newRelay();
  consumer = new EventConsumer({
    kafka: context.kafka,
    pool: context.pool,
    logger,
    groupId: `things-applier-${uniqueSuffix()}`,
    topicPrefix: context.topicPrefix,
    attemptsMax: 3,
    retryBackoffMs: 10,
    producers: TEST_PRODUCERS,
    handlers: [
      applyThingCreated,
      onEvent(thingFailed, async () => {
        throw new Error('this handler always fails');
      }),
    ],
  });
  await consumer.start();
  await consumer.joined();
});

afterAll(async () => {
  await consumer.stop();
  await relay.stop();
  await context.close();
});

describe('transactional outbox', () => {
  it('writes a row and its event in one transaction, publishes it, and applies it once', async () => {
    await createThing('thing-1', 3555);
    const { rows } = await context.pool.query(
      'SELECT event_type, subject, sequence, published_at FROM outbox_events',
    );
    expect(rows).toEqual([
      { event_type: 'puhui.thing.created.v1', subject: 'thing-1', sequence: '1', published_at: null },
    ]);

    expect(await relay.publishBatch()).toBe(1);
    expect(await relay.backlog()).toBe(0);
    expect(await messageCount(context.kafka, physicalTopic())).toBe(1);
    await waitFor(() => appliedCount('thing-1'), { description: 'thing-1 applied' });
    expect(await appliedCount('thing-1')).toBe(1);
  });

  it('applies an event published twice only once', async () => {
    // Read before publishing: a fast consumer may count the duplicate before publishBatch returns.
    const duplicatesBefore = consumer.counts.duplicate;
    await createThing('thing-2', 100);
    expect(await relay.publishBatch()).toBe(1);
    // Publish the very same event again, as a relay that lost its mark would.
    await context.pool.query("UPDATE outbox_events SET published_at = NULL WHERE subject = 'thing-2'");
    expect(await relay.publishBatch()).toBe(1);
    await waitFor(() => consumer.counts.duplicate > duplicatesBefore, { description: 'duplicate seen' });
    expect(await appliedCount('thing-2')).toBe(1);
  });

  it('publishes nothing for a rolled-back transaction', async () => {
    await expect(
      withTransaction(context.pool, async (client) => {
        await client.query("INSERT INTO things (id, amount_minor) VALUES ('thing-rolled-back', 1)");
        await appendEvent(client, 'events-test', {
          definition: thingCreated,
          subject: 'thing-rolled-back',
          data: { thing_id: 'thing-rolled-back', amount_minor: 1 },
        });
        throw new Error('business rule said no');
      }),
    ).rejects.toThrow('business rule said no');
    const before = await messageCount(context.kafka, physicalTopic());
    expect(await relay.publishBatch()).toBe(0);
    expect(await messageCount(context.kafka, physicalTopic())).toBe(before);
    const { rows } = await context.pool.query("SELECT 1 FROM things WHERE id = 'thing-rolled-back'");
    expect(rows).toHaveLength(0);
  });

  it('refuses to write an event whose payload breaks its schema', async () => {
    await expect(
      withTransaction(context.pool, (client) =>
        appendEvent(client, 'events-test', {
          definition: thingCreated,
          subject: 'thing-bad',
          data: { thing_id: 'thing-bad', amount_minor: 1.5 },
        }),
      ),
    ).rejects.toThrow();
    expect(await relay.backlog()).toBe(0);
  });

  it('numbers events per aggregate and keeps them in order on one partition', async () => {
    for (let amount = 1; amount <= 5; amount += 1) {
      await withTransaction(context.pool, (client) =>
        appendEvent(client, 'events-test', {
          definition: thingCreated,
          subject: 'thing-ordered',
          data: { thing_id: 'thing-ordered', amount_minor: amount },
        }),
      );
    }
    const { rows } = await context.pool.query<{ sequence: string }>(
      "SELECT sequence FROM outbox_events WHERE subject = 'thing-ordered' ORDER BY position",
    );
    expect(rows.map((row) => Number(row.sequence))).toEqual([1, 2, 3, 4, 5]);
    // The topic has 3 partitions: the order holds only if every record of the aggregate is on
    // the same one (keyed by subject) and written there in sequence.
    const recorder = await recordTopic(physicalTopic());
    try {
      relay.start();
      const records = await recorder.waitForCount(5, (record) => record.value.subject === 'thing-ordered');
      expect(records).toHaveLength(5);
      expect(new Set(records.map((record) => record.partition)).size).toBe(1);
      expect(records.map((record) => record.key)).toEqual(Array(5).fill('thing-ordered'));
      expect(records.map((record) => Number(record.value.sequence))).toEqual([1, 2, 3, 4, 5]);
      expect(records.map((record) => (record.value.data as { amount_minor: number }).amount_minor)).toEqual([
        1, 2, 3, 4, 5,
      ]);
      await waitFor(async () => (await appliedCount('thing-ordered')) === 5, { description: 'five applied' });
    } finally {
      await recorder.stop();
      await relay.stop();
    }
    relay = newRelay();
  });

  it('sends a poison message to the DLQ and moves on', async () => {
    const producer = context.kafka.producer();
    await producer.connect();
    await producer.send({
      topic: physicalTopic(),
      acks: -1,
      messages: [
        { key: 'poison', value: 'this is not JSON' },
        { key: 'poison', value: JSON.stringify({ specversion: '1.0', type: 'no envelope' }) },
        // Well-formed, but claimed by a service that is not the topic's producer.
        {
          key: 'thing-forged',
          value: JSON.stringify({
            specversion: '1.0',
            id: randomUUID(),
            source: 'someone-else',
            type: thingCreated.type,
            subject: 'thing-forged',
            time: new Date().toISOString(),
            datacontenttype: 'application/json',
            sequence: formatSequence(1),
            data: { thing_id: 'thing-forged', amount_minor: 1 },
          }),
        },
      ],
    });
    await producer.disconnect();
    await withTransaction(context.pool, async (client) => {
      await appendEvent(client, 'events-test', {
        definition: thingFailed,
        subject: 'thing-fails',
        data: { thing_id: 'thing-fails' },
      });
    });
    await relay.publishBatch();
    await createThing('thing-after-poison', 7);
    await relay.publishBatch();

    await waitFor(() => appliedCount('thing-after-poison'), { description: 'the consumer moved on' });
    await waitFor(
      async () =>
        (await messageCount(context.kafka, `${context.topicPrefix}${dlqTopicOf(TEST_TOPIC)}`)) === 4,
      {
        description: 'four messages in the DLQ',
      },
    );

    const reasons = await readDlqReasons(4);
    expect(reasons.sort()).toEqual([
      'handler_failed',
      'invalid_envelope',
      'malformed_json',
      'unexpected_source',
    ]);
    expect(await appliedCount('thing-forged')).toBeUndefined();
  });

  it('does not start a consumer of a topic whose producer it does not know', () => {
    expect(
      () =>
        new EventConsumer({
          kafka: context.kafka,
          pool: context.pool,
          logger,
          groupId: 'no-producer',
          handlers: [applyThingCreated],
        }),
    ).toThrow(`no producer is known for topic ${TEST_TOPIC}`);
  });

  it('leaves a duplicate on Kafka when the relay is killed between publishing and marking, and the consumer ignores it', async () => {
    await createThing('thing-crash', 42);
    const topicBefore = await messageCount(context.kafka, physicalTopic());
    const child = promisify(execFile)(
      process.execPath,
      fixtureArguments(
        'relay-killed-after-publish.ts',
        context.database.url,
        testKafkaBrokers().join(','),
        context.topicPrefix,
      ),
      { cwd: path.join(__dirname, '..') },
    );
    const exit = await child.then(
      () => ({ signal: null, stderr: '' }),
      (error: { signal?: string; stderr?: string }) => ({
        signal: error.signal ?? null,
        stderr: error.stderr ?? '',
      }),
    );
    expect(exit).toEqual({ signal: 'SIGKILL', stderr: '' });
    expect(await messageCount(context.kafka, physicalTopic())).toBe(topicBefore + 1);
    expect(await relay.backlog()).toBe(1);

    const duplicatesBefore = consumer.counts.duplicate;
    expect(await relay.publishBatch()).toBe(1);
    expect(await messageCount(context.kafka, physicalTopic())).toBe(topicBefore + 2);
    await waitFor(() => consumer.counts.duplicate > duplicatesBefore, {
      description: 'the duplicate skipped',
    });
    expect(await appliedCount('thing-crash')).toBe(1);
  });
});

async function readDlqReasons(expected: number): Promise<string[]> {
  const reader = context.kafka.consumer({ groupId: `dlq-reader-${uniqueSuffix()}` });
  const reasons: string[] = [];
  await reader.connect();
  await reader.subscribe({ topic: `${context.topicPrefix}${dlqTopicOf(TEST_TOPIC)}`, fromBeginning: true });
  await reader.run({
    eachMessage: async ({ message }) => {
      reasons.push(String(message.headers?.['puhui-dlq-reason']));
    },
  });
  await waitFor(() => reasons.length >= expected, { description: 'DLQ read' });
  await reader.disconnect();
  return reasons;
}
