/** A union budget day by day (issue 17): top-ups, grants, what came back, the balance and when it runs out. */
import { randomUUID } from 'node:crypto';
import { SettlementHarness, unionFundedRule, useHarness } from './support';
import type { TestCard, TestMerchant } from './support';

const harness = new SettlementHarness();
const FUNDED_MINOR = 100_000;
let budgetId: string;
let shop: TestMerchant;
let card: TestCard;

useHarness(harness, async () => {
  shop = await harness.addMerchant('supermarket');
  budgetId = await harness.fundedBudget('困难职工帮扶', FUNDED_MINOR);
  card = await harness.addCard(350, [unionFundedRule(budgetId, 1000, 6000)]);
});

const history = (query = '') =>
  harness.call('GET', `/v1/budgets/${budgetId}/history${query}`, { token: harness.admin });

describe('a budget’s days', () => {
  it('shows today’s top-up, grants and returns, the balance after each day and the run-out date', async () => {
    const sales = [];
    for (const amount of [10_000, 20_000]) {
      const sale = await harness.captureLines(shop.secret, card.card_number, [
        { category: 'general', amount_minor: amount },
      ]);
      expect(sale.status).toBe(201);
      sales.push(sale.body);
    }
    const refund = await harness.call('POST', `/v1/checkouts/${sales[0]?.id as string}/refunds`, {
      token: shop.secret,
      idempotencyKey: randomUUID(),
      body: { amount_minor: 5_000 },
    });
    expect(refund.status).toBe(201);
    const granted = sales.reduce((sum, sale) => sum + (sale.union_funded_minor as number), 0);
    expect(granted).toBeGreaterThan(0);
    const balance = (await harness.call('GET', `/v1/budgets/${budgetId}`, { token: harness.admin })).body
      .balance_minor as number;
    expect(balance).toBe(FUNDED_MINOR - granted + (refund.body.union_reversed_minor as number));

    const answer = await history();
    expect(answer.status).toBe(200);
    expect(answer.body.days).toHaveLength(30);
    const today = answer.body.days.at(-1);
    expect(answer.body).toMatchObject({
      object: 'budget_history',
      budget_id: budgetId,
      opening_balance_minor: 0,
      closing_balance_minor: balance,
      to: today.date,
    });
    // Summed over the days, so that a run across Shanghai midnight splits nothing it checks.
    const days = answer.body.days as Record<string, number>[];
    const total = (field: string) => days.reduce((sum, day) => sum + (day[field] as number), 0);
    expect([total('topped_up_minor'), total('granted_minor'), total('returned_minor')]).toEqual([
      FUNDED_MINOR,
      granted,
      refund.body.union_reversed_minor,
    ]);
    expect(today.balance_minor).toBe(balance);
    expect(days[0]?.balance_minor).toBe(0);
    // A week's net grants spread over 7 days: the balance lasts ceil(balance / (net / 7)) days more.
    const perDay = (granted - (refund.body.union_reversed_minor as number)) / 7;
    expect(answer.body.burn_rate_minor_per_day).toBe(Math.round(perDay));
    const runsOut = new Date(
      Date.parse(`${answer.body.to as string}T00:00:00Z`) + Math.ceil(balance / perDay) * 86_400_000,
    );
    expect(answer.body.runs_out_on).toBe(runsOut.toISOString().slice(0, 10));

    // A period that ends before today opens and closes at the balance before today's movements.
    const before = await history(`?from=2026-01-01&to=2026-01-31`);
    expect(before.body).toMatchObject({
      opening_balance_minor: 0,
      closing_balance_minor: 0,
      runs_out_on: null,
    });
  });

  it('refuses periods that are reversed or too long, and unknown budgets', async () => {
    expect((await history('?from=2026-02-02&to=2026-02-01')).body.code).toBe('history_period_reversed');
    expect((await history('?from=2025-01-01&to=2026-01-02')).body.code).toBe('history_period_too_long');
    expect((await history('?from=2026-02-30')).status).toBe(400);
    const unknown = await harness.call('GET', '/v1/budgets/bud_nope/history', { token: harness.admin });
    expect(unknown.status).toBe(404);
    expect(
      (await harness.call('GET', `/v1/budgets/${budgetId}/history`, { token: shop.secret })).status,
    ).toBe(403);
  });
});
