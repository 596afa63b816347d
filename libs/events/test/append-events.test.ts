/**
 * appendEvents against the real outbox tables: a batch is stored as the same events appended
 * one by one would be (the reference), numbered per aggregate after what is already there.
 */
import { appendEvent, appendEvents } from '@puhui/events';
import type { NewEvent } from '@puhui/events';
import { withTransaction } from '@puhui/postgres';
import { captureLogger } from '@puhui/testing';
import { setUpEventsTest, testRelay, thingCreated, thingFailed } from './support';
import type { EventsTestContext } from './support';

const { logger } = captureLogger('append-events-test', 'warn');
let context: EventsTestContext;

beforeAll(async () => {
  context = await setUpEventsTest('events_append_batch', logger);
});

afterAll(async () => {
  await context.close();
});

type ThingEvent = NewEvent<typeof thingCreated | typeof thingFailed>;

/** Five events on three aggregates of two types, one aggregate three times. */
function batchAbout(prefix: string): ThingEvent[] {
  const created = (id: string, amountMinor: number): ThingEvent => ({
    definition: thingCreated,
    subject: `${prefix}-${id}`,
    data: { thing_id: `${prefix}-${id}`, amount_minor: amountMinor },
  });
  return [
    created('a', 1),
    created('b', 2),
    created('a', 3),
    { definition: thingFailed, subject: `${prefix}-c`, key: 'by-key', data: { thing_id: `${prefix}-c` } },
    created('a', 4),
  ];
}

/** What the outbox holds for the subjects starting with `prefix`, in publication order. */
async function storedEvents(prefix: string) {
  const { rows } = await context.pool.query<{
    topic: string;
    message_key: string;
    event_type: string;
    subject: string;
    sequence: string;
    envelope: { sequence: string; subject: string; data: unknown };
  }>(
    `SELECT topic, message_key, event_type, subject, sequence, envelope FROM outbox_events
     WHERE subject LIKE $1 ORDER BY position`,
    [`${prefix}-%`],
  );
  return rows.map(({ envelope, ...row }) => ({
    ...row,
    subject: row.subject.slice(prefix.length),
    message_key: row.message_key.replace(prefix, ''),
    envelope_sequence: envelope.sequence,
    data: JSON.stringify(envelope.data).replaceAll(prefix, ''),
  }));
}

describe('appendEvents', () => {
  it('stores a batch exactly as the same events appended one by one', async () => {
    await withTransaction(context.pool, async (client) => {
      for (const event of batchAbout('single')) await appendEvent(client, 'events-test', event);
    });
    const returned = await withTransaction(context.pool, (client) =>
      appendEvents(client, 'events-test', batchAbout('batch')),
    );

    const reference = await storedEvents('single');
    expect(await storedEvents('batch')).toEqual(reference);
    expect(reference.map((event) => [event.subject, Number(event.sequence)])).toEqual([
      ['-a', 1],
      ['-b', 1],
      ['-a', 2],
      ['-c', 1],
      ['-a', 3],
    ]);
    expect(reference[3]).toMatchObject({ message_key: 'by-key', event_type: 'puhui.thing.failed.v1' });
    expect(returned.map((event) => event.sequence)).toEqual(
      reference.map((event) => event.envelope_sequence),
    );
  });

  it('numbers a batch after the events an aggregate already has', async () => {
    await withTransaction(context.pool, (client) => appendEvents(client, 'events-test', batchAbout('twice')));
    await withTransaction(context.pool, (client) => appendEvents(client, 'events-test', batchAbout('twice')));
    const sequences = (await storedEvents('twice'))
      .filter((event) => event.subject === '-a')
      .map((event) => Number(event.sequence));
    expect(sequences).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('stores nothing of a batch with one event that breaks its schema', async () => {
    const batch = batchAbout('invalid');
    batch[1] = {
      definition: thingCreated,
      subject: 'invalid-b',
      data: { thing_id: 'invalid-b', amount_minor: 0.5 },
    };
    await expect(
      withTransaction(context.pool, (client) => appendEvents(client, 'events-test', batch)),
    ).rejects.toThrow();
    expect(await storedEvents('invalid')).toEqual([]);
  });

  it('answers an empty batch without writing', async () => {
    await expect(
      withTransaction(context.pool, (client) => appendEvents(client, 'events-test', [])),
    ).resolves.toEqual([]);
  });

  it('hands the relay events it publishes like any other', async () => {
    await withTransaction(context.pool, (client) =>
      appendEvents(client, 'events-test', batchAbout('relayed')),
    );
    const relay = testRelay(context, logger);
    try {
      await relay.publishBatch();
      expect(await relay.backlog()).toBe(0);
    } finally {
      await relay.stop();
    }
  });
});
