/**
 * What finance reads to follow a day (issue 18): a business day by date with its totals, the
 * reconciliation runs, a checkout's refunds, a sale found by the merchant's reference.
 */
import { randomUUID } from 'node:crypto';
import { SettlementHarness, unionFundedRule, useHarness } from './support';
import type { ApiResponse, TestCard, TestMerchant } from './support';
import { statementCsv, uploadStatement } from './reconciliation-support';

const harness = new SettlementHarness();
let shop: TestMerchant;
let other: TestMerchant;
let card: TestCard;

useHarness(harness, async () => {
  shop = await harness.addMerchant('supermarket');
  other = await harness.addMerchant('supermarket');
  // 10 % off, the union paying 60 % of it: the batches hold subsidy until reconciliation.
  const budgetId = await harness.fundedBudget('困难职工帮扶', 100_000);
  card = await harness.addCard(310, [unionFundedRule(budgetId, 1000, 6000)]);
});

const capture = (merchant: TestMerchant, amountMinor: number, reference = `R-${randomUUID()}`) =>
  harness.captureLines(
    merchant.secret,
    card.card_number,
    [{ category: 'general', amount_minor: amountMinor }],
    {
      reference,
    },
  );
const refund = (checkoutId: string, amountMinor: number) =>
  harness.call('POST', `/v1/checkouts/${checkoutId}/refunds`, {
    token: shop.secret,
    idempotencyKey: randomUUID(),
    body: { amount_minor: amountMinor },
  });
const day = (date: string, token = harness.finance) =>
  harness.call('GET', `/v1/business_days/${date}`, { token });
const sum = (responses: ApiResponse[], field: string) =>
  responses.reduce((total, response) => total + (response.body[field] as number), 0);

