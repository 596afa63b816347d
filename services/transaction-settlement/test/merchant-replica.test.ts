/**
 * Settlement's merchant replica keeps the newest it heard of each merchant: an older event that
 * arrives after a newer one (redelivered, or overtaken) does not overwrite it.
 */
import { merchantUpdated } from '@puhui/contracts';
import { waitFor } from '@puhui/testing';
import { SettlementHarness, useHarness } from './support';

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
