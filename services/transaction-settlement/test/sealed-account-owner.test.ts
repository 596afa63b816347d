/**
 * The account number in settlement's merchant replica is sealed for its merchant (decision 0016:
 * AAD = merchant id), and so is a personal account's holder name (the snapshot carries it
 * masked): a value copied onto another merchant's row, or one still of the v1 format, does not
 * open, and the payment file is refused with a 409 problem, never a 500 or a file that pays the
 * wrong account.
 */
import { createCipheriv, randomBytes } from 'node:crypto';
import { merchantApproved, newId } from '@puhui/contracts';
import { DEVELOPMENT_FIELD_KEY, sealField } from '@puhui/security';
import { confirmCapturesOf } from './acquirer-confirmation';
import { SettlementHarness, merchantApproval, unionFundedRule, useHarness } from './support';
import type { TestCard, TestMerchant } from './support';

const harness = new SettlementHarness();
let shop: TestMerchant;
let other: TestMerchant;
/** A merchant paid into a personal account, announced as merchant-onboarding does: holder masked and sealed. */
let person: TestMerchant;
let card: TestCard;
const HOLDER = '黄月英';

useHarness(harness, async () => {
  shop = await harness.addMerchant('supermarket');
  other = await harness.addMerchant('pharmacy');
  const personId = newId('mer');
  const approval = merchantApproval(personId, 'supermarket');
  await harness.publish(merchantApproved, personId, {
    ...approval,
    merchant: {
      ...approval.merchant,
      settlement_account: {
        ...approval.merchant.settlement_account,
        account_type: 'personal',
        account_name: '黄**',
        account_name_sealed: sealField(HOLDER, DEVELOPMENT_FIELD_KEY, personId),
      },
    },
  });
  person = { merchant_id: personId, secret: await harness.addKey(personId, 2) };
  const budgetId = await harness.addBudget('困难职工补贴');
  await harness.topUp(budgetId, 1_000_000);
  card = await harness.addCard(100, [unionFundedRule(budgetId, 1000, 5000)]);
});

let batches: Promise<Record<string, string>> | undefined;
/** The batch ids of yesterday's run, for every merchant here (one run, made on first use). */
function batchesOfRun(): Promise<Record<string, string>> {
  batches ??= (async () => {
    await harness.captureSale(shop, card, 10_000);
    await harness.captureSale(person, card, 10_000);
    await harness.query(
      'UPDATE checkouts SET business_date = business_date - 1 WHERE settlement_batch_id IS NULL',
    );
    const [{ day } = { day: '' }] = await harness.query<{ day: string }>(
      "SELECT to_char(max(business_date), 'YYYY-MM-DD') AS day FROM checkouts",
    );
    const run = await harness.call('POST', '/v1/settlement_runs', {
      token: harness.finance,
      body: { business_date: day },
    });
    expect(run.status).toBe(201);
    await confirmCapturesOf(harness, [shop.merchant_id, person.merchant_id]);
    return Object.fromEntries(
      run.body.batches.map((entry: { id: string; merchant_id: string }) => [entry.merchant_id, entry.id]),
    );
  })();
  return batches;
}

const exportFile = async (merchant: TestMerchant) =>
  harness.call('GET', `/v1/settlement_batches/${(await batchesOfRun())[merchant.merchant_id]}/export.csv`, {
    token: harness.finance,
  });

/** The v1 format (no owner), as merchant-onboarding sealed account numbers before decision 0016. */
function legacySeal(plaintext: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', Buffer.from(DEVELOPMENT_FIELD_KEY, 'base64'), iv);
  const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return ['v1', iv, cipher.getAuthTag(), ciphertext]
    .map((part) => (typeof part === 'string' ? part : part.toString('base64url')))
    .join('.');
}

async function sealedOf(merchantId: string): Promise<string> {
  const rows = await harness.query<{ sealed: string }>(
    `SELECT settlement_account ->> 'account_number_sealed' AS sealed FROM merchants WHERE merchant_id = $1`,
    [merchantId],
  );
  return rows[0]?.sealed as string;
}

async function storeSealed(merchantId: string, sealed: string): Promise<void> {
  await harness.query(
    `UPDATE merchants SET settlement_account = jsonb_set(settlement_account, '{account_number_sealed}', to_jsonb($2::text))
     WHERE merchant_id = $1`,
    [merchantId, sealed],
  );
}

it('refuses the payment file of a merchant whose sealed account was pasted from another, or is v1 (409)', async () => {
  const batchId = (await batchesOfRun())[shop.merchant_id];
  const own = await sealedOf(shop.merchant_id);
  await storeSealed(shop.merchant_id, await sealedOf(other.merchant_id));
  const pasted = await exportFile(shop);
  expect(pasted.status).toBe(409);
  expect(pasted.body).toMatchObject({
    code: 'settlement_account_unreadable',
    merchant_id: shop.merchant_id,
    reason: 'authentication_failed',
  });
  expect(JSON.stringify(pasted.body)).not.toContain('6222021234567890123');

  await storeSealed(shop.merchant_id, legacySeal('6222021234567890123'));
  const legacy = await exportFile(shop);
  expect(legacy.status).toBe(409);
  expect(legacy.body).toMatchObject({ code: 'settlement_account_unreadable', reason: 'legacy_version' });
  // Nobody exported the file: the refused downloads did not make anyone an exporter.
  const exports = await harness.query<{ count: number }>(
    'SELECT count(*)::int AS count FROM settlement_payment_file_exports WHERE batch_id = $1',
    [batchId],
  );
  expect(exports[0]?.count).toBe(0);

  await storeSealed(shop.merchant_id, own);
  const restored = await exportFile(shop);
  expect(restored.status).toBe(200);
  expect(restored.text).toContain('6222021234567890123');
});

it("prints a personal account's real holder on the payment file, and refuses one sealed for another merchant (409)", async () => {
  const replica = await harness.query<{ account: Record<string, string> }>(
    'SELECT settlement_account AS account FROM merchants WHERE merchant_id = $1',
    [person.merchant_id],
  );
  expect(replica[0]?.account).toMatchObject({ account_type: 'personal', account_name: '黄**' });
  expect(JSON.stringify(replica)).not.toContain(HOLDER);

  const file = await exportFile(person);
  expect(file.status).toBe(200);
  expect(file.text).toContain(HOLDER);
  expect(file.text).not.toContain('黄**');

  const own = replica[0]?.account.account_name_sealed as string;
  const storeHolderSeal = (sealed: string) =>
    harness.query(
      `UPDATE merchants SET settlement_account = jsonb_set(settlement_account, '{account_name_sealed}', to_jsonb($2::text))
       WHERE merchant_id = $1`,
      [person.merchant_id, sealed],
    );
  await storeHolderSeal(sealField(HOLDER, DEVELOPMENT_FIELD_KEY, other.merchant_id));
  const pasted = await exportFile(person);
  expect(pasted.status).toBe(409);
  expect(pasted.body).toMatchObject({
    code: 'settlement_account_unreadable',
    merchant_id: person.merchant_id,
    reason: 'authentication_failed',
  });
  expect(JSON.stringify(pasted.body)).not.toContain(HOLDER);
  await storeHolderSeal(own);
  expect((await exportFile(person)).status).toBe(200);
});
