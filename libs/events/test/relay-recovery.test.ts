import { createServer, connect } from 'node:net';
import type { AddressInfo, Server, Socket } from 'node:net';
import { OutboxRelay, appendEvent, createKafka, kafkaReadiness } from '@puhui/events';
import { withTransaction } from '@puhui/postgres';
import { captureLogger, testKafkaBrokers, waitFor } from '@puhui/testing';
import { TEST_TOPIC, messageCount, setUpEventsTest, thingCreated } from './support';
import type { EventsTestContext } from './support';

/** A TCP pass-through to the real broker that can be absent, standing in for Kafka being down. */
class BrokerDoor {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  constructor(
    readonly port: number,
    private readonly target: { host: string; port: number },
  ) {}

  static async onFreePort(target: { host: string; port: number }): Promise<BrokerDoor> {
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const { port } = probe.address() as AddressInfo;
    await new Promise((resolve) => probe.close(resolve));
    return new BrokerDoor(port, target);
  }

  async open(): Promise<void> {
    this.server = createServer((client) => {
      const upstream = connect(this.target.port, this.target.host);
      for (const socket of [client, upstream]) {
        this.sockets.add(socket);
        socket.on('error', () => undefined);
        socket.on('close', () => this.sockets.delete(socket));
      }
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve) => this.server?.listen(this.port, '127.0.0.1', resolve));
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise((resolve) => (this.server ? this.server.close(resolve) : resolve(undefined)));
    this.server = undefined;
  }
}

const { logger } = captureLogger('relay-recovery-test', 'warn');
let context: EventsTestContext;

beforeAll(async () => {
  context = await setUpEventsTest('events_recovery', logger);
});

afterAll(async () => {
  await context.close();
});

it('reports Kafka not ready while it is away, and the relay catches up once it is back', async () => {
  const [host, port] = (testKafkaBrokers()[0] ?? '127.0.0.1:9092').split(':');
  const door = await BrokerDoor.onFreePort({ host: host ?? '127.0.0.1', port: Number(port ?? 9092) });
  const kafkaBehindDoor = createKafka({ brokers: [`127.0.0.1:${door.port}`], clientId: 'recovery', logger });
  const readiness = kafkaReadiness(kafkaBehindDoor);
  const relay = new OutboxRelay({
    pool: context.pool,
    kafka: kafkaBehindDoor,
    logger,
    batchSizeMax: 100,
    pollIntervalMs: 20,
    topicPrefix: context.topicPrefix,
  });
  try {
    relay.start();
    await withTransaction(context.pool, (client) =>
      appendEvent(client, 'recovery-test', {
        definition: thingCreated,
        subject: 'thing-waiting',
        data: { thing_id: 'thing-waiting', amount_minor: 1 },
      }),
    );
    await expect(readiness.check()).rejects.toThrow();
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(await relay.backlog()).toBe(1);

    await door.open();
    await waitFor(async () => (await relay.backlog()) === 0, {
      timeoutMs: 30_000,
      description: 'relay caught up',
    });
    expect(await messageCount(context.kafka, `${context.topicPrefix}${TEST_TOPIC}`)).toBe(1);
    await expect(readiness.check()).resolves.toBeUndefined();
  } finally {
    await relay.stop();
    await readiness.close();
    await door.close();
  }
});
