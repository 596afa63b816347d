/**
 * A service's replica of merchants, fed by `puhui.merchants.v1`: approvals and updates carry
 * the whole snapshot, status events change the status of a merchant already known. Each
 * write carries the event's per-merchant sequence, and the service's store skips it when the
 * row already reflects a later event, so an event redelivered or overtaken out of order never
 * undoes a newer one. The table and its columns are the service's own: it hands in a store.
 */
import {
  merchantApproved,
  merchantReinstated,
  merchantSuspended,
  merchantTerminated,
  merchantUpdated,
  parseSequence,
} from '@puhui/contracts';
import type { CloudEvent, MerchantSnapshot } from '@puhui/contracts';
import type { PoolClient } from 'pg';
import { EventConsumer, onEvent } from './consumer';
import type { ConsumerSettings, EventHandler } from './consumer';

/** The statuses a merchant's status events announce. */
type ReplicatedMerchantStatus = 'active' | 'suspended' | 'terminated';

/**
 * A service's merchants table, each write guarded by the merchant's last applied sequence.
 * Its columns are the service's own, so it writes the snapshot; a status event changes only
 * `status`, which every replica keeps the same way (`setReplicaMerchantStatus`).
 */
export interface MerchantReplicaStore {
  /** Writes the snapshot unless the row reflects `sequence` or later; true when written. */
  upsertMerchant(client: PoolClient, merchant: MerchantSnapshot, sequence: bigint): Promise<boolean>;
}

/**
 * The status write of a replica kept in a table `merchants (merchant_id, status, last_sequence,
 * updated_at)`, as discount-rules' and settlement's are: false when nothing changed (the
 * merchant is unknown, or its row reflects a later event).
 */
async function setReplicaMerchantStatus(
  client: PoolClient,
  merchantId: string,
  status: ReplicatedMerchantStatus,
  sequence: bigint,
): Promise<boolean> {
  const result = await client.query(
    `UPDATE merchants SET status = $2, last_sequence = $3, updated_at = now()
     WHERE merchant_id = $1 AND last_sequence < $3`,
    [merchantId, status, sequence.toString()],
  );
  return (result.rowCount ?? 0) > 0;
}

export interface MerchantReplicaSettings extends Omit<ConsumerSettings, 'handlers'> {
  store: MerchantReplicaStore;
  /** Runs in the same transaction after a snapshot is written (settlement opens the merchant's accounts). */
  afterSnapshot?: (client: PoolClient, merchant: MerchantSnapshot) => Promise<void>;
  /** Other events of the topic the same consumer group applies (settlement: the merchants' API keys). */
  handlers?: readonly EventHandler[];
}

const STATUS_EVENTS = [
  [merchantSuspended, 'suspended'],
  [merchantReinstated, 'active'],
  [merchantTerminated, 'terminated'],
] as const;

export function merchantReplicaConsumer(settings: MerchantReplicaSettings): EventConsumer {
  const { store, afterSnapshot, handlers = [], ...consumer } = settings;
  const skipped = (merchantId: string, event: CloudEvent<unknown>) =>
    consumer.logger.debug(
      { merchant_id: merchantId, event_type: event.type, sequence: event.sequence },
      'merchant event not applied: unknown merchant, or the replica reflects a later event',
    );
  const snapshot = async (
    event: CloudEvent<{ merchant: MerchantSnapshot }>,
    client: PoolClient,
  ): Promise<void> => {
    const { merchant } = event.data;
    if (await store.upsertMerchant(client, merchant, parseSequence(event.sequence))) {
      await afterSnapshot?.(client, merchant);
    } else {
      skipped(merchant.merchant_id, event);
    }
  };
  const statusHandlers = STATUS_EVENTS.map(([definition, status]) =>
    onEvent(definition, async (event, client) => {
      const { merchant_id: merchantId } = event.data;
      if (!(await setReplicaMerchantStatus(client, merchantId, status, parseSequence(event.sequence))))
        skipped(merchantId, event);
    }),
  );
  return new EventConsumer({
    ...consumer,
    handlers: [
      onEvent(merchantApproved, snapshot),
      onEvent(merchantUpdated, snapshot),
      ...statusHandlers,
      ...handlers,
    ],
  });
}
