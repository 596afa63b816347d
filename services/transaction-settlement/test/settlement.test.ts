import { randomUUID } from 'node:crypto';
import { parse } from 'csv-parse/sync';
import { confirmCapturesOf } from './acquirer-confirmation';
import { SALE_DESCRIPTION, SettlementHarness, percentOffRule, unionFundedRule, useHarness } from './support';
import type { TestCard, TestMerchant } from './support';

const harness = new SettlementHarness();
let shop: TestMerchant;
let pharmacy: TestMerchant;
let shopCard: TestCard;
let pharmacyCard: TestCard;
let budgetId: string;

useHarness(harness, async () => {
  shop = await harness.addMerchant('supermarket');
  pharmacy = await harness.addMerchant('pharmacy');
  budgetId = await harness.addBudget('困难职工补贴');
  await harness.topUp(budgetId, 1_000_000);
  shopCard = await harness.addCard(100, [unionFundedRule(budgetId, 1000, 5000)]);
  pharmacyCard = await harness.addCard(101, [percentOffRule({ category: 'pharmacy', bps: 1500 })]);
});

const voidCheckout = (merchant: TestMerchant, checkoutId: string) =>
  harness.call('POST', `/v1/checkouts/${checkoutId}/void`, {
    token: merchant.secret,
    idempotencyKey: randomUUID(),
  });

/** Moves today's activity to yesterday, as if the day had passed, and returns yesterday's date. */
async function closeTheDay(): Promise<string> {
  await harness.query(
    'UPDATE checkouts SET business_date = business_date - 1 WHERE settlement_batch_id IS NULL',
  );
  await harness.query(
    'UPDATE refunds SET business_date = business_date - 1 WHERE settlement_batch_id IS NULL',
  );
  const rows = await harness.query<{ day: string }>(
    "SELECT to_char(max(business_date), 'YYYY-MM-DD') AS day FROM checkouts",
  );
  return rows[0]?.day as string;
}

/** What the ledger moved for a merchant's items of a batch, by transfer kind. */
async function ledgerByKind(batchId: string): Promise<Record<string, number>> {
  const rows = await harness.query<{ kind: string; total: string }>(
    `SELECT t.kind, sum(t.amount_minor)::text AS total FROM ledger_transfers t
     WHERE t.checkout_id IN (SELECT checkout_id FROM checkouts WHERE settlement_batch_id = $1)
       AND (t.refund_id IS NULL OR t.refund_id IN (SELECT refund_id FROM refunds WHERE settlement_batch_id = $1))
     GROUP BY t.kind`,
    [batchId],
  );
  return Object.fromEntries(rows.map((row) => [row.kind, Number(row.total)]));
}

