import { randomUUID } from 'node:crypto';
import { pruneEventTables } from '@puhui/events';
import { captureLogger } from '@puhui/testing';
import { setUpEventsTest } from './support';
import type { EventsTestContext } from './support';

const { logger } = captureLogger('events-retention-test', 'warn');
let context: EventsTestContext;

beforeAll(async () => {
  context = await setUpEventsTest('events_retention', logger);
});

afterAll(async () => {
  await context.close();
});

async function outboxRow(subject: string, sequence: number, publishedAgo: string | null, createdAgo: string) {
  await context.pool.query(
    `INSERT INTO outbox_events (event_id, topic, message_key, event_type, subject, sequence, envelope, created_at, published_at)
     VALUES ($1, 'puhui.things.v1', $2, 'puhui.thing.created.v1', $2, $3, '{}',
             now() - $4::interval, CASE WHEN $5::interval IS NULL THEN NULL ELSE now() - $5::interval END)`,
    [randomUUID(), subject, sequence, createdAgo, publishedAgo],
  );
}

async function inboxRow(processedAgo: string) {
  await context.pool.query(
    `INSERT INTO inbox_events (consumer_group, event_id, event_type, topic, kafka_partition, kafka_offset, processed_at)
     VALUES ('things', $1, 'puhui.thing.created.v1', 'puhui.things.v1', 0, 0, now() - $2::interval)`,
    [randomUUID(), processedAgo],
  );
}

describe('event table retention', () => {
  it('deletes published outbox rows and inbox rows past retention, in batches, and never an unpublished row', async () => {
    for (let sequence = 1; sequence <= 5; sequence += 1)
      await outboxRow('old', sequence, '10 days', '10 days');
    await outboxRow('stuck', 1, null, '10 days'); // never published: kept whatever its age
    await outboxRow('recent', 1, '1 hour', '1 hour');
    for (let index = 0; index < 3; index += 1) await inboxRow('40 days');
    await inboxRow('1 day');

    const pruned = await pruneEventTables(context.pool, {
      outboxRetentionMs: 7 * 24 * 3600_000,
      inboxRetentionMs: 30 * 24 * 3600_000,
      batchSize: 2,
    });
    expect(pruned).toEqual({ outbox: 5, inbox: 3 });
    const left = await context.pool.query<{ subject: string; published: boolean }>(
      'SELECT subject, published_at IS NOT NULL AS published FROM outbox_events ORDER BY position',
    );
    expect(left.rows).toEqual([
      { subject: 'stuck', published: false },
      { subject: 'recent', published: true },
    ]);
    const inbox = await context.pool.query<{ n: string }>('SELECT count(*) AS n FROM inbox_events');
    expect(Number(inbox.rows[0]?.n)).toBe(1);

    // Again: nothing more is past retention.
    expect(
      await pruneEventTables(context.pool, {
        outboxRetentionMs: 7 * 24 * 3600_000,
        inboxRetentionMs: 30 * 24 * 3600_000,
        batchSize: 2,
      }),
    ).toEqual({ outbox: 0, inbox: 0 });
  });
});
