/**
 * The merchants replica: `puhui.merchants.v1` into the `merchants` table, so rules can name
 * only merchants that exist. Approvals and updates carry the whole snapshot; status events
 * change the status of a merchant already known.
 */
import {
  merchantApproved,
  merchantReinstated,
  merchantSuspended,
  merchantTerminated,
  merchantUpdated,
  parseSequence,
} from '@puhui/contracts';
import type { MerchantSnapshot } from '@puhui/contracts';
import { EventConsumer, onEvent } from '@puhui/events';
import type { PoolClient } from '@puhui/postgres';
import type { ServiceDependencies } from '@puhui/service';
import { setMerchantStatus, upsertMerchant } from '../store/merchants';

export const MERCHANTS_CONSUMER_GROUP = 'discount-rules.merchants';

/** What the handlers read of an event: approvals and updates carry the same snapshot. */
interface SnapshotEvent {
  sequence: string;
  data: { merchant: MerchantSnapshot };
}
interface StatusEvent {
  sequence: string;
  data: { merchant_id: string; status: MerchantSnapshot['status'] };
}

export function merchantReplica({ kafka, pool, logger, config }: ServiceDependencies): EventConsumer {
  const snapshot = (event: SnapshotEvent, client: PoolClient) =>
    upsertMerchant(client, event.data.merchant, parseSequence(event.sequence));
  const status = async (event: StatusEvent, client: PoolClient) => {
    const applied = await setMerchantStatus(
      client,
      event.data.merchant_id,
      event.data.status,
      parseSequence(event.sequence),
    );
    if (!applied)
      logger.debug({ merchant_id: event.data.merchant_id }, 'status event not applied: unknown or older');
  };
  return new EventConsumer({
    kafka,
    pool,
    logger,
    // EventConsumer puts the topic prefix in front of the Kafka group, as it does for the topics.
    groupId: MERCHANTS_CONSUMER_GROUP,
    topicPrefix: config.KAFKA_TOPIC_PREFIX,
    handlers: [
      onEvent(merchantApproved, snapshot),
      onEvent(merchantUpdated, snapshot),
      onEvent(merchantSuspended, status),
      onEvent(merchantReinstated, status),
      onEvent(merchantTerminated, status),
    ],
  });
}
