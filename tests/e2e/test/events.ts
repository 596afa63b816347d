/**
 * What the services published: a consumer that reads a run's topics from the beginning and
 * keeps every Kafka record as it arrived (key, value and headers as bytes, turned into text),
 * and the check that each record is a valid CloudEvent as the official `cloudevents` SDK reads
 * it through its Kafka protocol binding, with a payload that matches our own schema.
 */
import { Kafka as CloudEventsKafka, ValidationError } from 'cloudevents';
import type { CloudEvent, Message } from 'cloudevents';
import { Kafka, logLevel } from 'kafkajs';
import type { Consumer } from 'kafkajs';
import * as contracts from '@puhui/contracts';
import { EventCatalog, SEQUENCE_DIGITS, TOPICS } from '@puhui/contracts';
import type { EventDefinition } from '@puhui/contracts';
import * as discount from '@puhui/discount';
import { testKafkaBrokers, uniqueSuffix, waitFor } from '@puhui/testing';
import type { WaitOptions } from '@puhui/testing';
import type { Json } from './system';

export interface KafkaRecord {
  topic: string;
  partition: number;
  offset: string;
  key: string | null;
  value: string | null;
  headers: Record<string, string>;
  /** When the test's consumer saw it (ms since epoch). */
  seenAt: number;
}

