/**
 * The second Kafka client behind libs/events (decision 0023): Confluent's
 * `@confluentinc/kafka-javascript` (librdkafka, maintained), made to look like the part of
 * kafkajs' `Kafka` that libs/events and its tests use, so that a switch is this one file and
 * `PUHUI_KAFKA_CLIENT=confluent`. It is not a dependency of the monorepo: its install builds
 * librdkafka from source (about 80 s on two cores, see `scripts/install-confluent-client.sh`),
 * so it is loaded from wherever Node's resolution (or NODE_PATH) finds it, only when asked for.
 *
 * Where the two clients differ, this file decides:
 * - acks, fromBeginning and the partitioner are per client in librdkafka, not per call: a
 *   producer is always `acks: -1` and a `send` asking for anything else is refused; a
 *   consumer's real client is made at `run`, when its subscription (and fromBeginning) is known.
 * - The partitioner is murmur2 on the key, as kafkajs' DefaultPartitioner (the Java client's):
 *   an aggregate's records stay on the partition they were on before a switch.
 * - A message kafkajs would give up on after its retries gives up after
 *   KAFKA_REQUEST_TIMEOUT_MS here (librdkafka's default is 5 minutes), so a relay never holds
 *   its transaction longer than with kafkajs.
 * - GROUP_JOIN is the one consumer event; it is raised when the group assigns partitions.
 * - kafkajs' `restartOnFailure` has no counterpart: librdkafka reconnects and rejoins by itself.
 * - `send` and `sendBatch` answer no record metadata (an empty list); nothing here reads it.
 */
import { createRequire } from 'node:module';
import type {
  Admin,
  Consumer,
  ConsumerConfig,
  ConsumerRunConfig,
  ConsumerSubscribeTopics,
  ITopicConfig,
  Kafka,
  Producer,
  ProducerBatch,
  ProducerConfig,
  ProducerRecord,
  RetryOptions,
} from 'kafkajs';
import type { Logger } from '@puhui/logging';
import { KAFKA_REQUEST_TIMEOUT_MS } from './kafka';
import type { KafkaSettings } from './kafka';

export const CONFLUENT_CLIENT_MODULE = '@confluentinc/kafka-javascript';

const CONNECTION_TIMEOUT_MS = 3000;
/** A readiness probe answers within this, as kafkajs' connection timeout bounds it there. */
const METADATA_TIMEOUT_MS = 3000;
/** createTopics' waitForLeaders: the metadata is asked again every 100 ms, 10 s at most. */
const LEADERS_WAIT_MS_MAX = 10_000;
const LEADERS_POLL_MS = 100;
const LOG_SEVERITY_ERROR = 3;
/** librdkafka's code for "the group assigned partitions" in a rebalance callback. */
const ERR_ASSIGN_PARTITIONS = -175;
/** kafkajs' value of `consumer.events.GROUP_JOIN`. */
const GROUP_JOIN = 'consumer.group_join';

/** The part of the Confluent client's API used here (its own types are not installed with the monorepo). */
interface ConfluentModule {
  KafkaJS: { Kafka: new (config: Record<string, unknown>) => ConfluentKafka };
  /** librdkafka's own producer: the one client here that returns the cluster's brokers. */
  Producer: new (config: Record<string, unknown>) => MetadataClient;
}
interface ClusterMetadata {
  orig_broker_id: number;
  brokers: { id: number; host: string; port: number }[];
}
interface MetadataClient {
  connect(options: { timeout: number }, done: (error: Error | null, metadata: ClusterMetadata) => void): void;
  getMetadata(
    options: { allTopics: boolean; timeout: number },
    done: (error: Error | null, metadata: ClusterMetadata) => void,
  ): void;
  disconnect(done: () => void): void;
  on(event: 'event.log', listener: (log: { severity: number; message: string }) => void): void;
  isConnected(): boolean;
}
interface ConfluentKafka {
  producer(config: Record<string, unknown>): ConfluentProducer;
  consumer(config: Record<string, unknown>): ConfluentConsumer;
  admin(config?: Record<string, unknown>): ConfluentAdmin;
}
interface ConfluentProducer {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  send(record: Omit<ProducerRecord, 'acks'>): Promise<unknown>;
  sendBatch(batch: Omit<ProducerBatch, 'acks'>): Promise<unknown>;
}
interface ConfluentConsumer {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  subscribe(subscription: { topics: (string | RegExp)[] }): Promise<void>;
  run(config: ConsumerRunConfig): Promise<void>;
}
interface ConfluentTopicMetadata {
  name: string;
  partitions: { partitionId: number; leader: number; replicas: number[]; isr: number[] }[];
}
interface ConfluentAdmin {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  listTopics(options?: { timeout?: number }): Promise<string[]>;
  createTopics(options: { topics: ITopicConfig[]; timeout?: number }): Promise<boolean>;
  deleteTopics(options: { topics: string[]; timeout?: number }): Promise<void>;
  fetchTopicMetadata(options: { topics: string[]; timeout?: number }): Promise<ConfluentTopicMetadata[]>;
  fetchTopicOffsets(
    topic: string,
  ): Promise<{ partition: number; offset: string; high: string; low: string }[]>;
}

