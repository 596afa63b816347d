/**
 * The union's subsidy comes back (DESIGN §4.7, §6): refunds and voids of a union-funded sale
 * return the union part to the budget exactly, rule by rule, and a business day settles to
 * totals worked out here by hand. Every expected number below is a literal with its arithmetic
 * beside it, never a figure copied from a capture's answer.
 *
 * Each card carries two union-funded rules on one budget, so that the per-rule rounding of
 * §4.7 differs from rounding the checkout's union total once:
 *   A: exclusive, 10% off (1000 bps), 60% of it from the union;
 *   B: stackable, 5% off (500 bps) what A left, 25% of it from the union.
 */
import { randomUUID } from 'node:crypto';
import { SettlementHarness, percentOffRule, unionFundedRule, useHarness } from './support';
import type { ApiResponse, TestCard, TestMerchant } from './support';
import type { DiscountRule } from '@puhui/discount';

const harness = new SettlementHarness();
const BUDGET_FUNDED_MINOR = 100_000;
let serial = 7000;

useHarness(harness);

interface Programme {
  budgetId: string;
  rules: [DiscountRule, DiscountRule];
  card: TestCard;
}

/** A budget funded with 100 000 fen and a card whose two rules draw on it. */
async function programme(name: string): Promise<Programme> {
  const budgetId = await harness.fundedBudget(name, BUDGET_FUNDED_MINOR);
  const rules: [DiscountRule, DiscountRule] = [
    unionFundedRule(budgetId, 1000, 6000),
    percentOffRule({
      category: 'supermarket',
      bps: 500,
      union_share_bps: 2500,
      budget_id: budgetId,
      stacking: 'stackable',
    }),
  ];
  serial += 1;
  return { budgetId, rules, card: await harness.addCard(serial, rules) };
}

async function balance(code: string): Promise<number> {
  const account = await harness.call('GET', `/v1/ledger/accounts/${code}`, { token: harness.finance });
  expect(account.status).toBe(200);
  return account.body.balance_minor as number;
}

async function budgetBalance(budgetId: string): Promise<number> {
  const budget = await harness.call('GET', `/v1/budgets/${budgetId}`, { token: harness.finance });
  expect(budget.status).toBe(200);
  return budget.body.balance_minor as number;
}

/** What a refund reversed, rule by rule, as the refund row records it. */
async function reversalsOf(refundId: string) {
  const rows = await harness.query<{ reversals: Array<Record<string, unknown>> }>(
    'SELECT reversals FROM refunds WHERE refund_id = $1',
    [refundId],
  );
  return (rows[0]?.reversals ?? []).map((reversal) => ({
    rule_id: reversal.rule_id,
    discount_reversed_minor: reversal.discount_reversed_minor,
    union_reversed_minor: reversal.union_reversed_minor,
  }));
}

function expectCreated(answer: ApiResponse): void {
  expect(answer.status).toBe(201);
}

/** Refunds `amountMinor` of a checkout: created, answering `refund`, and reversing `reversals` rule by rule. */
async function expectRefund(
  merchant: TestMerchant,
  checkoutId: string,
  amountMinor: number,
  refund: Record<string, unknown>,
  reversals: Array<Record<string, unknown>>,
): Promise<void> {
  const answer = await harness.refundSale(merchant, checkoutId, amountMinor);
  expectCreated(answer);
  expect(answer.body).toMatchObject(refund);
  expect(await reversalsOf(answer.body.id)).toEqual(reversals);
}

