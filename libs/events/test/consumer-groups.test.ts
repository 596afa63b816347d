/**
 * Runs that share a broker under different topic prefixes (a test run beside `npm start`,
 * two test runs, two tenants) must not share consumer groups: KafkaJS assigns a group's
 * partitions over the union of its members' topics, so a member of one run gets partitions of
 * the other run's topic, ignores them, and those events are never applied.
 */
import { EventConsumer, appendEvent } from '@puhui/events';
import type { OutboxRelay } from '@puhui/events';
import { withTransaction } from '@puhui/postgres';
import { captureLogger, uniqueSuffix, waitFor } from '@puhui/testing';
import { TEST_PRODUCERS, applyThingCreated, setUpEventsTest, testRelay, thingCreated } from './support';
import type { EventsTestContext } from './support';

const { logger } = captureLogger('events-test', 'warn');
const EVENTS_PER_RUN = 12;

interface Run {
  context: EventsTestContext;
  relay: OutboxRelay;
  consumer: EventConsumer;
}

const runs: Run[] = [];

async function startRun(label: string, groupId: string): Promise<Run> {
  const context = await setUpEventsTest(label, logger);
  const relay = testRelay(context, logger);
  const consumer = new EventConsumer({
    kafka: context.kafka,
    pool: context.pool,
    logger,
    groupId,
    topicPrefix: context.topicPrefix,
    producers: TEST_PRODUCERS,
    handlers: [applyThingCreated],
  });
  const run = { context, relay, consumer };
  runs.push(run);
  return run;
}

afterAll(async () => {
  for (const run of runs) {
    await run.consumer.stop();
    await run.relay.stop();
    await run.context.close();
  }
});

it('two runs with the same consumer group name under different topic prefixes each apply all their events', async () => {
  // The same logical group in both runs, as two copies of one service would have.
  const groupId = `things-applier-${uniqueSuffix()}`;
  const first = await startRun('events_groups_a', groupId);
  const second = await startRun('events_groups_b', groupId);
  await Promise.all([first.consumer.start(), second.consumer.start()]);
  await Promise.all([first.consumer.joined(), second.consumer.joined()]);
  expect(first.consumer.kafkaGroupId).toBe(`${first.context.topicPrefix}${groupId}`);

  for (const run of [first, second]) {
    for (let index = 0; index < EVENTS_PER_RUN; index += 1) {
      const id = `thing-${index}-${uniqueSuffix()}`;
      await withTransaction(run.context.pool, async (client) => {
        await client.query('INSERT INTO things (id, amount_minor) VALUES ($1, $2)', [id, index]);
        await appendEvent(client, 'events-test', {
          definition: thingCreated,
          subject: id,
          data: { thing_id: id, amount_minor: index },
        });
      });
    }
    expect(await run.relay.publishBatch()).toBe(EVENTS_PER_RUN);
  }

  for (const run of [first, second]) {
    await waitFor(
      async () => {
        const { rows } = await run.context.pool.query<{ applied: string }>(
          'SELECT count(*) AS applied FROM applied_things',
        );
        return Number(rows[0]?.applied) === EVENTS_PER_RUN;
      },
      {
        timeoutMs: 20_000,
        description: `all ${EVENTS_PER_RUN} events applied under ${run.context.topicPrefix}`,
      },
    );
  }
});
