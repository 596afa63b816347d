/**
 * The merchants replica: `puhui.merchants.v1` into the `merchants` table (libs/events'
 * merchantReplicaConsumer), so that rules can name only merchants that exist.
 */
import { merchantReplicaConsumer } from '@puhui/events';
import type { EventConsumer } from '@puhui/events';
import type { ServiceDependencies } from '@puhui/service';
import { upsertMerchant } from '../store/merchants';

export const MERCHANTS_CONSUMER_GROUP = 'discount-rules.merchants';

export function merchantReplica({ kafka, pool, logger, config }: ServiceDependencies): EventConsumer {
  return merchantReplicaConsumer({
    kafka,
    pool,
    logger,
    // EventConsumer puts the topic prefix in front of the Kafka group, as it does for the topics.
    groupId: MERCHANTS_CONSUMER_GROUP,
    topicPrefix: config.KAFKA_TOPIC_PREFIX,
    store: { upsertMerchant },
  });
}