describe('a business day by date', () => {
  it('sums the day’s captures, voids and refunds, and follows it from open to settled', async () => {
    const kept = [await capture(shop, 10_000), await capture(other, 4_000)];
    const voidedSale = await capture(shop, 2_000);
    for (const sale of [...kept, voidedSale]) expect(sale.status).toBe(201);
    expect(kept[0]?.body.union_funded_minor).toBeGreaterThan(0);
    const voided = await harness.call('POST', `/v1/checkouts/${voidedSale.body.id as string}/void`, {
      token: shop.secret,
      idempotencyKey: randomUUID(),
    });
    expect(voided.status).toBe(200);
    const refunded = await refund(kept[0]?.body.id as string, 1_000);
    expect(refunded.status).toBe(201);
    const date = kept[0]?.body.business_date as string;
    expect(date).toMatch(/^\d{4}-\d{2}-\d{2}$/u);

    const open = await day(date);
    expect(open.status).toBe(200);
    expect(open.body).toMatchObject({
      object: 'business_day_summary',
      business_date: date,
      status: 'open',
      currency: 'CNY',
      captures: {
        count: 2,
        gross_minor: sum(kept, 'gross_minor'),
        discount_minor: sum(kept, 'discount_minor'),
        union_funded_minor: sum(kept, 'union_funded_minor'),
        merchant_funded_minor: sum(kept, 'merchant_funded_minor'),
        net_minor: sum(kept, 'net_minor'),
      },
      voids: { count: 1, gross_minor: 2_000, discount_minor: voidedSale.body.discount_minor },
      refunds: {
        count: 1,
        amount_minor: 1_000,
        member_refund_minor: refunded.body.member_refund_minor,
        union_reversed_minor: refunded.body.union_reversed_minor,
        merchant_reversed_minor: refunded.body.merchant_reversed_minor,
      },
      net_minor: sum(kept, 'net_minor') - (refunded.body.member_refund_minor as number),
      settlement_runs: 0,
      batches: { unpaid: { count: 0, net_minor: 0 } },
      reconciliations: { runs: 0, exceptions_open: 0 },
    });

    expect((await day(date, shop.secret)).status).toBe(403);
    const tomorrow = new Date(Date.parse(`${date}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10);
    expect((await day(tomorrow)).body.code).toBe('business_day_not_open');
    expect((await day('2026-02-30')).status).toBe(400);

    expect(
      (await harness.call('POST', `/v1/business_days/${date}/close`, { token: harness.finance })).status,
    ).toBe(201);
    const closed = await day(date);
    expect(closed.body).toMatchObject({
      status: 'closed',
      settlement_runs: 0,
      closed_at: expect.any(String),
    });
    const run = await harness.call('POST', '/v1/settlement_runs', {
      token: harness.finance,
      body: { business_date: date },
    });
    expect(run.status).toBe(201);
    const batches = await harness.call('GET', `/v1/settlement_batches?business_date=${date}`, {
      token: harness.finance,
    });
    expect(batches.status).toBe(200);
    const owing = batches.body.data as { status: string; net_minor: number }[];
    expect(owing.map((batch) => batch.status).sort()).toEqual(['held', 'held']);
    const settled = await day(date);
    expect(settled.body).toMatchObject({
      status: 'settled',
      settlement_runs: 1,
      batches: {
        unpaid: { count: 0, net_minor: 0 },
        held: { count: 2, net_minor: owing.reduce((total, batch) => total + batch.net_minor, 0) },
        paid: { count: 0 },
      },
    });
  });

  it('answers an old day nobody settled as closed, with zeros', async () => {
    const old = await day('2020-01-06');
    expect(old.status).toBe(200);
    expect(old.body).toMatchObject({
      status: 'closed',
      closed_by: 'clock',
      captures: { count: 0, gross_minor: 0 },
      refunds: { count: 0 },
      net_minor: 0,
      settlement_runs: 0,
    });
  });
});

describe('a checkout’s refunds', () => {
  it('lists them oldest first with the running total, page by page, to finance and the merchant only', async () => {
    const sale = await capture(shop, 9_000);
    const id = sale.body.id as string;
    const refunds = [await refund(id, 1_000), await refund(id, 2_500), await refund(id, 5_500)];
    for (const made of refunds) expect(made.status).toBe(201);

    const all = await harness.call('GET', `/v1/checkouts/${id}/refunds`, { token: harness.finance });
    expect(all.status).toBe(200);
    expect(all.body.has_more).toBe(false);
    expect(all.body.data.map((item: { id: string }) => item.id)).toEqual(refunds.map((made) => made.body.id));
    expect(
      all.body.data.map((item: { refunded_total_minor: number; checkout_status: string }) => [
        item.refunded_total_minor,
        item.checkout_status,
      ]),
    ).toEqual([
      [1_000, 'partially_refunded'],
      [3_500, 'partially_refunded'],
      [9_000, 'refunded'],
    ]);
    expect(all.body.data[2]).toEqual(refunds[2]?.body);

    const first = await harness.call('GET', `/v1/checkouts/${id}/refunds?limit=2`, { token: shop.secret });
    expect(first.body.has_more).toBe(true);
    expect(first.body.data).toHaveLength(2);
    const rest = await harness.call(
      'GET',
      `/v1/checkouts/${id}/refunds?limit=2&starting_after=${first.body.data[1].id as string}`,
      { token: shop.secret },
    );
    expect(rest.body).toMatchObject({ has_more: false, data: [{ id: refunds[2]?.body.id }] });

    expect((await harness.call('GET', `/v1/checkouts/${id}/refunds`, { token: other.secret })).status).toBe(
      404,
    );
    const none = await capture(shop, 500);
    const empty = await harness.call('GET', `/v1/checkouts/${none.body.id as string}/refunds`, {
      token: harness.admin,
    });
    expect(empty.body).toEqual({ data: [], has_more: false });
  });
});

describe('a sale by the merchant’s reference', () => {
  it('finds it for finance and for its merchant, never for another merchant', async () => {
    const reference = `TILL-${randomUUID().slice(0, 8)}`;
    const sale = await capture(shop, 3_000, reference);
    const elsewhere = await capture(other, 3_100, reference);
    expect(sale.status).toBe(201);
    expect(elsewhere.status).toBe(201);

    const byFinance = await harness.call('GET', `/v1/checkouts?reference=${reference}`, {
      token: harness.finance,
    });
    expect(byFinance.body.data.map((item: { id: string }) => item.id).sort()).toEqual(
      [sale.body.id, elsewhere.body.id].sort(),
    );
    const atShop = await harness.call(
      'GET',
      `/v1/checkouts?reference=${reference}&merchant_id=${shop.merchant_id}`,
      { token: harness.finance },
    );
    expect(atShop.body.data.map((item: { id: string }) => item.id)).toEqual([sale.body.id]);
    const byMerchant = await harness.call('GET', `/v1/checkouts?reference=${reference}`, {
      token: other.secret,
    });
    expect(byMerchant.body.data.map((item: { id: string }) => item.id)).toEqual([elsewhere.body.id]);
    const unknown = await harness.call('GET', '/v1/checkouts?reference=NOPE-1', { token: harness.finance });
    expect(unknown.body.data).toEqual([]);
  });
});

describe('the reconciliation runs', () => {
  it('lists runs newest first with their counts, filtered by settlement date, page by page', async () => {
    const sale = await capture(shop, 6_000);
    const row = (settlementDate: string, amountMinor: number) => ({
      settlement_date: settlementDate,
      merchant_id: shop.merchant_id,
      card_last4: card.card_last4,
      transaction_time: new Date().toISOString(),
      amount_minor: amountMinor,
      reference: sale.body.reference as string,
      auth_code: 'A00001',
    });
    const older = await uploadStatement(
      harness,
      statementCsv([row('2026-03-01', sale.body.net_minor as number)]),
    );
    const newer = await uploadStatement(harness, statementCsv([row('2026-03-02', 1)]));
    expect(older.status).toBe(201);
    expect(newer.status).toBe(201);

    const list = await harness.call('GET', '/v1/reconciliations?settlement_date_from=2026-03-01', {
      token: harness.finance,
    });
    expect(list.status).toBe(200);
    expect(list.body.data.map((run: { id: string }) => run.id)).toEqual([newer.body.id, older.body.id]);
    expect(list.body.data[1]).toEqual(older.body);
    expect(list.body.data[0].exceptions_open).toBeGreaterThan(0);

    const page = await harness.call('GET', '/v1/reconciliations?limit=1&settlement_date_from=2026-03-01', {
      token: harness.finance,
    });
    expect(page.body).toMatchObject({ has_more: true, data: [{ id: newer.body.id }] });
    const next = await harness.call(
      'GET',
      `/v1/reconciliations?limit=1&settlement_date_from=2026-03-01&starting_after=${newer.body.id as string}`,
      { token: harness.finance },
    );
    expect(next.body.data.map((run: { id: string }) => run.id)).toEqual([older.body.id]);
    const oneDay = await harness.call(
      'GET',
      '/v1/reconciliations?settlement_date_from=2026-03-02&settlement_date_to=2026-03-02',
      { token: harness.finance },
    );
    expect(oneDay.body.data.map((run: { id: string }) => run.id)).toEqual([newer.body.id]);
    expect((await harness.call('GET', '/v1/reconciliations', { token: harness.admin })).status).toBe(403);
    expect(
      (await harness.call('GET', '/v1/reconciliations?limit=0', { token: harness.finance })).status,
    ).toBe(400);
  });
});
