/**
 * The consumer helper. Each message is validated (envelope and payload), then applied in
 * one Postgres transaction together with an inbox row for its event id, so a redelivered
 * event is applied once. A handler failure is retried a bounded number of times; a message
 * that still fails, or can never be parsed, goes to the topic's `.dlq` and the consumer
 * moves on. So does an event whose `source` is not the topic's one producer (DESIGN §3, §8):
 * it is never applied.
 */
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { Partitioners } from 'kafkajs';
import type { Consumer, EachMessagePayload, IHeaders, Kafka, Producer } from 'kafkajs';
import type { Pool, PoolClient } from 'pg';
import { TOPIC_PRODUCERS, cloudEventEnvelope, dlqTopicOf } from '@puhui/contracts';
import type { CloudEvent, EventData, EventDefinition } from '@puhui/contracts';
import { withLogContext } from '@puhui/logging';
import type { Logger } from '@puhui/logging';
import { withTransaction } from '@puhui/postgres';
import { KAFKA_REQUEST_TIMEOUT_MS } from './kafka';
import { readGroupLag, readTopicDepth } from './metrics';
import type { ConsumerObserver, OffsetsAdmin, PartitionLag } from './metrics';

export interface EventHandler<Definition extends EventDefinition = EventDefinition> {
  definition: Definition;
  /** Applies the event using `client`, inside the transaction that records it as processed. */
  handle: (event: CloudEvent<EventData<Definition>>, client: PoolClient) => Promise<void>;
}

/** Keeps each handler's event type tied to its payload type. */
export function onEvent<Definition extends EventDefinition>(
  definition: Definition,
  handle: EventHandler<Definition>['handle'],
): EventHandler {
  return { definition, handle } as unknown as EventHandler;
}

export interface ConsumerSettings {
  kafka: Kafka;
  pool: Pool;
  logger: Logger;
  /** The logical group (inbox rows, DLQ header); Kafka's group carries `topicPrefix` in front. */
  groupId: string;
  handlers: readonly EventHandler[];
  topicPrefix?: string;
  /** Attempts per message before it goes to the DLQ, the first included. */
  attemptsMax?: number;
  retryBackoffMs?: number;
  /**
   * The one `source` accepted on each topic read (logical names); TOPIC_PRODUCERS by default.
   * A consumer of a topic with no producer here does not start.
   */
  producers?: Readonly<Record<string, string>>;
}

export type MessageOutcome = 'applied' | 'duplicate' | 'ignored' | 'dead_lettered';

const ATTEMPTS_MAX_DEFAULT = 5;
const RETRY_BACKOFF_MS_DEFAULT = 100;
// Retries happen inside one eachMessage call, with a heartbeat between attempts (the session is 6 s).
const RETRY_BACKOFF_MS_MAX = 2000;

class PoisonMessage extends Error {
  constructor(
    readonly reason: 'malformed_json' | 'invalid_envelope' | 'invalid_payload' | 'unexpected_source',
    detail: string,
  ) {
    super(detail);
  }
}

/**
 * After a kill -9 of a service, each of its consumers is back in its group and applying events
 * within this bound (issue 22; measured by libs/events' consumer-rejoin test and the chaos crash
 * run). It follows from the session timeout below: see docs/decisions/0008-consumer-group-timeouts.md.
 */
export const CONSUMER_REJOIN_BOUND_MS = 15_000;

/**
 * How long the broker keeps a member that stopped heartbeating. A killed process's member holds
 * its partitions (and a restarted process waits) until this runs out; a process killed while it
 * was joining is kept until the join completes and then for one more session, so two kills in a
 * row cost up to two sessions. 6 s is the broker's lowest allowed value
 * (`group.min.session.timeout.ms`): two sessions and a restart stay inside the 15 s bound, which
 * 10 s (16.1 s measured for a double kill) and kafkajs' 30 s default (26 s, once not within 60 s) did not.
 */
export const CONSUMER_SESSION_TIMEOUT_MS = 6_000;
/** A sixth of the session: a heartbeat lost to a busy moment leaves five more before expiry. */
const CONSUMER_HEARTBEAT_INTERVAL_MS = 1_000;
/**
 * kafkajs heartbeats only between messages and after a fetch returns, so an idle fetch must
 * return well within the session (kafkajs' default wait is 5 s, close to 6).
 */