describe('the union part of a refunded or voided sale', () => {
  it('goes back to the budget rule by rule on a partial refund, and all of it once the rest is refunded', async () => {
    const merchant = await harness.addMerchant('supermarket');
    const { budgetId, rules, card } = await programme('困难职工帮扶');
    const [ruleA, ruleB] = rules;

    // A: round_half_up(12 345 × 10%) = round_half_up(1 234.5) = 1 235, union round_half_up(1 235 × 60%) = 741.
    // B: round_half_up((12 345 − 1 235) × 5%) = round_half_up(555.5) = 556, union round_half_up(556 × 25%) = 139.
    // Discount 1 235 + 556 = 1 791; union 741 + 139 = 880; merchant 1 791 − 880 = 911; net 12 345 − 1 791 = 10 554.
    const sale = await harness.captureSale(merchant, card, 12_345);
    expectCreated(sale);
    expect(sale.body).toMatchObject({
      gross_minor: 12_345,
      discount_minor: 1_791,
      union_funded_minor: 880,
      merchant_funded_minor: 911,
      net_minor: 10_554,
      budget_exhausted: false,
    });
    // Both draw on the one budget in processing order (equal priority: lower rule_id first); each
    // names it and what it held after that rule's draw, the last one what the ledger now holds.
    const [firstDrawn] = [ruleA, ruleB].sort((x, y) => (x.rule_id < y.rule_id ? -1 : 1));
    const afterOf = (rule: DiscountRule, unionMinor: number) =>
      rule === firstDrawn ? 100_000 - unionMinor : 100_000 - 880;
    expect(sale.body.lines[0].applied_rules).toEqual([
      {
        rule_id: ruleA.rule_id,
        version: 1,
        discount_minor: 1_235,
        union_funded_minor: 741,
        merchant_funded_minor: 494,
        budget_id: budgetId,
        budget_balance_after_minor: afterOf(ruleA, 741),
      },
      {
        rule_id: ruleB.rule_id,
        version: 1,
        discount_minor: 556,
        union_funded_minor: 139,
        merchant_funded_minor: 417,
        budget_id: budgetId,
        budget_balance_after_minor: afterOf(ruleB, 139),
      },
    ]);
    expect(await budgetBalance(budgetId)).toBe(100_000 - 880);

    // Refund 1 111 of 12 345. Each rule's part is round_half_up(part × 1 111 / 12 345):
    //   A discount 1 235 → 111.14 → 111;  A union 741 → 66.69 → 67;
    //   B discount   556 →  50.04 →  50;  B union 139 → 12.51 → 13.
    // Union back 67 + 13 = 80 (rounding the checkout's 880 once would give 79.20 → 79, and
    // rounding down 66 + 12 = 78); discount back 111 + 50 = 161; the card gets 1 111 − 161 = 950.
    await expectRefund(
      merchant,
      sale.body.id,
      1_111,
      {
        amount_minor: 1_111,
        discount_reversed_minor: 161,
        union_reversed_minor: 80,
        merchant_reversed_minor: 81,
        member_refund_minor: 950,
        checkout_status: 'partially_refunded',
      },
      [
        { rule_id: ruleA.rule_id, discount_reversed_minor: 111, union_reversed_minor: 67 },
        { rule_id: ruleB.rule_id, discount_reversed_minor: 50, union_reversed_minor: 13 },
      ],
    );
    expect(await budgetBalance(budgetId)).toBe(100_000 - 880 + 80);

    // The rest, 12 345 − 1 111 = 11 234, reverses exactly what is left of each grant:
    //   A discount 1 235 − 111 = 1 124, union 741 − 67 = 674;  B discount 556 − 50 = 506, union 139 − 13 = 126.
    // Union 674 + 126 = 800; discount 1 124 + 506 = 1 630; the card gets 11 234 − 1 630 = 9 604
    // (950 + 9 604 = 10 554, all it paid).
    await expectRefund(
      merchant,
      sale.body.id,
      11_234,
      {
        amount_minor: 11_234,
        discount_reversed_minor: 1_630,
        union_reversed_minor: 800,
        merchant_reversed_minor: 830,
        member_refund_minor: 9_604,
        checkout_status: 'refunded',
        refunded_total_minor: 12_345,
      },
      [
        { rule_id: ruleA.rule_id, discount_reversed_minor: 1_124, union_reversed_minor: 674 },
        { rule_id: ruleB.rule_id, discount_reversed_minor: 506, union_reversed_minor: 126 },
      ],
    );
    expect(await budgetBalance(budgetId)).toBe(100_000);
    expect(await balance(`merchant:${merchant.merchant_id}:subsidy_held`)).toBe(0);
    expect(await balance(`merchant:${merchant.merchant_id}:card_receivable`)).toBe(0);
  });

  it('goes back to the budget in full when the sale is voided', async () => {
    const merchant = await harness.addMerchant('supermarket');
    const { budgetId, card } = await programme('劳模疗休养');

    // A: 9 999 × 10% = 999.9 → 1 000, union 1 000 × 60% = 600.
    // B: (9 999 − 1 000) × 5% = 449.95 → 450, union 450 × 25% = 112.5 → 113 (half up).
    // Union 600 + 113 = 713; discount 1 450; net 9 999 − 1 450 = 8 549.
    const sale = await harness.captureSale(merchant, card, 9_999);
    expectCreated(sale);
    expect(sale.body).toMatchObject({ discount_minor: 1_450, union_funded_minor: 713, net_minor: 8_549 });
    expect(await budgetBalance(budgetId)).toBe(100_000 - 713);

    const voided = await harness.call('POST', `/v1/checkouts/${sale.body.id as string}/void`, {
      token: merchant.secret,
      idempotencyKey: randomUUID(),
    });
    expect(voided.status).toBe(200);
    expect(await budgetBalance(budgetId)).toBe(100_000);
    expect(await balance(`merchant:${merchant.merchant_id}:subsidy_held`)).toBe(0);
    expect(await balance(`merchant:${merchant.merchant_id}:card_receivable`)).toBe(0);
  });
});

