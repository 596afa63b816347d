/**
 * kafkajs plumbing: a client whose logs go to pino, topic creation (with `.dlq` twins),
 * and a readiness check.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { Kafka, logLevel as KafkaLogLevel } from 'kafkajs';
import type { Admin, ITopicConfig, KafkaConfig, LogEntry } from 'kafkajs';
import { COMPACTED_TOPICS, dlqTopicOf } from '@puhui/contracts';
import type { Logger } from '@puhui/logging';
import { createConfluentKafka, kafkaClientName } from './kafka-confluent';

export type { Kafka } from 'kafkajs';

export interface KafkaSettings {
  brokers: readonly string[];
  clientId: string;
  logger: Logger;
  /**
   * Encrypt with TLS, verifying the brokers against `ca` (PEM; unset, Node's trusted CAs).
   * Absent: PLAINTEXT, as the local broker's 9092 (decision 0021).
   */
  tls?: { ca?: readonly string[] };
  /** Authenticate with SASL/SCRAM; absent, no SASL. The password is never logged. */
  sasl?: { mechanism: 'scram-sha-512' | 'scram-sha-256'; username: string; password: string };
}

const CONNECTION_TIMEOUT_MS = 3000;
/**
 * Every request but JoinGroup (which kafkajs bounds by the rebalance timeout). It must outlast
 * a consumer's session timeout: a follower's SyncGroup waits for the group leader, and when
 * the leader is a killed process the broker answers only once the leader's session expires.
 * A SyncGroup that times out first crashes the consumer, which leaves and joins again as a new
 * member, and the group starts over (issue 22: with a 30 s session it never settled).
 */
export const KAFKA_REQUEST_TIMEOUT_MS = 10_000;

function toPinoLevel(level: KafkaLogLevel): 'error' | 'warn' | 'info' | 'debug' {
  switch (level) {
    case KafkaLogLevel.ERROR:
      // kafkajs reports every refused reconnect as an error; while the broker is away
      // that is expected and is reported once more by readiness, so keep it at warn.
      return 'warn';
    case KafkaLogLevel.WARN:
      return 'warn';
    case KafkaLogLevel.INFO:
      return 'debug';
    default:
      return 'debug';
  }
}

/** kafkajs's `ssl` and `sasl` from the settings; certificates are always verified. */
function securityOptions(settings: KafkaSettings): Pick<KafkaConfig, 'ssl' | 'sasl'> {
  const options: Pick<KafkaConfig, 'ssl' | 'sasl'> = {};
  if (settings.tls !== undefined) {
    const { ca } = settings.tls;
    options.ssl = { rejectUnauthorized: true, ...(ca === undefined ? {} : { ca: [...ca] }) };
  }
  const sasl = settings.sasl;
  if (sasl !== undefined) {
    const credentials = { username: sasl.username, password: sasl.password };
    options.sasl =
      sasl.mechanism === 'scram-sha-512'
        ? { mechanism: 'scram-sha-512', ...credentials }
        : { mechanism: 'scram-sha-256', ...credentials };
  }
  return options;
}

export function createKafka(settings: KafkaSettings): Kafka {
  // Decision 0023: the Confluent client behind the same interface, for the comparison.
  if (kafkaClientName() === 'confluent') return createConfluentKafka(settings);
  const logger = settings.logger.child({ component: 'kafka' });
  return new Kafka({
    clientId: settings.clientId,
    brokers: [...settings.brokers],
    ...securityOptions(settings),
    connectionTimeout: CONNECTION_TIMEOUT_MS,
    requestTimeout: KAFKA_REQUEST_TIMEOUT_MS,
    retry: { initialRetryTime: 100, maxRetryTime: 2000, retries: 5 },
    logLevel: KafkaLogLevel.INFO,
    logCreator:
      () =>
      ({ namespace, level, log }: LogEntry) => {
        const { message, timestamp: _timestamp, logger: _name, ...extra } = log;
        logger[toPinoLevel(level)]({ namespace, ...extra }, message);
      },
  });
}

export interface TopicSettings {
  partitions: number;
  /** Copies of every partition; more than the brokers the cluster has is refused (decision 0027). */
  replicationFactor: number;
  /** Prepended to every topic name (tests share one broker). */
  prefix?: string;
}

/**
 * The `min.insync.replicas` a topic gets: a majority of its copies, so an `acks=all` write
 * (every producer here, decision 0027) is on more than half of them before it is acknowledged
 * and one broker of three may die with no acknowledged event lost and writes still accepted
 * (3 → 2, 5 → 3). One copy: 1 (the single development broker). Two copies would need both,
 * so one broker down would stop writes: refused instead of configured silently.
 */