const CONSUMER_FETCH_WAIT_MS_MAX = 1_000;
/** How long the broker waits for live members to rejoin a rebalance before dropping them. */
const CONSUMER_REBALANCE_TIMEOUT_MS = 20_000;
assert.ok(
  CONSUMER_SESSION_TIMEOUT_MS + 3_000 <= KAFKA_REQUEST_TIMEOUT_MS,
  "a SyncGroup must outlast a dead leader's session",
);

/** How much of a refused event's claimed `source` goes into the log line and the DLQ detail. */
const CLAIMED_SOURCE_CHARS_MAX = 100;

const RESTART_DELAY_MS_MIN = 500;
const RESTART_DELAY_MS_MAX = 5_000;

export class EventConsumer {
  private readonly settings: ConsumerSettings;
  private readonly logger: Logger;
  private readonly handlers = new Map<string, EventHandler>();
  private readonly topics: string[];
  /** Logical topic → the one `source` accepted on it. */
  private readonly producers: ReadonlyMap<string, string>;
  private consumer: Consumer | undefined;
  private joinedGroup: Promise<void> | undefined;
  private dlqProducer: Producer | undefined;
  /** Crashes since the group was last joined: spaces out restarts while Kafka is away. */
  private crashes = 0;
  private stopping = new AbortController();
  private observer: ConsumerObserver | undefined;
  /** Counts by outcome since start, for tests and metrics. */
  readonly counts: Record<MessageOutcome, number> = {
    applied: 0,
    duplicate: 0,
    ignored: 0,
    dead_lettered: 0,
  };

  constructor(settings: ConsumerSettings) {
    this.settings = settings;
    this.logger = settings.logger.child({ component: 'consumer', consumer_group: settings.groupId });
    for (const handler of settings.handlers) this.handlers.set(handler.definition.type, handler);
    const prefix = settings.topicPrefix ?? '';
    this.topics = [...new Set(settings.handlers.map((handler) => `${prefix}${handler.definition.topic}`))];
    const producers: Readonly<Record<string, string>> = settings.producers ?? TOPIC_PRODUCERS;
    this.producers = new Map(
      this.subscribedTopics.map((topic) => {
        const producer = Object.hasOwn(producers, topic) ? producers[topic] : undefined;
        if (producer === undefined) throw new Error(`no producer is known for topic ${topic}`);
        return [topic, producer];
      }),
    );
  }

  /** Told of every message's outcome from now on (libs/service: puhui_events_consumed_total). */
  observeWith(observer: ConsumerObserver): void {
    this.observer = observer;
  }

  /** The logical group (inbox rows, DLQ headers, metrics labels). */
  get groupId(): string {
    return this.settings.groupId;
  }

  /** The group's lag on each partition it reads, from Kafka's committed offsets (logical topic names). */
  async lag(admin: OffsetsAdmin): Promise<PartitionLag[]> {
    const lags = await readGroupLag(admin, this.kafkaGroupId, this.topics);
    return lags.map((lag) => ({ ...lag, topic: this.logicalTopicOf(lag.topic) }));
  }

  /** The messages in the `.dlq` of each topic this consumer reads, by logical `.dlq` name. */
  async deadLetters(admin: OffsetsAdmin): Promise<{ topic: string; messages: number }[]> {
    const prefix = this.settings.topicPrefix ?? '';
    const depths: { topic: string; messages: number }[] = [];
    for (const topic of this.subscribedTopics) {
      const dlq = dlqTopicOf(topic);
      depths.push({ topic: dlq, messages: await readTopicDepth(admin, `${prefix}${dlq}`) });
    }
    return depths;
  }

  /** The topics this consumer reads, without the prefix: a service creates them if missing. */
  get subscribedTopics(): string[] {
    return [...new Set(this.settings.handlers.map((handler) => handler.definition.topic))];
  }

  /**
   * The group as Kafka knows it: the topic prefix keeps runs that share a broker (tests beside
   * `npm start`, tenants) apart. KafkaJS assigns a group's partitions over the union of its
   * members' topics, so one group across prefixes leaves partitions with members that ignore them.
   */
  get kafkaGroupId(): string {
    return `${this.settings.topicPrefix ?? ''}${this.settings.groupId}`;
  }