let loaded: ConfluentModule | undefined;

/** Loads the client on first use, by Node's resolution from here (NODE_PATH included). */
function confluentModule(): ConfluentModule {
  if (loaded !== undefined) return loaded;
  try {
    loaded = createRequire(__filename)(CONFLUENT_CLIENT_MODULE) as ConfluentModule;
  } catch (error) {
    throw new Error(
      `PUHUI_KAFKA_CLIENT=confluent needs ${CONFLUENT_CLIENT_MODULE}, which is not installed with the ` +
        'monorepo: build it with libs/events/scripts/install-confluent-client.sh and put its node_modules ' +
        `on NODE_PATH (${(error as Error).message})`,
      { cause: error },
    );
  }
  return loaded;
}

export type KafkaClientName = 'kafkajs' | 'confluent';

/**
 * The client `createKafka` builds: kafkajs unless PUHUI_KAFKA_CLIENT says `confluent`. An
 * experiment switch for the comparison in decision 0023 (tests, bench, a service started by
 * hand), not a deployment setting; anything else is refused rather than silently kafkajs.
 */
export function kafkaClientName(environment: NodeJS.ProcessEnv = process.env): KafkaClientName {
  const name = environment.PUHUI_KAFKA_CLIENT ?? 'kafkajs';
  if (name !== 'kafkajs' && name !== 'confluent') {
    throw new Error(`PUHUI_KAFKA_CLIENT must be kafkajs or confluent, not ${JSON.stringify(name)}`);
  }
  return name;
}

/** True when the client can be loaded here (tests that compare the two clients need it). */
export function confluentClientAvailable(): boolean {
  try {
    confluentModule();
    return true;
  } catch {
    return false;
  }
}

/**
 * kafkajs' Logger shape, which the Confluent client calls. librdkafka's errors while a broker is
 * away are warnings, as in kafka.ts; its epoch-millisecond `timestamp` is dropped as kafka.ts drops
 * kafkajs' (pino stamps the line, and a 13-digit number is masked as if it were a card number).
 */
function clientLogger(logger: Logger): Record<string, unknown> {
  const log =
    (level: 'warn' | 'debug') =>
    (message: string, extra?: Record<string, unknown>): void => {
      const { timestamp: _timestamp, logger: _name, message: _message, ...rest } = extra ?? {};
      logger[level](rest, message);
    };
  const adapter = {
    info: log('debug'),
    warn: log('warn'),
    error: log('warn'),
    debug: log('debug'),
    setLogLevel: () => undefined,
    namespace: () => adapter,
  };
  return adapter;
}

/** kafkajs' retry options without the one librdkafka refuses (it always reconnects). */
function retryOf(retry: RetryOptions | undefined): Omit<RetryOptions, 'restartOnFailure'> | undefined {
  if (retry === undefined) return undefined;
  const { restartOnFailure: _restartOnFailure, ...rest } = retry;
  return rest;
}

/** Properties that `await`, JSON and test matchers look for on any object: absent, not refused. */
const PROBED_PROPERTIES = new Set(['then', 'toJSON', 'asymmetricMatch', 'nodeType', '$$typeof']);

