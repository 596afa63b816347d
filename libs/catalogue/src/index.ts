/**
 * The event catalogue: an AsyncAPI 3.0 document generated from the same `defineEvent`
 * definitions producers and consumers validate with (libs/contracts, libs/discount), in the
 * CloudEvents envelope of DESIGN §3. Every topic is a channel (with its `.dlq` twin), every
 * event type a message, and who sends and who receives each is an operation.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import {
  CHECKOUT_EVENTS,
  COMPACTED_TOPICS,
  JsonSchemaCollector,
  MERCHANT_EVENTS,
  SETTLEMENT_EVENTS,
  TOPICS,
  TOPIC_PRODUCERS,
  cloudEventEnvelope,
  dlqTopicOf,
} from '@puhui/contracts';
import type { ServiceName } from '@puhui/config';
import type { EventDefinition } from '@puhui/contracts';
import { DISCOUNT_RULES_EVENTS } from '@puhui/discount';
import { z } from 'zod';

type TopicKey = keyof typeof TOPICS;

/** Every event a Puhui service publishes. */
export const ALL_EVENTS: readonly EventDefinition[] = [
  ...MERCHANT_EVENTS,
  ...DISCOUNT_RULES_EVENTS,
  ...CHECKOUT_EVENTS,
  ...SETTLEMENT_EVENTS,
];

/** The Kafka message key of each topic (DESIGN §3). */
export const MESSAGE_KEYS: Record<TopicKey, string> = {
  merchants: 'The merchant id (`mer_…`): one merchant’s events stay in order.',
  cards: 'The card token (`ctok_…`): one card’s events stay in order.',
  rules:
    'The rule id (`rul_…`), or the budget id for budget events; compacted, so the latest message per key is the current truth.',
  checkouts: 'The merchant id (`mer_…`).',
  settlements: 'The merchant id (`mer_…`).',
};

const TOPIC_DESCRIPTIONS: Record<TopicKey, string> = {
  merchants: 'Approved merchants, their changes and status, and their API keys (hash and prefix only).',
  cards: 'Member cards as token, last 4, tier and status; never a card number.',
  rules: 'Published and retired discount rules (the full rule each time) and union budgets.',
  checkouts: 'Captures, refunds and voids; cards as token and last 4 only.',
  settlements: 'Settlement batches created and paid.',
};

export interface Consumer {
  service: ServiceName;
  /** The Kafka consumer group, without the test-only topic prefix. */
  groupId: string;
  /** Where the handlers are. */
  source: string;
  events: readonly string[];
}

/** Publishers by topic: the service whose outbox relay writes it. Each topic's one producer, as libs/contracts names it (the only `source` its consumers accept). */
export const PUBLISHERS = Object.fromEntries(
  Object.entries(TOPICS).map(([key, topic]) => [key, TOPIC_PRODUCERS[topic]]),
) as Record<TopicKey, ServiceName>;

const merchantReplicaEvents = [
  'puhui.merchant.approved.v1',
  'puhui.merchant.updated.v1',
  'puhui.merchant.suspended.v1',
  'puhui.merchant.reinstated.v1',
  'puhui.merchant.terminated.v1',
];

/** Consumers as the services' `src/consumers/` define them (each service's tests check its own). */
export const CONSUMERS: readonly Consumer[] = [
  {
    service: 'discount-rules',
    groupId: 'discount-rules.merchants',
    source: 'services/discount-rules/src/consumers/merchants.ts',
    events: merchantReplicaEvents,
  },
  {
    service: 'transaction-settlement',
    groupId: 'transaction-settlement.merchants',
    source: 'services/transaction-settlement/src/consumers/replicas.ts',
    events: [
      ...merchantReplicaEvents,
      'puhui.merchant.api_key.created.v1',
      'puhui.merchant.api_key.revoked.v1',
    ],
  },
  {
    service: 'transaction-settlement',
    groupId: 'transaction-settlement.budgets',
    source: 'services/transaction-settlement/src/consumers/replicas.ts',
    events: ['puhui.budget.created.v1'],
  },
];

const KAFKA_BINDING_VERSION = '0.5.0';
const COMPONENT_SCHEMAS = '#/components/schemas/';

/** `puhui.merchant.api_key.created.v1` → `merchantApiKeyCreatedV1`. */
export function messageName(type: string): string {
  const words = type.replace(/^puhui\./u, '').split(/[._]/u);
  return words
    .map((word, index) => (index === 0 ? word : `${word[0]?.toUpperCase() ?? ''}${word.slice(1)}`))
    .join('');
}

function camel(text: string): string {
  return text.replace(/-([a-z])/gu, (_, letter: string) => letter.toUpperCase());
}

function topicKeyOf(topic: string): TopicKey {
  const entry = Object.entries(TOPICS).find(([, name]) => name === topic);
  if (entry === undefined) throw new Error(`event topic ${topic} is not one of TOPICS`);
  return entry[0] as TopicKey;
}

function payloadOf(definition: EventDefinition): z.ZodType {
  return cloudEventEnvelope.extend({ type: z.literal(definition.type), data: definition.data });
}

function messageOf(definition: EventDefinition, collector: JsonSchemaCollector) {
  const topic = topicKeyOf(definition.topic);
  return {
    name: definition.type,
    title: definition.type,
    summary: `\`${definition.type}\` on \`${definition.topic}\`, in the CloudEvents 1.0 structured JSON envelope.`,
    contentType: 'application/json',
    payload: collector.convert(payloadOf(definition)),
    bindings: {
      kafka: {
        key: { type: 'string', description: MESSAGE_KEYS[topic] },
        bindingVersion: KAFKA_BINDING_VERSION,
      },
    },
  };
}