describe('settling a business day', () => {
  it('settles captures, partial refunds and voids to totals that equal the ledger, once', async () => {
    const first = await harness.captureSale(shop, shopCard, 10_000);
    const second = await harness.captureSale(shop, shopCard, 4_990);
    const voided = await harness.captureSale(shop, shopCard, 2_000);
    const medicine = await harness.captureSale(pharmacy, pharmacyCard, 8_800);
    expect((await harness.refundSale(shop, first.body.id, 2_500)).status).toBe(201);
    expect((await voidCheckout(shop, voided.body.id)).status).toBe(200);
    const day = await closeTheDay();

    const open = await harness.call('POST', '/v1/settlement_runs', {
      token: harness.finance,
      body: { business_date: '2999-01-01' },
    });
    expect(open.status).toBe(409);
    expect(open.body.code).toBe('business_day_open');

    const run = await harness.call('POST', '/v1/settlement_runs', {
      token: harness.finance,
      body: { business_date: day },
    });
    expect(run.status).toBe(201);
    expect(run.body.batches_created).toBe(2);
    const shopBatch = run.body.batches.find(
      (batch: { merchant_id: string }) => batch.merchant_id === shop.merchant_id,
    );
    expect(shopBatch).toMatchObject({
      business_date: day,
      capture_count: 2,
      void_count: 1,
      refund_count: 1,
      gross_minor: 14_990,
      merchant_funded_minor: first.body.merchant_funded_minor + second.body.merchant_funded_minor,
      union_funded_minor: first.body.union_funded_minor + second.body.union_funded_minor,
      net_minor: first.body.net_minor + second.body.net_minor,
      refunds_minor: 2_500,
      // No statement reconciled yet: the union part is held (DESIGN §6).
      status: 'held',
    });
    const ledger = await ledgerByKind(shopBatch.id);
    expect(shopBatch.net_minor - shopBatch.refund_member_minor).toBe(
      (ledger.capture_net ?? 0) - (ledger.refund_net ?? 0),
    );
    expect(shopBatch.subsidy_owed_minor).toBe((ledger.capture_subsidy ?? 0) - (ledger.refund_subsidy ?? 0));
    expect(shopBatch.merchant_funded_minor - shopBatch.merchant_reversed_minor).toBe(
      (ledger.capture_merchant_funded ?? 0) - (ledger.refund_merchant_funded ?? 0),
    );
    const pharmacyBatch = run.body.batches.find(
      (batch: { merchant_id: string }) => batch.merchant_id === pharmacy.merchant_id,
    );
    expect(pharmacyBatch).toMatchObject({
      capture_count: 1,
      gross_minor: 8_800,
      net_minor: medicine.body.net_minor,
      status: 'nothing_owed',
    });

    const unassigned = await harness.query<{ count: number }>(
      `SELECT (SELECT count(*) FROM checkouts WHERE settlement_batch_id IS NULL AND business_date <= $1)
            + (SELECT count(*) FROM refunds WHERE settlement_batch_id IS NULL AND business_date <= $1) AS count`,
      [day],
    );
    expect(Number(unassigned[0]?.count)).toBe(0);

    const [again, concurrentA, concurrentB] = await Promise.all([
      harness.call('POST', '/v1/settlement_runs', { token: harness.finance, body: { business_date: day } }),
      harness.call('POST', '/v1/settlement_runs', { token: harness.finance, body: { business_date: day } }),
      harness.call('POST', '/v1/settlement_runs', { token: harness.finance, body: { business_date: day } }),
    ]);
    expect([again, concurrentA, concurrentB].map((response) => response.body.batches_created)).toEqual([
      0, 0, 0,
    ]);
    const batches = await harness.query<{ count: number }>(
      'SELECT count(*)::int AS count FROM settlement_batches WHERE business_date = $1',
      [day],
    );
    expect(batches[0]?.count).toBe(2);

    // A refund of an already-settled sale belongs to today, the next open day.
    const late = await harness.refundSale(shop, second.body.id, 1_000);
    expect(late.status).toBe(201);
    const lateRow = await harness.query<{ settlement_batch_id: string | null; today: boolean }>(
      'SELECT settlement_batch_id, business_date > $2::date AS today FROM refunds WHERE refund_id = $1',
      [late.body.id, day],
    );
    expect(lateRow[0]).toEqual({ settlement_batch_id: null, today: true });
  });

  it('exports the payment file, marks the batch paid once, posting the payout, and shows merchants only their statements', async () => {
    // The acquirer confirms the shop's sales: their subsidy becomes payable.
    await confirmCapturesOf(harness, [shop.merchant_id]);
    const listed = await harness.call('GET', '/v1/settlement_batches?status=unpaid', {
      token: harness.finance,
    });
    const batch = listed.body.data.find(
      (entry: { merchant_id: string }) => entry.merchant_id === shop.merchant_id,
    );
    expect(batch).toBeDefined();

    const exported = await harness.call('GET', `/v1/settlement_batches/${batch.id}/export.csv`, {
      token: harness.finance,
    });
    expect(exported.headers.get('content-type')).toMatch(/text\/csv/);
    const [row] = parse(exported.text, { bom: true, columns: true }) as Array<Record<string, string>>;
    expect(row).toMatchObject({
      merchant_id: shop.merchant_id,
      account_number: '6222021234567890123',
      amount_minor: String(batch.subsidy_owed_minor),
      currency: 'CNY',
    });

    const payableBefore = await harness.call(
      'GET',
      `/v1/ledger/accounts/merchant:${shop.merchant_id}:subsidy_payable`,
      { token: harness.finance },
    );
    // Finance exported the file and asks; a second finance person approves (dual control).
    const paid = await harness.markPaid(batch.id, 'ICBC-20261121-0001');
    expect(paid.status).toBe(200);
    expect(paid.body).toMatchObject({ status: 'paid', bank_reference: 'ICBC-20261121-0001' });
    const payableAfter = await harness.call(
      'GET',
      `/v1/ledger/accounts/merchant:${shop.merchant_id}:subsidy_payable`,
      { token: harness.finance },
    );
    expect(payableBefore.body.balance_minor - payableAfter.body.balance_minor).toBe(batch.subsidy_owed_minor);
    const twice = await harness.call('POST', `/v1/settlement_batches/${batch.id}/mark_paid`, {
      token: harness.finance,
      idempotencyKey: randomUUID(),
      body: { bank_reference: 'ICBC-20261121-0002' },
    });
    expect(twice.status).toBe(409);

    const own = await harness.call('GET', `/v1/settlement_batches/${batch.id}/statement.csv`, {
      token: shop.secret,
    });
    expect(own.status).toBe(200);
    const lines = parse(own.text, { bom: true, columns: true }) as Array<Record<string, string>>;
    expect(lines.map((line) => line.kind).sort()).toEqual(['capture', 'capture', 'refund', 'void']);
    expect(lines.every((line) => line.card_last4 === shopCard.card_last4)).toBe(true);
    // Each sale's line description, on its capture, void and refund rows alike.
    expect(lines.every((line) => line.line_descriptions === SALE_DESCRIPTION)).toBe(true);
    const foreign = await harness.call('GET', `/v1/settlement_batches/${batch.id}`, {
      token: pharmacy.secret,
    });
    expect(foreign.status).toBe(404);
    const mine = await harness.call('GET', '/v1/settlement_batches', { token: pharmacy.secret });
    expect(
      mine.body.data.every((entry: { merchant_id: string }) => entry.merchant_id === pharmacy.merchant_id),
    ).toBe(true);
    const trial = await harness.call('GET', '/v1/ledger/trial_balance', { token: harness.finance });
    expect(trial.body.balanced).toBe(true);
  });
});