describe('a settled business day', () => {
  it('totals a batch to the hand-computed figures and leaves exactly the card money still due in clearing', async () => {
    const merchant = await harness.addMerchant('supermarket');
    const { budgetId, card } = await programme('节日慰问');
    // The same sales as above (figures worked out there), plus one of 20 000:
    //   A 2 000 (union 1 200), B (20 000 − 2 000) × 5% = 900 (union 225);
    //   discount 2 900, union 1 425, merchant 1 475, net 17 100.
    const refunded = await harness.captureSale(merchant, card, 12_345);
    const voided = await harness.captureSale(merchant, card, 9_999);
    const kept = await harness.captureSale(merchant, card, 20_000);
    for (const sale of [refunded, voided, kept]) expectCreated(sale);
    expectCreated(await harness.refundSale(merchant, refunded.body.id, 1_111));
    const voidAnswer = await harness.call('POST', `/v1/checkouts/${voided.body.id as string}/void`, {
      token: merchant.secret,
      idempotencyKey: randomUUID(),
    });
    expect(voidAnswer.status).toBe(200);

    const today = await harness.call('GET', '/v1/business_days/current', { token: harness.finance });
    const day = today.body.business_date as string;
    expect(
      (await harness.call('POST', `/v1/business_days/${day}/close`, { token: harness.finance })).status,
    ).toBe(201);
    const run = await harness.call('POST', '/v1/settlement_runs', {
      token: harness.finance,
      body: { business_date: day },
    });
    expect(run.status).toBe(201);
    const batch = (run.body.batches as Array<{ merchant_id: string }>).find(
      (entry) => entry.merchant_id === merchant.merchant_id,
    );
    expect(batch).toEqual(
      expect.objectContaining({
        business_date: day,
        // No statement reconciled: all of it is held until the acquirer confirms (DESIGN §6).
        status: 'held',
        // The 12 345 and 20 000 sales; the void counts apart and moves no money.
        capture_count: 2,
        void_count: 1,
        refund_count: 1,
        gross_minor: 32_345, // 12 345 + 20 000
        merchant_funded_minor: 2_386, // 911 + 1 475
        union_funded_minor: 2_305, // 880 + 1 425
        net_minor: 27_654, // 10 554 + 17 100
        refunds_minor: 1_111,
        refund_member_minor: 950,
        union_reversed_minor: 80, // 67 + 13
        merchant_reversed_minor: 81, // 161 − 80
        subsidy_owed_minor: 2_225, // 2 305 − 80
        subsidy_held_minor: 2_225,
      }),
    );

    // Budget: 100 000 − 880 − 713 + 713 (void) − 1 425 + 80 (refund) = 97 775.
    expect(await budgetBalance(budgetId)).toBe(97_775);
    expect(await balance(`merchant:${merchant.merchant_id}:subsidy_held`)).toBe(2_225);
    expect(await balance(`merchant:${merchant.merchant_id}:subsidy_payable`)).toBe(0);
    // Card money due from the acquirer: 10 554 + 8 549 + 17 100 charged, less 950 refunded and
    // the voided 8 549 = 26 704. The earlier tests' sales were refunded in full or voided, so
    // they leave nothing in this database's clearing account.
    expect(await balance('acquirer:clearing')).toBe(26_704);
    expect(await balance(`merchant:${merchant.merchant_id}:card_receivable`)).toBe(26_704);
    const trial = await harness.call('GET', '/v1/ledger/trial_balance', { token: harness.finance });
    expect(trial.body).toMatchObject({ balanced: true, difference_minor: 0 });
  });
});
