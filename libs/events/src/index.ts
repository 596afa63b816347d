import path from 'node:path';

export { createKafka, ensureTopics, kafkaReadiness } from './kafka';
export type { Kafka, KafkaSettings, TopicSettings } from './kafka';
export { kafkaClientName } from './kafka-confluent';
export type { KafkaClientName } from './kafka-confluent';
export { appendEvent, appendEvents } from './outbox';
export type { NewEvent } from './outbox';
export { CLOUDEVENTS_CONTENT_TYPE, OutboxRelay } from './relay';
export type { RelaySettings } from './relay';
export { CONSUMER_REJOIN_BOUND_MS, EventConsumer, onEvent } from './consumer';
export { pruneEventTables } from './retention';
export type { RetentionSettings } from './retention';
export type { ConsumerSettings, EventHandler, MessageOutcome } from './consumer';
export { merchantReplicaConsumer } from './merchant-replica';
export type { MerchantReplicaSettings, MerchantReplicaStore } from './merchant-replica';

/** SQL migrations for the outbox and inbox tables; run them with their own migrations table. */
export const EVENTS_MIGRATIONS_DIRECTORY = path.join(__dirname, '..', 'migrations');
export const EVENTS_MIGRATIONS_TABLE = 'pgmigrations_events';