/** Throws a clear error for a kafkajs member this adapter does not offer, instead of `undefined is not a function`. */
function onlyImplemented<T extends object>(target: T, what: string): T {
  return new Proxy(target, {
    get(object, property, receiver) {
      if (typeof property === 'string' && !(property in object) && !PROBED_PROPERTIES.has(property)) {
        throw new Error(
          `${what}.${property} is not offered by the confluent adapter (libs/events/src/kafka-confluent.ts)`,
        );
      }
      return Reflect.get(object, property, receiver) as unknown;
    },
  });
}

function refuseOtherAcks(acks: number | undefined): void {
  if (acks !== undefined && acks !== -1) {
    throw new Error(
      `the confluent adapter's producers always wait for all in-sync replicas (acks -1), not ${acks}`,
    );
  }
}

function adaptProducer(kafka: ConfluentKafka, config: ProducerConfig = {}): Producer {
  const producer = kafka.producer({
    kafkaJS: {
      acks: -1,
      timeout: KAFKA_REQUEST_TIMEOUT_MS,
      ...(config.maxInFlightRequests === undefined
        ? {}
        : { maxInFlightRequests: config.maxInFlightRequests }),
      ...(config.allowAutoTopicCreation === undefined
        ? {}
        : { allowAutoTopicCreation: config.allowAutoTopicCreation }),
      ...(config.retry === undefined ? {} : { retry: retryOf(config.retry) }),
    },
    partitioner: 'murmur2_random',
    'message.timeout.ms': KAFKA_REQUEST_TIMEOUT_MS,
    // Every send is awaited (the relay marks rows after the broker's answer): do not linger.
    'linger.ms': 0,
  });
  const adapted = {
    connect: () => producer.connect(),
    disconnect: () => producer.disconnect(),
    send: async ({ acks, ...record }: ProducerRecord) => {
      refuseOtherAcks(acks);
      await producer.send(record);
      return [];
    },
    sendBatch: async ({ acks, ...batch }: ProducerBatch) => {
      refuseOtherAcks(acks);
      await producer.sendBatch(batch);
      return [];
    },
  };
  return onlyImplemented(adapted, 'producer') as unknown as Producer;
}

type Listener = (event: { type: string; timestamp: number; payload: Record<string, never> }) => void;

/**
 * Static group membership (KIP-345), which kafkajs cannot send: a process that restarts with the
 * same `group.instance.id` takes its dead member's place at once instead of waiting out the
 * session (decision 0008). An experiment for decision 0023, named by PUHUI_KAFKA_GROUP_INSTANCE_ID
 * (one per running instance of a service, the same across its restarts, e.g. a pod's name).
 */
function staticMembership(environment: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const instance = environment.PUHUI_KAFKA_GROUP_INSTANCE_ID;
  return instance === undefined || instance === '' ? {} : { 'group.instance.id': instance };
}

function adaptConsumer(kafka: ConfluentKafka, config: ConsumerConfig): Consumer {
  const joinListeners = new Set<Listener>();
  const topics: (string | RegExp)[] = [];
  let fromBeginning: boolean | undefined;
  let consumer: ConfluentConsumer | undefined;
  const adapted = {
    events: { GROUP_JOIN },
    on: (event: string, listener: Listener) => {
      if (event !== GROUP_JOIN)
        throw new Error(`the confluent adapter raises only ${GROUP_JOIN}, not ${event}`);
      joinListeners.add(listener);
      return () => joinListeners.delete(listener);
    },
    // The real client is made at run: librdkafka takes fromBeginning when it is created.
    connect: () => Promise.resolve(),
    subscribe: (
      subscription: ConsumerSubscribeTopics | { topic: string | RegExp; fromBeginning?: boolean },
    ) => {
      const wanted = 'topics' in subscription ? subscription.topics : [subscription.topic];
      const beginning = subscription.fromBeginning ?? false;
      if (fromBeginning !== undefined && fromBeginning !== beginning) {
        throw new Error('the confluent adapter needs one fromBeginning for all of a consumer’s topics');
      }
      fromBeginning = beginning;
      topics.push(...wanted);
      return Promise.resolve();
    },
    run: async (runConfig: ConsumerRunConfig) => {
      consumer = kafka.consumer({
        kafkaJS: {
          groupId: config.groupId,
          fromBeginning: fromBeginning ?? false,
          ...(config.allowAutoTopicCreation === undefined
            ? {}
            : { allowAutoTopicCreation: config.allowAutoTopicCreation }),
          ...(config.sessionTimeout === undefined ? {} : { sessionTimeout: config.sessionTimeout }),
          ...(config.heartbeatInterval === undefined ? {} : { heartbeatInterval: config.heartbeatInterval }),
          ...(config.rebalanceTimeout === undefined ? {} : { rebalanceTimeout: config.rebalanceTimeout }),
          ...(config.maxWaitTimeInMs === undefined ? {} : { maxWaitTimeInMs: config.maxWaitTimeInMs }),
          ...(config.retry === undefined ? {} : { retry: retryOf(config.retry) }),
          // kafkajs commits after each batch it fetched; librdkafka every 5 s by default. A second
          // keeps the redelivery after a kill close to kafkajs' (the inbox drops duplicates either way).
          autoCommitInterval: 1000,
        },
        ...staticMembership(),
        rebalance_cb: (error: { code: number }) => {
          if (error.code !== ERR_ASSIGN_PARTITIONS) return;
          // The client assigns the partitions right after this callback returns.
          setImmediate(() => {
            for (const listener of [...joinListeners]) {
              listener({ type: GROUP_JOIN, timestamp: Date.now(), payload: {} });
            }
          });
        },
      });
      await consumer.connect();
      await consumer.subscribe({ topics });
      await consumer.run(runConfig);
    },
    disconnect: async () => {
      const running = consumer;
      consumer = undefined;
      await running?.disconnect();
    },
  };
  return onlyImplemented(adapted, 'consumer') as unknown as Consumer;
}

