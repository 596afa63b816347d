/**
 * Reads a topic from the beginning into memory, for tests that assert what was published
 * (exactly once, with the right payload).
 */
import { Kafka, logLevel } from 'kafkajs';
import type { Consumer } from 'kafkajs';
import { testKafkaBrokers, uniqueSuffix, waitFor } from './basics';

export interface RecordedMessage {
  key: string | null;
  value: Record<string, unknown>;
  headers: Record<string, string>;
  partition: number;
}

export interface TopicRecorder {
  messages: RecordedMessage[];
  /** Waits until `count` messages satisfy `predicate` (all messages by default). */
  waitForCount: (
    count: number,
    predicate?: (message: RecordedMessage) => boolean,
  ) => Promise<RecordedMessage[]>;
  stop: () => Promise<void>;
}

/** Services create their topics once Kafka answers; a recorder waits for that. */
async function waitForTopic(kafka: Kafka, topic: string): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    await waitFor(async () => (await admin.listTopics()).includes(topic), { description: `topic ${topic}` });
  } finally {
    await admin.disconnect();
  }
}

export async function recordTopic(topic: string): Promise<TopicRecorder> {
  const kafka = new Kafka({
    clientId: 'topic-recorder',
    brokers: testKafkaBrokers(),
    logLevel: logLevel.NOTHING,
  });
  const consumer: Consumer = kafka.consumer({ groupId: `recorder-${uniqueSuffix()}` });
  const messages: RecordedMessage[] = [];
  await waitForTopic(kafka, topic);
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  const joined = new Promise<void>((resolve) => {
    const remove = consumer.on(consumer.events.GROUP_JOIN, () => {
      remove();
      resolve();
    });
  });
  await consumer.run({
    eachMessage: async ({ message, partition }) => {
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(message.headers ?? {})) headers[name] = String(value);
      messages.push({
        key: message.key?.toString() ?? null,
        value: JSON.parse(message.value?.toString() ?? 'null') as Record<string, unknown>,
        headers,
        partition,
      });
    },
  });
  await joined;
  return {
    messages,
    waitForCount: (count, predicate = () => true) =>
      waitFor(
        () => {
          const matching = messages.filter(predicate);
          return matching.length >= count ? matching : undefined;
        },
        { description: `${count} messages on ${topic}` },
      ),
    stop: () => consumer.disconnect(),
  };
}
