import { ConfigResourceTypes, Kafka, logLevel } from 'kafkajs';
import { TOPICS } from '@puhui/contracts';
import { createKafka, ensureTopics } from '@puhui/events';
import { captureLogger, testKafkaBrokers, uniqueSuffix } from '@puhui/testing';

const { logger } = captureLogger('topics-test', 'warn');

it('creates each topic with its partitions and a .dlq twin, compacts rules, and is idempotent', async () => {
  const kafka = createKafka({ brokers: testKafkaBrokers(), clientId: 'topics-test', logger });
  const prefix = `test.${uniqueSuffix()}.`;
  const settings = { partitions: 4, replicationFactor: 1, prefix };
  await ensureTopics(kafka, [TOPICS.merchants, TOPICS.rules], settings);
  await ensureTopics(kafka, [TOPICS.merchants, TOPICS.rules], settings);

  const admin = kafka.admin();
  await admin.connect();
  try {
    const names = (await admin.listTopics()).filter((name) => name.startsWith(prefix)).sort();
    expect(names).toEqual(
      [TOPICS.merchants, `${TOPICS.merchants}.dlq`, TOPICS.rules, `${TOPICS.rules}.dlq`]
        .map((name) => `${prefix}${name}`)
        .sort(),
    );
    const metadata = await admin.fetchTopicMetadata({ topics: [`${prefix}${TOPICS.merchants}`] });
    expect(metadata.topics[0]?.partitions).toHaveLength(4);
    // Read back by kafkajs whichever client made the topics (PUHUI_KAFKA_CLIENT, decision 0023):
    // the Confluent client's admin has no describeConfigs, and libs/events needs none.
    const witness = new Kafka({
      clientId: 'topics-test-witness',
      brokers: testKafkaBrokers(),
      logLevel: logLevel.NOTHING,
    }).admin();
    await witness.connect();
    const configs = await witness.describeConfigs({
      includeSynonyms: false,
      resources: [
        {
          type: ConfigResourceTypes.TOPIC,
          name: `${prefix}${TOPICS.rules}`,
          configNames: ['cleanup.policy'],
        },
        {
          type: ConfigResourceTypes.TOPIC,
          name: `${prefix}${TOPICS.merchants}`,
          configNames: ['cleanup.policy'],
        },
      ],
    });
    await witness.disconnect();
    const policies = configs.resources.map((resource) => resource.configEntries[0]?.configValue);
    expect(policies).toEqual(['compact', 'delete']);
  } finally {
    await admin.disconnect();
  }
});