function adaptAdmin(kafka: ConfluentKafka, cluster: ClusterDescriber): Admin {
  const admin = kafka.admin();
  const fetchTopicMetadata = async ({ topics }: { topics: string[] }) => ({
    topics: (await admin.fetchTopicMetadata({ topics })).map((topic) => ({
      name: topic.name,
      partitions: topic.partitions.map((partition) => ({
        partitionErrorCode: 0,
        partitionId: partition.partitionId,
        leader: partition.leader,
        replicas: partition.replicas,
        isr: partition.isr,
        offlineReplicas: [],
      })),
    })),
  });
  const allLed = async (names: string[]): Promise<boolean> => {
    const { topics } = await fetchTopicMetadata({ topics: names });
    return (
      topics.length === names.length && topics.every((topic) => topic.partitions.every((p) => p.leader >= 0))
    );
  };
  const adapted = {
    connect: () => admin.connect(),
    disconnect: async () => {
      await admin.disconnect();
      await cluster.close();
    },
    listTopics: () => admin.listTopics(),
    fetchTopicMetadata,
    fetchTopicOffsets: (topic: string) => admin.fetchTopicOffsets(topic),
    deleteTopics: ({ topics, timeout }: { topics: string[]; timeout?: number }) =>
      admin.deleteTopics({ topics, ...(timeout === undefined ? {} : { timeout }) }),
    createTopics: async ({
      topics,
      waitForLeaders,
      timeout,
    }: {
      topics: ITopicConfig[];
      waitForLeaders?: boolean;
      timeout?: number;
    }) => {
      const created = await admin.createTopics({ topics, ...(timeout === undefined ? {} : { timeout }) });
      if (waitForLeaders === true) {
        const names = topics.map((topic) => topic.topic);
        const deadline = Date.now() + LEADERS_WAIT_MS_MAX;
        while (!(await allLed(names).catch(() => false))) {
          if (Date.now() > deadline)
            throw new Error(`topics without leaders after ${LEADERS_WAIT_MS_MAX} ms: ${names.join(', ')}`);
          await new Promise((resolve) => setTimeout(resolve, LEADERS_POLL_MS));
        }
      }
      return created;
    },
    describeCluster: async () => {
      const metadata = await cluster.describe();
      return {
        brokers: metadata.brokers.map((broker) => ({
          nodeId: broker.id,
          host: broker.host,
          port: broker.port,
        })),
        // librdkafka's metadata names neither the controller nor the cluster id.
        controller: null,
        clusterId: '',
      };
    },
  };
  return onlyImplemented(adapted, 'admin') as unknown as Admin;
}

/**
 * librdkafka's connection settings from the platform's (decision 0021), for both kinds of
 * client made here: the CA as PEM, the certificate and the broker's host name always verified
 * (librdkafka's defaults, stated so that no one turns them off by accident), SCRAM credentials.
 */
