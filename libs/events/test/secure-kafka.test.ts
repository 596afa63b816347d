/**
 * The library's relay and consumer over the local broker's SASL_SSL listener (SCRAM-SHA-512,
 * TLS verified against the local CA; infra/bin/infra, decision 0021): what a production
 * deployment configures, proven on the real broker. The password never reaches a log line.
 */
import { readFileSync } from 'node:fs';
import type { KafkaSettings } from '@puhui/events';
import {
  EventConsumer,
  OutboxRelay,
  appendEvent,
  createKafka,
  ensureTopics,
  kafkaReadiness,
} from '@puhui/events';
import { withTransaction } from '@puhui/postgres';
import { captureLogger, testSecureKafka, uniqueSuffix, waitFor } from '@puhui/testing';
import type { SecureKafka } from '@puhui/testing';
import { TEST_PRODUCERS, TEST_TOPIC, applyThingCreated, setUpEventsTest, thingCreated } from './support';
import type { EventsTestContext } from './support';

const captured = captureLogger('secure-kafka-test', 'debug');
let secure: SecureKafka;
let context: EventsTestContext;

function secureSettings(overrides: Partial<KafkaSettings> = {}): KafkaSettings {
  return {
    brokers: secure.brokers,
    clientId: 'secure-kafka-test',
    logger: captured.logger,
    tls: { ca: [readFileSync(secure.caFile, 'utf8')] },
    sasl: { mechanism: 'scram-sha-512', username: secure.username, password: secure.password },
    ...overrides,
  };
}

beforeAll(async () => {
  secure = await testSecureKafka();
  context = await setUpEventsTest('events_secure', captured.logger);
});

afterAll(async () => {
  await context.close();
});

it('publishes through the relay and applies through a consumer over SCRAM-SHA-512 and verified TLS', async () => {
  const kafka = createKafka(secureSettings());
  await ensureTopics(kafka, [TEST_TOPIC], {
    partitions: 3,
    replicationFactor: 1,
    prefix: context.topicPrefix,
  });
  const relay = new OutboxRelay({
    pool: context.pool,
    kafka,
    logger: captured.logger,
    batchSizeMax: 100,
    pollIntervalMs: 20,
    topicPrefix: context.topicPrefix,
  });
  const consumer = new EventConsumer({
    kafka,
    pool: context.pool,
    logger: captured.logger,
    groupId: `secure-applier-${uniqueSuffix()}`,
    topicPrefix: context.topicPrefix,
    attemptsMax: 3,
    retryBackoffMs: 10,
    producers: TEST_PRODUCERS,
    handlers: [applyThingCreated],
  });
  try {
    await consumer.start();
    await consumer.joined();
    relay.start();
    const id = `secure-${uniqueSuffix()}`;
    await withTransaction(context.pool, async (client) => {
      await appendEvent(client, 'events-test', {
        definition: thingCreated,
        subject: id,
        data: { thing_id: id, amount_minor: 1234 },
      });
    });
    const applied = await waitFor(async () => {
      const { rows } = await context.pool.query<{ applied_count: number }>(
        'SELECT applied_count FROM applied_things WHERE id = $1',
        [id],
      );
      return rows[0]?.applied_count;
    });
    expect(applied).toBe(1);
    const readiness = kafkaReadiness(kafka);
    await expect(readiness.check()).resolves.toBeUndefined();
    await readiness.close();
  } finally {
    await relay.stop();
    await consumer.stop();
  }
  // The broker the clients were sent to is the SASL_SSL listener's (its metadata names no other).
  const admin = kafka.admin();
  await admin.connect();
  const cluster = await admin.describeCluster();
  await admin.disconnect();
  expect(cluster.brokers.map((broker) => `${broker.host}:${broker.port}`)).toEqual(secure.brokers);
  expect(captured.text()).not.toContain(secure.password);
});

it('refuses a wrong password with a clear SASL authentication error, and logs no password', async () => {
  const wrongPassword = `wrong-${uniqueSuffix()}`;
  const readiness = kafkaReadiness(
    createKafka(
      secureSettings({
        sasl: { mechanism: 'scram-sha-512', username: secure.username, password: wrongPassword },
      }),
    ),
  );
  await expect(readiness.check()).rejects.toMatchObject({
    name: 'KafkaJSSASLAuthenticationError',
    message: expect.stringMatching(/SASL SCRAM SHA512 authentication failed: .*invalid credentials/u),
  });
  await readiness.close();
  expect(captured.text()).not.toContain(wrongPassword);
  expect(captured.text()).not.toContain(secure.password);
});

it('refuses the broker when its certificate does not chain to a trusted CA (no CA given)', async () => {
  const readiness = kafkaReadiness(createKafka(secureSettings({ tls: {} })));
  await expect(readiness.check()).rejects.toThrow(/self-signed certificate in certificate chain/u);
  await readiness.close();
});

it('does not reach the SASL_SSL listener without TLS and SASL (PLAINTEXT client)', async () => {
  const readiness = kafkaReadiness(createKafka(secureSettings({ tls: undefined, sasl: undefined })));
  await expect(readiness.check()).rejects.toThrow();
  await readiness.close();
});