  async start(): Promise<void> {
    const { kafka } = this.settings;
    const groupId = this.kafkaGroupId;
    this.dlqProducer = kafka.producer({
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
      createPartitioner: Partitioners.DefaultPartitioner,
    });
    await this.dlqProducer.connect();
    this.stopping = new AbortController();
    this.consumer = kafka.consumer({
      groupId,
      allowAutoTopicCreation: false,
      sessionTimeout: CONSUMER_SESSION_TIMEOUT_MS,
      heartbeatInterval: CONSUMER_HEARTBEAT_INTERVAL_MS,
      rebalanceTimeout: CONSUMER_REBALANCE_TIMEOUT_MS,
      maxWaitTimeInMs: CONSUMER_FETCH_WAIT_MS_MAX,
      retry: { retries: 5, restartOnFailure: (error) => this.restartAfterBackoff(error) },
    });
    const consumer = this.consumer;
    consumer.on(consumer.events.GROUP_JOIN, () => {
      this.crashes = 0;
    });
    this.joinedGroup = new Promise((resolve) => {
      const removeListener = consumer.on(consumer.events.GROUP_JOIN, () => {
        removeListener();
        resolve();
      });
    });
    await this.consumer.connect();
    // From the beginning: a new replica (a new group) must see every event ever published.
    await this.consumer.subscribe({ topics: this.topics, fromBeginning: true });
    await this.consumer.run({ eachMessage: (payload) => this.process(payload).then(() => undefined) });
  }