/** A record's JSON value, for quick filtering; undefined when it is not JSON. */
export function envelopeOf(record: KafkaRecord): Json | undefined {
  if (record.value === null) return undefined;
  try {
    return JSON.parse(record.value) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

/** Every record of the given topics since the beginning, as the test consumer received them. */
export class EventLog {
  readonly records: KafkaRecord[] = [];

  private constructor(private readonly consumer: Consumer) {}

  /** Waits until the topics exist (services create them), then reads them from the beginning. */
  static async start(topics: readonly string[], brokers = testKafkaBrokers()): Promise<EventLog> {
    const kafka = new Kafka({
      clientId: 'e2e-event-log',
      brokers: [...brokers],
      logLevel: logLevel.NOTHING,
    });
    const admin = kafka.admin();
    await admin.connect();
    try {
      await waitFor(
        async () => {
          const existing = new Set(await admin.listTopics());
          return topics.every((topic) => existing.has(topic));
        },
        { timeoutMs: 30_000, description: `topics ${topics.join(', ')}` },
      );
    } finally {
      await admin.disconnect();
    }
    const consumer = kafka.consumer({ groupId: `e2e-event-log-${uniqueSuffix()}`, maxWaitTimeInMs: 100 });
    const log = new EventLog(consumer);
    await consumer.connect();
    await consumer.subscribe({ topics: [...topics], fromBeginning: true });
    const joined = new Promise<void>((resolve) => {
      const remove = consumer.on(consumer.events.GROUP_JOIN, () => {
        remove();
        resolve();
      });
    });
    await consumer.run({
      eachMessage: async ({ topic, partition, message }) => {
        const headers: Record<string, string> = {};
        for (const [name, value] of Object.entries(message.headers ?? {})) {
          if (value !== undefined)
            headers[name] = Array.isArray(value) ? value.map(String).join(',') : String(value);
        }
        log.records.push({
          topic,
          partition,
          offset: message.offset,
          key: message.key?.toString('utf8') ?? null,
          value: message.value?.toString('utf8') ?? null,
          headers,
          seenAt: Date.now(),
        });
      },
    });
    await joined;
    return log;
  }

  /** Records of `topic` whose JSON value satisfies `predicate`. */
  matching(topic: string, predicate: (envelope: Json) => boolean = () => true): KafkaRecord[] {
    return this.records.filter((record) => {
      if (record.topic !== topic) return false;
      const envelope = envelopeOf(record);
      return envelope !== undefined && predicate(envelope);
    });
  }

  /** Waits until at least `count` records of `topic` satisfy `predicate`. */
  async waitFor(
    topic: string,
    predicate: (envelope: Json) => boolean,
    count = 1,
    options: WaitOptions = {},
  ): Promise<KafkaRecord[]> {
    return waitFor(
      () => {
        const found = this.matching(topic, predicate);
        return found.length >= count ? found : undefined;
      },
      { timeoutMs: 20_000, description: `${count} matching record(s) on ${topic}`, ...options },
    );
  }

  stop(): Promise<void> {
    return this.consumer.disconnect();
  }
}

function isEventDefinition(value: unknown): value is EventDefinition {
  if (value === null || typeof value !== 'object') return false;
  const candidate = value as Record<string, unknown>;
  return (
    typeof candidate.type === 'string' &&
    typeof candidate.topic === 'string' &&
    typeof (candidate.data as { safeParse?: unknown } | undefined)?.safeParse === 'function'
  );
}

/** Every event type Puhui defines: merchants, checkouts and settlements in contracts, rules and cards beside the engine. */
export const EVENT_CATALOG = new EventCatalog(
  [...Object.values(contracts), ...Object.values(discount)].flatMap((value: unknown) =>
    isEventDefinition(value) ? [value] : [],
  ),
);

/** The service that publishes each topic (DESIGN §2). */
export const PUBLISHER_OF: Readonly<Record<string, string>> = {
  [TOPICS.merchants]: 'merchant-onboarding',
  [TOPICS.rules]: 'discount-rules',
  [TOPICS.cards]: 'discount-rules',
  [TOPICS.checkouts]: 'transaction-settlement',
  [TOPICS.settlements]: 'transaction-settlement',
};

export interface CheckedEvent {
  record: KafkaRecord;
  event: CloudEvent<unknown>;
  definition: EventDefinition;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/u;
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/u;

/**
 * Reads one record with the cloudevents SDK's Kafka binding (structured mode needs the
 * `content-type: application/cloudevents+json` header), validates it with the SDK, then checks
 * our envelope rules and the payload against the event type's zod schema. Throws naming the
 * record on the first problem.
 */
export function checkCloudEvent(record: KafkaRecord, topicPrefix: string): CheckedEvent {
  const where = `${record.topic}[${record.partition}]@${record.offset}`;
  const fail = (problem: string): never => {
    throw new Error(
      `${where}: ${problem}\n  headers: ${JSON.stringify(record.headers)}\n  value: ${record.value}`,
    );
  };
  const message = {
    headers: record.headers,
    key: record.key ?? '',
    value: record.value,
    body: record.value,
  } as unknown as Message;
  if (!CloudEventsKafka.isEvent(message))
    fail('the cloudevents Kafka binding does not recognise it as a CloudEvent');
  let event: CloudEvent<unknown>;
  try {
    const read = CloudEventsKafka.toEvent(message);
    if (Array.isArray(read)) return fail('read as a batch, expected one structured event');
    event = read as CloudEvent<unknown>;
    event.validate();
  } catch (error) {
    const details = error instanceof ValidationError ? ` ${JSON.stringify(error.errors)}` : '';
    return fail(`the cloudevents SDK rejects it: ${String(error)}${details}`);
  }
  const raw = envelopeOf(record) ?? fail('the value is not JSON');
  const topic = record.topic.startsWith(topicPrefix)
    ? record.topic.slice(topicPrefix.length)
    : fail('topic prefix');
  if (event.specversion !== '1.0') fail(`specversion ${event.specversion}`);
  const definition =
    EVENT_CATALOG.get(event.type) ?? fail(`type ${event.type} is not in the event catalogue`);
  if (definition.topic !== topic) fail(`type ${event.type} belongs on ${definition.topic}, not ${topic}`);
  if (event.source !== PUBLISHER_OF[topic]) fail(`source ${event.source}, expected ${PUBLISHER_OF[topic]}`);
  if (!UUID.test(event.id)) fail(`id ${event.id} is not a UUID`);
  if (typeof event.subject !== 'string' || event.subject.length === 0) fail('no subject');
  if (typeof raw.time !== 'string' || !RFC3339.test(raw.time) || Number.isNaN(Date.parse(raw.time))) {
    fail(`time ${String(raw.time)} is not RFC 3339`);
  }
  if (event.time !== new Date(raw.time).toISOString())
    fail(`time read as ${event.time}, sent as ${raw.time}`);
  if (event.datacontenttype !== 'application/json') fail(`datacontenttype ${event.datacontenttype}`);
  const sequence = (event as unknown as Record<string, unknown>).sequence;
  if (typeof sequence !== 'string' || !new RegExp(`^\\d{${SEQUENCE_DIGITS}}$`, 'u').test(sequence)) {
    fail(`sequence extension ${String(sequence)}`);
  }
  const parsed = definition.data.safeParse(event.data);
  if (!parsed.success) fail(`data does not match ${event.type}: ${parsed.error.message}`);
  return { record, event, definition };
}
