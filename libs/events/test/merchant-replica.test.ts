/**
 * merchantReplicaConsumer on the real Kafka and Postgres, with a store as small as a service's:
 * events applied in sequence, and an older event arriving after a newer one changes nothing.
 */
import { randomUUID } from 'node:crypto';
import type { PoolClient } from 'pg';
import {
  TOPICS,
  TOPIC_PRODUCERS,
  formatSequence,
  merchantApproved,
  merchantReinstated,
  merchantSuspended,
  merchantUpdated,
} from '@puhui/contracts';
import type { EventDefinition, MerchantSnapshot } from '@puhui/contracts';
import { ensureTopics, merchantReplicaConsumer } from '@puhui/events';
import type { EventConsumer, MerchantReplicaStore } from '@puhui/events';
import { captureLogger, uniqueSuffix, waitFor } from '@puhui/testing';
import { setUpEventsTest } from './support';
import type { EventsTestContext } from './support';

const { logger } = captureLogger('merchant-replica-test', 'warn');
let context: EventsTestContext;
let consumer: EventConsumer;
const snapshotsAfter: string[] = [];

/**
 * The replica a service would keep: name and status, guarded by the last sequence applied; its
 * status events go through the lib's own write (setReplicaMerchantStatus).
 */
const store: MerchantReplicaStore = {
  async upsertMerchant(client: PoolClient, merchant: MerchantSnapshot, sequence: bigint) {
    const result = await client.query(
      `INSERT INTO merchants (merchant_id, display_name, status, last_sequence) VALUES ($1, $2, $3, $4)
       ON CONFLICT (merchant_id) DO UPDATE SET display_name = EXCLUDED.display_name, status = EXCLUDED.status,
         last_sequence = EXCLUDED.last_sequence
       WHERE merchants.last_sequence < EXCLUDED.last_sequence`,
      [merchant.merchant_id, merchant.display_name, merchant.status, sequence.toString()],
    );
    return (result.rowCount ?? 0) > 0;
  },
};

function snapshot(merchantId: string, displayName: string): MerchantSnapshot {
  return {
    merchant_id: merchantId,
    status: 'active',
    legal_name: '测试商户有限公司',
    display_name: displayName,
    category: 'supermarket',
    mcc: '5411',
    region_code: '361100',
    settlement_account: {
      account_type: 'corporate',
      account_name: '测试商户有限公司',
      account_number_masked: '**** 0123',
      account_number_last4: '0123',
      account_number_sealed: 'sealed',
      bank_name: '中国工商银行',
      branch_code: '102431000015',
    },
    settlement_account_changed_at: null,
    outlets: [],
  };
}

async function publish(definition: EventDefinition, subject: string, sequence: number, data: unknown) {
  const producer = context.kafka.producer();
  await producer.connect();
  try {
    await producer.send({
      topic: `${context.topicPrefix}${definition.topic}`,
      acks: -1,
      messages: [
        {
          key: subject,
          value: JSON.stringify({
            specversion: '1.0',
            id: randomUUID(),
            source: TOPIC_PRODUCERS[TOPICS.merchants],
            type: definition.type,
            subject,
            time: new Date().toISOString(),
            datacontenttype: 'application/json',
            sequence: formatSequence(sequence),
            data,
          }),
        },
      ],
    });
  } finally {
    await producer.disconnect();
  }
}

const now = () => new Date().toISOString();
const statusChange = (merchantId: string, status: string) => ({
  merchant_id: merchantId,
  status,
  reason: null,
  occurred_at: now(),
});
const updated = (merchantId: string, displayName: string) => ({
  merchant: snapshot(merchantId, displayName),
  changed_fields: ['display_name'],
  updated_at: now(),
});

async function replicaOf(merchantId: string) {
  const { rows } = await context.pool.query<{ display_name: string; status: string; last_sequence: string }>(
    'SELECT display_name, status, last_sequence FROM merchants WHERE merchant_id = $1',
    [merchantId],
  );
  return rows[0];
}

beforeAll(async () => {
  context = await setUpEventsTest('events_merchants', logger);
  await ensureTopics(context.kafka, [TOPICS.merchants], {
    partitions: 3,
    replicationFactor: 1,
    prefix: context.topicPrefix,
  });
  await context.pool.query(
    `CREATE TABLE merchants (merchant_id text PRIMARY KEY, display_name text NOT NULL, status text NOT NULL,
       last_sequence bigint NOT NULL, updated_at timestamptz NOT NULL DEFAULT now())`,
  );
  consumer = merchantReplicaConsumer({
    kafka: context.kafka,
    pool: context.pool,
    logger,
    groupId: `merchant-replica-${uniqueSuffix()}`,
    topicPrefix: context.topicPrefix,
    store,
    afterSnapshot: async (_client, merchant) => {
      snapshotsAfter.push(merchant.display_name);
    },
  });
  await consumer.start();
  await consumer.joined();
});

afterAll(async () => {
  await consumer.stop();
  await context.close();
});

describe('merchantReplicaConsumer', () => {
  it('applies a merchant’s events in sequence and ignores one older than what the replica holds', async () => {
    const merchantId = `mer_${uniqueSuffix()}`;
    await publish(merchantApproved, merchantId, 1, {
      merchant: snapshot(merchantId, '一号店'),
      approved_at: now(),
      approved_by: 'operator:test',
    });
    await publish(merchantUpdated, merchantId, 3, updated(merchantId, '新名字'));
    await publish(merchantSuspended, merchantId, 4, statusChange(merchantId, 'suspended'));
    // Older than the suspension: an update and a reinstatement overtaken on the way.
    await publish(merchantUpdated, merchantId, 2, updated(merchantId, '旧名字'));
    await publish(merchantReinstated, merchantId, 3, statusChange(merchantId, 'active'));
    // A newer one after them: once it is applied, the older ones have been seen.
    await publish(merchantReinstated, merchantId, 6, statusChange(merchantId, 'active'));
    await waitFor(async () => (await replicaOf(merchantId))?.last_sequence === '6', {
      description: 'the last event applied',
    });
    expect(await replicaOf(merchantId)).toEqual({
      display_name: '新名字',
      status: 'active',
      last_sequence: '6',
    });
    expect(consumer.counts.applied).toBeGreaterThanOrEqual(6);
    // The hook runs for the snapshots written, not for the older one skipped.
    expect(snapshotsAfter).toEqual(['一号店', '新名字']);
  });

  it('ignores a status event for a merchant it does not know', async () => {
    const merchantId = `mer_${uniqueSuffix()}`;
    await publish(merchantSuspended, merchantId, 2, statusChange(merchantId, 'suspended'));
    await publish(merchantApproved, merchantId, 3, {
      merchant: snapshot(merchantId, '后来的店'),
      approved_at: now(),
      approved_by: 'operator:test',
    });
    await waitFor(async () => (await replicaOf(merchantId)) !== undefined, {
      description: 'the approval applied',
    });
    expect(await replicaOf(merchantId)).toEqual({
      display_name: '后来的店',
      status: 'active',
      last_sequence: '3',
    });
  });
});