function connectionConfig(settings: KafkaSettings): Record<string, string | boolean | number> {
  const config: Record<string, string | boolean | number> = {
    'metadata.broker.list': settings.brokers.join(','),
    'client.id': settings.clientId,
  };
  const { tls, sasl } = settings;
  if (tls !== undefined || sasl !== undefined) {
    config['security.protocol'] =
      `${sasl === undefined ? '' : 'sasl_'}${tls === undefined ? 'plaintext' : 'ssl'}`;
  }
  if (tls !== undefined) {
    config['enable.ssl.certificate.verification'] = true;
    config['ssl.endpoint.identification.algorithm'] = 'https';
    if (tls.ca !== undefined) config['ssl.ca.pem'] = tls.ca.join('\n');
  }
  if (sasl !== undefined) {
    config['sasl.mechanisms'] = sasl.mechanism.toUpperCase();
    config['sasl.username'] = sasl.username;
    config['sasl.password'] = sasl.password;
  }
  return config;
}

interface ClusterDescriber {
  describe: () => Promise<ClusterMetadata>;
  close: () => Promise<void>;
}

/**
 * The brokers, for an admin's describeCluster (readiness, and tests that check which listener
 * they reached). One librdkafka producer, made at the first call and kept, answers it. A failure
 * carries the broker's reason (a refused SASL login, an unverified certificate), which librdkafka
 * logs beside a generic "broker transport failure".
 */
function clusterDescriber(module: ConfluentModule, settings: KafkaSettings): ClusterDescriber {
  let client: MetadataClient | undefined;
  let lastBrokerError: string | undefined;
  const explained = (error: Error): Error => {
    const reason = lastBrokerError;
    if (reason === undefined) return error;
    const wrapped = new Error(`${error.message}: ${reason}`, { cause: error });
    wrapped.name = /SASL authentication/u.test(reason)
      ? 'KafkaJSSASLAuthenticationError'
      : 'KafkaJSConnectionError';
    return wrapped;
  };
  const close = async () => {
    const closing = client;
    client = undefined;
    if (closing?.isConnected() === true) await new Promise<void>((resolve) => closing.disconnect(resolve));
  };
  return {
    describe: async () => {
      lastBrokerError = undefined;
      try {
        return await new Promise<ClusterMetadata>((resolve, reject) => {
          const done = (error: Error | null, metadata: ClusterMetadata) =>
            error === null ? resolve(metadata) : reject(explained(error));
          if (client !== undefined) {
            client.getMetadata({ allTopics: false, timeout: METADATA_TIMEOUT_MS }, done);
            return;
          }
          client = new module.Producer({
            ...connectionConfig(settings),
            'socket.connection.setup.timeout.ms': METADATA_TIMEOUT_MS,
          });
          client.on('event.log', (log) => {
            // syslog severities: 3 and below are errors, e.g. "SASL authentication error: …".
            if (log.severity <= LOG_SEVERITY_ERROR)
              lastBrokerError = log.message.replace(/^\[thrd:[^\]]*\]: /u, '');
          });
          client.connect({ timeout: METADATA_TIMEOUT_MS }, done);
        });
      } catch (error) {
        await close().catch(() => undefined);
        throw error;
      }
    },
    close,
  };
}

/** A `Kafka` whose producers, consumers and admins are the Confluent client's, with libs/events' settings. */
export function createConfluentKafka(settings: KafkaSettings): Kafka {
  const module = confluentModule();
  const kafka = new module.KafkaJS.Kafka({
    kafkaJS: {
      brokers: [...settings.brokers],
      clientId: settings.clientId,
      connectionTimeout: CONNECTION_TIMEOUT_MS,
      requestTimeout: KAFKA_REQUEST_TIMEOUT_MS,
      retry: { initialRetryTime: 100, maxRetryTime: 2000, retries: 5 },
      logger: clientLogger(settings.logger.child({ component: 'kafka', kafka_client: 'confluent' })),
    },
    ...connectionConfig(settings),
  });
  const adapted = {
    producer: (config?: ProducerConfig) => adaptProducer(kafka, config),
    consumer: (config: ConsumerConfig) => adaptConsumer(kafka, config),
    admin: () => adaptAdmin(kafka, clusterDescriber(module, settings)),
  };
  return onlyImplemented(adapted, 'kafka') as unknown as Kafka;
}
