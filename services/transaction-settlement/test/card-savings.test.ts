/** A member's savings (issue 18): a card's discounts and union subsidies, net of refunds, by merchant and month. */
import { randomUUID } from 'node:crypto';
import { SettlementHarness, unionFundedRule, useHarness } from './support';
import type { ApiResponse, TestCard, TestMerchant } from './support';

const harness = new SettlementHarness();
let shop: TestMerchant;
let pharmacy: TestMerchant;
let card: TestCard;
let other: TestCard;

useHarness(harness, async () => {
  shop = await harness.addMerchant('supermarket');
  pharmacy = await harness.addMerchant('pharmacy');
  const budgetId = await harness.fundedBudget('困难职工帮扶', 1_000_000);
  const rules = [unionFundedRule(budgetId, 1000, 6000)];
  card = await harness.addCard(340, rules);
  other = await harness.addCard(341, rules);
});

const capture = async (
  merchant: TestMerchant,
  holder: TestCard,
  amountMinor: number,
): Promise<ApiResponse> => {
  const sale = await harness.captureLines(merchant.secret, holder.card_number, [
    { category: 'general', amount_minor: amountMinor },
  ]);
  expect(sale.status).toBe(201);
  return sale;
};
const savings = (token: string, query = '') =>
  harness.call('GET', `/v1/cards/${token}/savings${query}`, { token: harness.admin });
const sumOf = (sales: ApiResponse[], field: string) =>
  sales.reduce((total, sale) => total + (sale.body[field] as number), 0);

describe('a card’s savings', () => {
  it('sums its discounts and subsidies net of refunds, by merchant and month, and nobody else’s', async () => {
    const atShop = [await capture(shop, card, 10_000), await capture(shop, card, 6_000)];
    const atPharmacy = [await capture(pharmacy, card, 20_000)];
    const voided = await capture(shop, card, 3_000);
    expect(
      (
        await harness.call('POST', `/v1/checkouts/${voided.body.id as string}/void`, {
          token: shop.secret,
          idempotencyKey: randomUUID(),
        })
      ).status,
    ).toBe(200);
    await capture(shop, other, 50_000);
    const refund = await harness.call('POST', `/v1/checkouts/${atShop[0]?.body.id as string}/refunds`, {
      token: shop.secret,
      idempotencyKey: randomUUID(),
      body: { amount_minor: 4_000 },
    });
    expect(refund.status).toBe(201);
    const kept = [...atShop, ...atPharmacy];
    expect(sumOf(kept, 'union_funded_minor')).toBeGreaterThan(0);

    const answer = await savings(card.card_token);
    expect(answer.status).toBe(200);
    const date = atShop[0]?.body.business_date as string;
    const expected = {
      checkouts: 3,
      gross_minor: sumOf(kept, 'gross_minor'),
      refunded_minor: 4_000,
      discount_minor: sumOf(kept, 'discount_minor') - (refund.body.discount_reversed_minor as number),
      union_funded_minor: sumOf(kept, 'union_funded_minor') - (refund.body.union_reversed_minor as number),
      merchant_funded_minor:
        sumOf(kept, 'merchant_funded_minor') - (refund.body.merchant_reversed_minor as number),
    };
    expect(answer.body).toMatchObject({
      object: 'card_savings',
      card_token: card.card_token,
      from: `${date.slice(0, 7)}-01`,
      to: date,
      currency: 'CNY',
      ...expected,
    });
    expect(answer.body.by_month).toEqual([{ month: date.slice(0, 7), ...expected }]);
    const byMerchant = Object.fromEntries(
      (answer.body.by_merchant as { merchant_id: string; checkouts: number; discount_minor: number }[]).map(
        (row) => [row.merchant_id, row],
      ),
    );
    expect(Object.keys(byMerchant).sort()).toEqual([shop.merchant_id, pharmacy.merchant_id].sort());
    expect(byMerchant[pharmacy.merchant_id]).toMatchObject({
      merchant_category: 'pharmacy',
      checkouts: 1,
      discount_minor: atPharmacy[0]?.body.discount_minor,
      union_funded_minor: atPharmacy[0]?.body.union_funded_minor,
    });
    expect(byMerchant[shop.merchant_id]).toMatchObject({
      checkouts: 2,
      discount_minor: sumOf(atShop, 'discount_minor') - (refund.body.discount_reversed_minor as number),
    });
    // Sorted by what the member saved there, most first.
    const discounts = (answer.body.by_merchant as { discount_minor: number }[]).map(
      (row) => row.discount_minor,
    );
    expect(discounts).toEqual([...discounts].sort((a, b) => b - a));
  });

  it('answers zeros outside the period, and refuses reversed or overlong periods and merchants', async () => {
    const empty = await savings(card.card_token, '?from=2020-01-01&to=2020-12-31');
    expect(empty.status).toBe(200);
    expect(empty.body).toMatchObject({ checkouts: 0, discount_minor: 0, by_merchant: [], by_month: [] });
    expect((await savings(card.card_token, '?from=2021-01-02&to=2021-01-01')).body.code).toBe(
      'savings_period_reversed',
    );
    expect((await savings(card.card_token, '?from=2020-01-01&to=2021-01-01')).body.code).toBe(
      'savings_period_too_long',
    );
    expect((await savings(card.card_token, '?from=2020-01-01&to=2020-12-31&x=1')).status).toBe(400);
    expect((await savings('not-a-token')).status).toBe(400);
    const byMerchant = await harness.call('GET', `/v1/cards/${card.card_token}/savings`, {
      token: shop.secret,
    });
    expect(byMerchant.status).toBe(403);
  });
});

describe('a card’s checkouts', () => {
  it('lists them for operators by card token; a merchant may not search by one', async () => {
    const sale = await capture(pharmacy, other, 1_500);
    const listed = await harness.call('GET', `/v1/checkouts?card_token=${other.card_token}&limit=100`, {
      token: harness.finance,
    });
    expect(listed.status).toBe(200);
    const ids = listed.body.data.map((checkout: { id: string }) => checkout.id);
    expect(ids).toContain(sale.body.id);
    expect(
      listed.body.data.every((checkout: { card_token: string }) => checkout.card_token === other.card_token),
    ).toBe(true);
    const byMerchant = await harness.call('GET', `/v1/checkouts?card_token=${other.card_token}`, {
      token: pharmacy.secret,
    });
    expect(byMerchant.status).toBe(400);
    expect(byMerchant.body.invalid_params).toEqual([expect.objectContaining({ name: 'card_token' })]);
  });
});