  /** Resolves once the consumer has joined its group and holds partitions (bounded by `timeoutMs`). */
  async joined(timeoutMs = 30_000): Promise<void> {
    if (this.joinedGroup === undefined) throw new Error('consumer not started');
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no group join within ${timeoutMs} ms`)), timeoutMs);
    });
    await Promise.race([this.joinedGroup, timeout]).finally(() => clearTimeout(timer));
  }

  /**
   * KafkaJS restarts a crashed consumer (e.g. the broker went away) almost at once, again and
   * again; this waits 0.5 s, doubling to 5 s (a replica lags at most that long after the broker returns), first, and logs the first and every tenth crash.
   */
  private async restartAfterBackoff(error: Error): Promise<boolean> {
    this.crashes += 1;
    const delayMs = Math.min(
      RESTART_DELAY_MS_MAX,
      RESTART_DELAY_MS_MIN * 2 ** Math.min(this.crashes - 1, 10),
    );
    if (this.crashes === 1 || this.crashes % 10 === 0) {
      this.logger.warn(
        { err: error, crashes: this.crashes, delay_ms: delayMs },
        'consumer crashed; restarting',
      );
    }
    await sleep(delayMs, undefined, { signal: this.stopping.signal }).catch(() => undefined);
    return !this.stopping.signal.aborted;
  }

  async stop(): Promise<void> {
    this.stopping.abort();
    await this.consumer?.disconnect();
    await this.dlqProducer?.disconnect();
    this.consumer = undefined;
    this.dlqProducer = undefined;
  }

  /** Handles one message to an outcome; throws only when even the DLQ cannot be written. */
  async process(payload: EachMessagePayload): Promise<MessageOutcome> {
    const outcome = await this.outcomeOf(payload);
    this.counts[outcome] += 1;
    this.observer?.consumed(this.settings.groupId, this.logicalTopicOf(payload.topic), outcome);
    return outcome;
  }

  private async outcomeOf(payload: EachMessagePayload): Promise<MessageOutcome> {
    const { topic, partition, message } = payload;
    let event: CloudEvent<unknown>;
    let handler: EventHandler | undefined;
    try {
      ({ event, handler } = this.parse(message.value, this.logicalTopicOf(topic)));
    } catch (error) {
      if (!(error instanceof PoisonMessage)) throw error;
      return this.deadLetter(payload, error.reason, error.message, 0);
    }
    if (handler === undefined) return 'ignored';
    const attemptsMax = this.settings.attemptsMax ?? ATTEMPTS_MAX_DEFAULT;
    const backoffMs = this.settings.retryBackoffMs ?? RETRY_BACKOFF_MS_DEFAULT;
    for (let attempt = 1; ; attempt += 1) {
      try {
        const outcome = await withLogContext({ event_id: event.id, event_type: event.type }, () =>
          this.apply(event, handler, topic, partition, message.offset),
        );
        return outcome;
      } catch (error) {
        if (attempt >= attemptsMax) {
          return this.deadLetter(
            payload,
            'handler_failed',
            String((error as Error).message ?? error),
            attempt,
          );
        }
        this.logger.warn({ err: error, attempt, event_id: event.id }, 'event handler failed; retrying');
        await sleep(Math.min(RETRY_BACKOFF_MS_MAX, backoffMs * 2 ** (attempt - 1)));
        // Retries can outlast the 6 s session; a heartbeat between them keeps the member alive.
        await payload.heartbeat();
      }
    }
  }

  private logicalTopicOf(topic: string): string {
    const prefix = this.settings.topicPrefix ?? '';
    return topic.startsWith(prefix) ? topic.slice(prefix.length) : topic;
  }

  private parse(
    value: Buffer | null,
    logicalTopic: string,
  ): { event: CloudEvent<unknown>; handler: EventHandler | undefined } {
    let json: unknown;
    try {
      json = JSON.parse(value?.toString('utf8') ?? '');
    } catch (error) {
      throw new PoisonMessage('malformed_json', (error as Error).message);
    }
    const envelope = cloudEventEnvelope.safeParse(json);
    if (!envelope.success) throw new PoisonMessage('invalid_envelope', envelope.error.message);
    const producer = this.producers.get(logicalTopic);
    if (envelope.data.source !== producer) {
      // Only the topic's producer may speak on it: anyone else who can write to Kafka is refused.
      const claimed = envelope.data.source.slice(0, CLAIMED_SOURCE_CHARS_MAX);
      this.logger.warn(
        { event_id: envelope.data.id, topic: logicalTopic, source: claimed, expected_source: producer },
        'event refused: its source is not the topic’s producer',
      );
      throw new PoisonMessage(
        'unexpected_source',
        `source ${JSON.stringify(claimed)} is not ${String(producer)}, the producer of ${logicalTopic}`,
      );
    }
    const handler = this.handlers.get(envelope.data.type);
    if (handler === undefined) return { event: envelope.data, handler };
    const data = handler.definition.data.safeParse(envelope.data.data);
    if (!data.success) throw new PoisonMessage('invalid_payload', data.error.message);
    return { event: { ...envelope.data, data: data.data }, handler };
  }

  private apply(
    event: CloudEvent<unknown>,
    handler: EventHandler,
    topic: string,
    partition: number,
    offset: string,
  ): Promise<'applied' | 'duplicate'> {
    return withTransaction(this.settings.pool, async (client) => {
      const claimed = await client.query(
        `INSERT INTO inbox_events (consumer_group, event_id, event_type, topic, kafka_partition, kafka_offset)
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING`,
        [this.settings.groupId, event.id, event.type, topic, partition, offset],
      );
      if (claimed.rowCount === 0) return 'duplicate';
      await handler.handle(event as CloudEvent<EventData<EventDefinition>>, client);
      return 'applied';
    });
  }

  private async deadLetter(
    { topic, partition, message }: EachMessagePayload,
    reason: string,
    detail: string,
    attempts: number,
  ): Promise<'dead_lettered'> {
    const prefix = this.settings.topicPrefix ?? '';
    const logicalTopic = this.logicalTopicOf(topic);
    const headers: IHeaders = {
      ...message.headers,
      'puhui-dlq-reason': reason,
      'puhui-dlq-detail': detail.slice(0, 2000),
      'puhui-dlq-consumer-group': this.settings.groupId,
      'puhui-dlq-attempts': String(attempts),
      'puhui-original-topic': topic,
      'puhui-original-partition': String(partition),
      'puhui-original-offset': message.offset,
    };
    if (this.dlqProducer === undefined) throw new Error('consumer not started');
    await this.dlqProducer.send({
      topic: `${prefix}${dlqTopicOf(logicalTopic)}`,
      acks: -1,
      messages: [{ key: message.key, value: message.value, headers }],
    });
    this.logger.error(
      { reason, topic, partition, offset: message.offset, attempts },
      'message sent to the DLQ',
    );
    return 'dead_lettered';
  }
}