function channelsOf(byTopic: Map<TopicKey, EventDefinition[]>) {
  const channels: Record<string, unknown> = {};
  for (const [topic, definitions] of byTopic) {
    const address = TOPICS[topic];
    const messages = Object.fromEntries(
      definitions.map((definition) => [
        messageName(definition.type),
        { $ref: `#/components/messages/${messageName(definition.type)}` },
      ]),
    );
    const compacted = COMPACTED_TOPICS.has(address);
    channels[topic] = {
      address,
      title: address,
      description: `${TOPIC_DESCRIPTIONS[topic]}\n\nMessage key: ${MESSAGE_KEYS[topic]}\n\nProducer: \`${PUBLISHERS[topic]}\`, the only \`source\` its consumers accept.${compacted ? '\n\nCompacted.' : ''}`,
      messages,
      bindings: {
        kafka: {
          topic: address,
          topicConfiguration: { 'cleanup.policy': [compacted ? 'compact' : 'delete'] },
          bindingVersion: KAFKA_BINDING_VERSION,
        },
      },
    };
    channels[`${topic}Dlq`] = {
      address: dlqTopicOf(address),
      title: dlqTopicOf(address),
      description: `Messages of \`${address}\` that a consumer could not process after bounded retries, as they were (same key). Not compacted.`,
      messages,
      bindings: {
        kafka: {
          topic: dlqTopicOf(address),
          topicConfiguration: { 'cleanup.policy': ['delete'] },
          bindingVersion: KAFKA_BINDING_VERSION,
        },
      },
    };
  }
  return channels;
}

function operationsOf(byTopic: Map<TopicKey, EventDefinition[]>) {
  const operations: Record<string, unknown> = {};
  const messageReference = (topic: TopicKey, type: string) => ({
    $ref: `#/channels/${topic}/messages/${messageName(type)}`,
  });
  for (const [topic, definitions] of byTopic) {
    const publisher = PUBLISHERS[topic];
    operations[`${camel(publisher)}Publishes${topic[0]?.toUpperCase()}${topic.slice(1)}`] = {
      action: 'send',
      channel: { $ref: `#/channels/${topic}` },
      title: `${publisher} publishes ${TOPICS[topic]}`,
      summary: `${publisher} publishes through its transactional outbox (acks=-1, at least once).`,
      messages: definitions.map((definition) => messageReference(topic, definition.type)),
    };
  }
  for (const consumer of CONSUMERS) {
    const definitions = ALL_EVENTS.filter((definition) => consumer.events.includes(definition.type));
    const topics = [...new Set(definitions.map((definition) => topicKeyOf(definition.topic)))];
    for (const topic of topics) {
      operations[camel(`${consumer.groupId.replace('.', '-')}-receives-${topic}`)] = {
        action: 'receive',
        channel: { $ref: `#/channels/${topic}` },
        title: `${consumer.service} receives ${TOPICS[topic]}`,
        summary: `Consumer group \`${consumer.groupId}\` (${consumer.source}); accepts only \`source\` \`${PUBLISHERS[topic]}\`, dedupes on the event id, dead-letters to \`${dlqTopicOf(TOPICS[topic])}\`.`,
        messages: definitions
          .filter((definition) => topicKeyOf(definition.topic) === topic)
          .map((definition) => messageReference(topic, definition.type)),
        bindings: {
          kafka: {
            groupId: { type: 'string', enum: [consumer.groupId] },
            bindingVersion: KAFKA_BINDING_VERSION,
          },
        },
      };
    }
  }
  return operations;
}

const manifest = JSON.parse(readFileSync(path.join(__dirname, '..', 'package.json'), 'utf8')) as {
  version: string;
};

export function asyncApiDocument(options: { kafkaHost?: string } = {}): Record<string, unknown> {
  for (const consumer of CONSUMERS) {
    for (const type of consumer.events) {
      if (!ALL_EVENTS.some((definition) => definition.type === type))
        throw new Error(`${consumer.groupId} receives unknown ${type}`);
    }
  }
  const collector = new JsonSchemaCollector({
    io: 'output',
    target: 'draft-07',
    componentsPath: COMPONENT_SCHEMAS,
  });
  const byTopic = new Map<TopicKey, EventDefinition[]>();
  for (const definition of ALL_EVENTS) {
    const topic = topicKeyOf(definition.topic);
    byTopic.set(topic, [...(byTopic.get(topic) ?? []), definition]);
  }
  const messages = Object.fromEntries(
    ALL_EVENTS.map((definition) => [messageName(definition.type), messageOf(definition, collector)]),
  );
  return {
    asyncapi: '3.0.0',
    info: {
      title: 'Puhui events',
      version: manifest.version,
      description:
        'Every Kafka topic and event type of Puhui (DESIGN §3). Events travel as CloudEvents 1.0 structured JSON: `specversion`, `id` (UUID, the dedupe key), `source` (the service that published it: each topic has one producer, and its consumers send an event with any other `source` to the topic’s `.dlq` with `puhui-dlq-reason: unexpected_source`, unapplied), `type`, `subject` (the aggregate id), `time`, `datacontenttype`, `sequence` (per aggregate, 20 zero-padded digits) and `data`. Delivery is at least once through a transactional outbox; consumers dedupe on `id`. Each topic has a `.dlq` twin.',
      license: { name: 'Proprietary' },
    },
    defaultContentType: 'application/json',
    servers: {
      local: {
        host: options.kafkaHost ?? '127.0.0.1:9092',
        protocol: 'kafka',
        description: 'The local single-node Kafka (infra/); production brokers come from KAFKA_BROKERS.',
      },
    },
    channels: channelsOf(byTopic),
    operations: operationsOf(byTopic),
    components: {
      messages,
      schemas: collector.components,
    },
  };
}
