/**
 * The CloudEvents 1.0 structured-mode envelope (DESIGN §3) every Puhui event travels in,
 * and the typed definitions that tie an event type to its topic and payload schema.
 */
import { z } from 'zod';

/** Topics, one per aggregate family; each has a `.dlq` twin for messages a consumer cannot process. */
export const TOPICS = {
  merchants: 'puhui.merchants.v1',
  cards: 'puhui.cards.v1',
  rules: 'puhui.rules.v1',
  checkouts: 'puhui.checkouts.v1',
  settlements: 'puhui.settlements.v1',
} as const;
export type TopicName = (typeof TOPICS)[keyof typeof TOPICS];

/**
 * The one service that publishes each topic (DESIGN §2, §3), as the `source` of its events.
 * Consumers refuse an event whose `source` names any other to the topic's `.dlq` (DESIGN §8).
 */
export const TOPIC_PRODUCERS: Readonly<Record<TopicName, string>> = {
  [TOPICS.merchants]: 'merchant-onboarding',
  [TOPICS.cards]: 'discount-rules',
  [TOPICS.rules]: 'discount-rules',
  [TOPICS.checkouts]: 'transaction-settlement',
  [TOPICS.settlements]: 'transaction-settlement',
};

export const DLQ_SUFFIX = '.dlq';
export function dlqTopicOf(topic: string): string {
  return `${topic}${DLQ_SUFFIX}`;
}

/** Topics whose log keeps only the latest event per key (rules: the full rule each time). */
export const COMPACTED_TOPICS: ReadonlySet<string> = new Set([TOPICS.rules]);

export const EVENT_TYPE_SHAPE = /^puhui\.[a-z_]+(\.[a-z_]+)*\.v[1-9]\d*$/u;

/**
 * `sequence` follows the CloudEvents sequence extension: a string that orders
 * lexicographically, so the per-aggregate counter is zero-padded to 20 digits.
 */
export const SEQUENCE_DIGITS = 20;
export function formatSequence(sequence: number | bigint): string {
  return sequence.toString().padStart(SEQUENCE_DIGITS, '0');
}
export function parseSequence(sequence: string): bigint {
  return BigInt(sequence);
}

/** W3C Trace Context `traceparent`: version, 32-hex trace id, 16-hex parent id, flags. */
export const TRACEPARENT_SHAPE = /^[\da-f]{2}-[\da-f]{32}-[\da-f]{16}-[\da-f]{2}$/u;
/** W3C Trace Context allows 32 list members of up to 256 characters; 512 is what it asks to propagate at least. */
export const TRACESTATE_CHARS_MAX = 512;

export const cloudEventEnvelope = z.object({
  specversion: z.literal('1.0'),
  id: z.uuid(),
  source: z.string().min(1),
  type: z.string().regex(EVENT_TYPE_SHAPE),
  subject: z.string().min(1),
  time: z.iso.datetime({ offset: true }),
  datacontenttype: z.literal('application/json'),
  sequence: z.string().regex(new RegExp(`^\\d{${SEQUENCE_DIGITS}}$`, 'u')),
  /**
   * The CloudEvents distributed-tracing extension: the W3C trace context of the request that
   * wrote the event, so the relay's publish and each consumer's handling continue its trace
   * (decision 0026). Absent when the writer was not traced; a consumer never requires it, and
   * one that is malformed is dropped rather than making the event a poison message: a trace is
   * worth less than the event.
   */
  traceparent: z.string().regex(TRACEPARENT_SHAPE).optional().catch(undefined),
  tracestate: z.string().max(TRACESTATE_CHARS_MAX).optional().catch(undefined),
  data: z.unknown(),
});
export type CloudEventEnvelope = z.infer<typeof cloudEventEnvelope>;

export interface CloudEvent<Data> extends Omit<CloudEventEnvelope, 'data'> {
  data: Data;
}

export interface EventDefinition<Type extends string = string, Schema extends z.ZodType = z.ZodType> {
  type: Type;
  topic: string;
  data: Schema;
}

export function defineEvent<Type extends string, Schema extends z.ZodType>(
  type: Type,
  topic: string,
  data: Schema,
): EventDefinition<Type, Schema> {
  if (!EVENT_TYPE_SHAPE.test(type)) throw new Error(`event type "${type}" does not read puhui.<name>.v<N>`);
  return { type, topic, data };
}

export type EventData<Definition> =
  Definition extends EventDefinition<string, infer Schema> ? z.output<Schema> : never;

/** Looks events up by type; both producers and consumers validate against it. */
export class EventCatalog {
  private readonly byType = new Map<string, EventDefinition>();

  constructor(definitions: readonly EventDefinition[]) {
    for (const definition of definitions) {
      if (this.byType.has(definition.type)) throw new Error(`event type ${definition.type} defined twice`);
      this.byType.set(definition.type, definition);
    }
  }

  get(type: string): EventDefinition | undefined {
    return this.byType.get(type);
  }

  definitions(): EventDefinition[] {
    return [...this.byType.values()];
  }

  topics(): string[] {
    return [...new Set(this.definitions().map((definition) => definition.topic))];
  }
}
