/**
 * Settlement's merchant replica keeps the newest it heard of each merchant: an older event that
 * arrives after a newer one (redelivered, or overtaken) does not overwrite it; and it hears only
 * merchant-onboarding: an event on the topic that claims another source goes to the DLQ unapplied.
 */
import { dlqTopicOf, merchantApproved, merchantUpdated, newId } from '@puhui/contracts';
import { recordTopic, waitFor } from '@puhui/testing';
import { SettlementHarness, merchantApproval, useHarness } from './support';

const harness = new SettlementHarness();

useHarness(harness);

async function replicaOf(merchantId: string) {
  const rows = await harness.query<{ display_name: string; status: string; last_sequence: string }>(
    'SELECT display_name, status, last_sequence::text FROM merchants WHERE merchant_id = $1',
    [merchantId],
  );
  return rows[0];
}

it('ignores a merchant event older than the one the replica reflects', async () => {
  // Approved (sequence 1) with a key (2), as merchant-onboarding announces them.
  const merchant = await harness.addMerchant('supermarket');
  const snapshotNamed = async (displayName: string) => ({
    merchant: {
      merchant_id: merchant.merchant_id,
      status: 'active',
      legal_name: `测试商户 ${merchant.merchant_id}`,
      display_name: displayName,
      category: 'supermarket',
      mcc: '5411',
      region_code: '361100',
      settlement_account: (
        await harness.query<{ settlement_account: unknown }>(
          'SELECT settlement_account FROM merchants WHERE merchant_id = $1',
          [merchant.merchant_id],
        )
      )[0]?.settlement_account,
      outlets: [],
    },
    changed_fields: ['display_name'],
    updated_at: new Date().toISOString(),
  });
  await harness.publish(merchantUpdated, merchant.merchant_id, await snapshotNamed('新名字'), 4);
  await waitFor(async () => (await replicaOf(merchant.merchant_id))?.display_name === '新名字', {
    description: 'the update replicated',
  });
  // Older than the update: a suspension (sequence 3) and an update overtaken on the way.
  await harness.suspendMerchant(merchant.merchant_id);
  await harness.publish(merchantUpdated, merchant.merchant_id, await snapshotNamed('旧名字'), 2);
  // A later event of the same merchant, on the same partition: once it is in, so are the older ones.
  await harness.addKey(merchant.merchant_id, 5);
  expect(await replicaOf(merchant.merchant_id)).toEqual({
    display_name: '新名字',
    status: 'active',
    last_sequence: '4',
  });
});

it('refuses to the DLQ a merchant event whose source is not merchant-onboarding, and applies the next genuine one', async () => {
  const dlq = await recordTopic(dlqTopicOf(harness.topic('merchants')));
  try {
    const forgedId = newId('mer');
    const strangerId = newId('mer');
    // Well-formed approvals, but claimed by another service and by one nobody knows.
    await harness.publish(
      merchantApproved,
      forgedId,
      merchantApproval(forgedId, 'supermarket', '冒充的商户'),
      1,
      'discount-rules',
    );
    await harness.publish(
      merchantApproved,
      strangerId,
      merchantApproval(strangerId, 'supermarket'),
      1,
      'intruder',
    );
    // The genuine approval of the first merchant, after the forged one on the same partition.
    await harness.publish(
      merchantApproved,
      forgedId,
      merchantApproval(forgedId, 'supermarket', '真的商户'),
      1,
    );
    const refused = await dlq.waitForCount(2);
    expect(
      refused.map((message) => [message.key, message.value.source, message.headers['puhui-dlq-reason']]),
    ).toEqual(
      expect.arrayContaining([
        [forgedId, 'discount-rules', 'unexpected_source'],
        [strangerId, 'intruder', 'unexpected_source'],
      ]),
    );
    expect(refused[0]?.headers['puhui-original-topic']).toBe(harness.topic('merchants'));
    await waitFor(async () => (await replicaOf(forgedId))?.display_name === '真的商户', {
      description: 'the genuine approval applied',
    });
    expect(await replicaOf(strangerId)).toBeUndefined();
    expect(dlq.messages).toHaveLength(2);
  } finally {
    await dlq.stop();
  }
});