export function minInsyncReplicasOf(replicationFactor: number): number {
  if (replicationFactor === 2)
    throw new Error(
      'KAFKA_REPLICATION_FACTOR=2: one broker down would stop every acks=all write; use 1 (one broker) or 3',
    );
  return Math.floor(replicationFactor / 2) + 1;
}

/**
 * Creates each topic and its `.dlq` twin unless they exist. Compacted topics (DESIGN §3:
 * rules) keep the latest event per key; their DLQ twins keep everything. Replicated topics
 * carry their own `min.insync.replicas` (a majority), whatever the broker's default is.
 */
export async function ensureTopics(
  kafka: Kafka,
  topics: readonly string[],
  settings: TopicSettings,
): Promise<void> {
  const prefix = settings.prefix ?? '';
  const { replicationFactor } = settings;
  const minInsync = minInsyncReplicasOf(replicationFactor);
  const durability = replicationFactor > 1 ? [{ name: 'min.insync.replicas', value: String(minInsync) }] : [];
  const wanted: ITopicConfig[] = topics.flatMap((topic) => [
    {
      topic: `${prefix}${topic}`,
      numPartitions: settings.partitions,
      replicationFactor,
      configEntries: [
        ...durability,
        ...(COMPACTED_TOPICS.has(topic) ? [{ name: 'cleanup.policy', value: 'compact' }] : []),
      ],
    },
    {
      topic: `${prefix}${dlqTopicOf(topic)}`,
      numPartitions: 1,
      replicationFactor,
      configEntries: durability,
    },
  ]);
  const admin = kafka.admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const missing = wanted.filter((topic) => !existing.has(topic.topic));
    if (missing.length > 0) await createTopicsOnEnoughBrokers(admin, missing, replicationFactor);
  } finally {
    await admin.disconnect();
  }
}

/** New topics' leaders are known to every broker within a second; 30 s leave room for a loaded cluster. */
const TOPIC_LEADERS_TIMEOUT_MS = 30_000;
const TOPIC_LEADERS_POLL_MS = 200;

/**
 * Creates `topics`, first checking the cluster has `replicationFactor` brokers (the broker's
 * own refusal, INVALID_REPLICATION_FACTOR, names neither the setting nor the count), then
 * waits until their partitions have leaders. Not kafkajs' `waitForLeaders`: it asks the broker
 * it created them through and gives up on the first UNKNOWN_TOPIC_OR_PARTITION, which a KRaft
 * cluster's broker answers until the new topic reached its metadata (seen on the three-broker
 * cluster: "This server does not host this topic-partition" at a service's start).
 */
async function createTopicsOnEnoughBrokers(
  admin: Admin,
  topics: ITopicConfig[],
  replicationFactor: number,
): Promise<void> {
  if (replicationFactor > 1) {
    const { brokers } = await admin.describeCluster();
    if (brokers.length < replicationFactor)
      throw new Error(
        `KAFKA_REPLICATION_FACTOR=${replicationFactor} but the cluster has ${brokers.length} broker(s) up: start them (infra up --brokers 3) or lower the setting`,
      );
  }
  await admin.createTopics({ topics, waitForLeaders: false });
  const names = topics.map((topic) => topic.topic);
  const deadline = Date.now() + TOPIC_LEADERS_TIMEOUT_MS;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      const { topics: described } = await admin.fetchTopicMetadata({ topics: names });
      const led = described.every(
        (topic) =>
          topic.partitions.length > 0 && topic.partitions.every((partition) => partition.leader >= 0),
      );
      if (described.length === names.length && led) return;
    } catch (error) {
      lastError = error;
    }
    await sleep(TOPIC_LEADERS_POLL_MS);
  }
  throw new Error(
    `topics ${names.join(', ')} have no leaders after ${TOPIC_LEADERS_TIMEOUT_MS} ms${lastError === undefined ? '' : ` (${String(lastError)})`}`,
  );
}

/**
 * Readiness: the broker answers a metadata request. One admin connection is kept and
 * rebuilt after a failure, so /readyz does not open a connection per probe.
 */
export function kafkaReadiness(kafka: Kafka): { check: () => Promise<void>; close: () => Promise<void> } {
  let admin: Admin | undefined;
  return {
    check: async () => {
      try {
        if (admin === undefined) {
          admin = kafka.admin();
          await admin.connect();
        }
        await admin.describeCluster();
      } catch (error) {
        const broken = admin;
        admin = undefined;
        await broken?.disconnect().catch(() => undefined);
        throw error;
      }
    },
    close: async () => {
      await admin?.disconnect();
      admin = undefined;
    },
  };
}
