import { evaluateCheckout, type CheckoutResult } from '@puhui/discount';
import { line, makeCaps, makeContext, makeRule } from './support';

function ruleIdsOnLine(result: CheckoutResult, index: number): string[] {
  return (result.lines[index]?.applied_rules ?? []).map((applied) => applied.rule_id);
}

function lineDiscounts(result: CheckoutResult): number[] {
  return result.lines.map((checkoutLine) => checkoutLine.discount_minor);
}

describe('exclusive rules', () => {
  it('give each line the largest discount among them', () => {
    const rules = [
      makeRule({ rule_id: 'ten-percent', benefit: { type: 'percent_off', bps: 1000 } }),
      makeRule({ rule_id: 'twenty-percent', benefit: { type: 'percent_off', bps: 2000 } }),
    ];
    const result = evaluateCheckout(rules, makeContext({ lines: [line(10_000)] }));
    expect(result.discount_minor).toBe(2_000);
    expect(ruleIdsOnLine(result, 0)).toEqual(['twenty-percent']);
  });

  it('pick the best rule line by line, so two lines can have different winners', () => {
    const rules = [
      makeRule({ rule_id: 'five-yuan-off', benefit: { type: 'amount_off', amount_minor: 500 } }),
      makeRule({ rule_id: 'ten-percent', benefit: { type: 'percent_off', bps: 1000 } }),
    ];
    const result = evaluateCheckout(rules, makeContext({ lines: [line(2_000), line(10_000)] }));
    expect(lineDiscounts(result)).toEqual([500, 1_000]);
    expect(ruleIdsOnLine(result, 0)).toEqual(['five-yuan-off']);
    expect(ruleIdsOnLine(result, 1)).toEqual(['ten-percent']);
    expect(result.rule_grants.map((grant) => [grant.rule_id, grant.discount_minor])).toEqual([
      ['five-yuan-off', 500],
      ['ten-percent', 1_000],
    ]);
  });

  it('break a tie on discount by higher priority', () => {
    const rules = [makeRule({ rule_id: 'a-low', priority: 1 }), makeRule({ rule_id: 'b-high', priority: 5 })];
    expect(ruleIdsOnLine(evaluateCheckout(rules, makeContext()), 0)).toEqual(['b-high']);
  });

  it('break a tie on discount and priority by the lower rule_id, whatever order the rules come in', () => {
    const rules = [makeRule({ rule_id: 'rule-b' }), makeRule({ rule_id: 'rule-a' })];
    expect(ruleIdsOnLine(evaluateCheckout(rules, makeContext()), 0)).toEqual(['rule-a']);
    expect(ruleIdsOnLine(evaluateCheckout([...rules].reverse(), makeContext()), 0)).toEqual(['rule-a']);
  });

  it('prefer a larger discount over a higher priority', () => {
    const rules = [
      makeRule({ rule_id: 'urgent', priority: 100, benefit: { type: 'percent_off', bps: 500 } }),
      makeRule({ rule_id: 'generous', priority: 0, benefit: { type: 'percent_off', bps: 900 } }),
    ];
    expect(ruleIdsOnLine(evaluateCheckout(rules, makeContext()), 0)).toEqual(['generous']);
  });

  it('do not list a rule that is worth nothing on a line', () => {
    const rules = [makeRule({ rule_id: 'tiny', benefit: { type: 'percent_off', bps: 1 } })];
    const result = evaluateCheckout(rules, makeContext({ lines: [line(4_999)] })); // 0.4999 fen rounds to 0
    expect(result.discount_minor).toBe(0);
    expect(result.rule_grants).toEqual([]);
    expect(ruleIdsOnLine(result, 0)).toEqual([]);
  });
});

describe('stackable rules', () => {
  it('apply on the amount left after the exclusive winner (有折再折)', () => {
    const rules = [
      makeRule({ rule_id: 'exclusive', benefit: { type: 'percent_off', bps: 2000 } }),
      makeRule({ rule_id: 'stacked', stacking: 'stackable', benefit: { type: 'percent_off', bps: 1000 } }),
    ];
    const result = evaluateCheckout(rules, makeContext({ lines: [line(10_000)] }));
    // 8折 then 9折 is 7.2折: 2000 off, then 10% of the remaining 8000.
    expect(
      result.lines[0]?.applied_rules.map((applied) => [applied.rule_id, applied.discount_minor]),
    ).toEqual([
      ['exclusive', 2_000],
      ['stacked', 800],
    ]);
    expect(result.net_minor).toBe(7_200);
  });

  it('apply in priority order, each on what the previous ones left', () => {
    const amountOff = { type: 'amount_off', amount_minor: 1_000 } as const;
    const half = { type: 'percent_off', bps: 5000 } as const;
    const amountFirst = [
      makeRule({ rule_id: 'amount', stacking: 'stackable', priority: 2, benefit: amountOff }),
      makeRule({ rule_id: 'half', stacking: 'stackable', priority: 1, benefit: half }),
    ];
    expect(lineDiscounts(evaluateCheckout(amountFirst, makeContext()))).toEqual([1_000 + 4_500]);
    const halfFirst = [
      makeRule({ rule_id: 'amount', stacking: 'stackable', priority: 1, benefit: amountOff }),
      makeRule({ rule_id: 'half', stacking: 'stackable', priority: 2, benefit: half }),
    ];
    const result = evaluateCheckout(halfFirst, makeContext());
    expect(ruleIdsOnLine(result, 0)).toEqual(['half', 'amount']);
    expect(lineDiscounts(result)).toEqual([5_000 + 1_000]);
  });

  it('never take a line below zero', () => {
    const rules = [
      makeRule({ rule_id: 'waive', benefit: { type: 'waive' } }),
      makeRule({
        rule_id: 'extra',
        stacking: 'stackable',
        benefit: { type: 'amount_off', amount_minor: 300 },
      }),
    ];
    const result = evaluateCheckout(rules, makeContext({ lines: [line(1_000)] }));
    expect(result.discount_minor).toBe(1_000);
    expect(result.net_minor).toBe(0);
    expect(ruleIdsOnLine(result, 0)).toEqual(['waive']);
  });
});

describe('benefits priced per unit', () => {
  it('amount_off takes the amount per unit, up to the line amount', () => {
    const rules = [
      makeRule({ rule_id: 'five-yuan-each', benefit: { type: 'amount_off', amount_minor: 500 } }),
    ];
    const result = evaluateCheckout(
      rules,
      makeContext({ lines: [line(3_000, 'goods', 3), line(800, 'goods', 2)] }),
    );
    expect(lineDiscounts(result)).toEqual([1_500, 800]);
  });

  it('fixed_price charges the price per unit and gives nothing when the line is already cheaper', () => {
    const rules = [
      makeRule({ rule_id: 'ninety-nine', benefit: { type: 'fixed_price', amount_minor: 9_900 } }),
    ];
    const result = evaluateCheckout(
      rules,
      makeContext({ lines: [line(25_000, 'goods', 2), line(9_000, 'goods', 1)] }),
    );
    expect(lineDiscounts(result)).toEqual([25_000 - 19_800, 0]);
  });

  it('waive takes the whole line', () => {
    const rules = [makeRule({ rule_id: 'free', benefit: { type: 'waive' } })];
    expect(lineDiscounts(evaluateCheckout(rules, makeContext({ lines: [line(1_234)] })))).toEqual([1_234]);
  });
});

describe('caps', () => {
  it('limit a rule to its per-transaction cap, spreading the cut by largest remainder', () => {
    const rules = [makeRule({ rule_id: 'capped', caps: makeCaps({ per_transaction_minor: 500 }) })];
    const result = evaluateCheckout(rules, makeContext({ lines: [line(10_000), line(3_000)] }));
    // 1000 + 300 asked, 500 allowed: the 800 cut splits 615.38 / 184.62 → 615 / 185.
    expect(lineDiscounts(result)).toEqual([385, 115]);
    expect(result.rule_grants[0]?.discount_minor).toBe(500);
  });

  it('spread an even cut over identical lines so that they differ by at most one fen', () => {
    const rules = [makeRule({ rule_id: 'capped', caps: makeCaps({ per_transaction_minor: 100 }) })];
    const result = evaluateCheckout(rules, makeContext({ lines: [line(1_000), line(1_000), line(1_000)] }));
    expect([...lineDiscounts(result)].sort()).toEqual([33, 33, 34]);
  });

  it('count what the card already got today against the daily cap', () => {
    const rules = [makeRule({ rule_id: 'daily', caps: makeCaps({ per_card_day_minor: 1_000 }) })];
    const usage = { daily: { card_day_minor: 700, card_month_minor: 700 } };
    expect(evaluateCheckout(rules, makeContext({ usage })).discount_minor).toBe(300);
  });

  it('count what the card already got this month against the monthly cap', () => {
    const rules = [
      makeRule({
        rule_id: 'monthly',
        caps: makeCaps({ per_card_day_minor: 5_000, per_card_month_minor: 5_000 }),
      }),
    ];
    const usage = { monthly: { card_day_minor: 0, card_month_minor: 4_800 } };
    expect(evaluateCheckout(rules, makeContext({ usage })).discount_minor).toBe(200);
  });

  it('bind with the tightest of the three caps', () => {
    const caps = makeCaps({
      per_transaction_minor: 900,
      per_card_day_minor: 2_000,
      per_card_month_minor: 3_000,
    });
    const rules = [makeRule({ rule_id: 'all-caps', caps })];
    const usage = { 'all-caps': { card_day_minor: 1_500, card_month_minor: 1_500 } };
    expect(evaluateCheckout(rules, makeContext({ usage })).discount_minor).toBe(500);
  });

  it('grant nothing once usage has reached the cap, and leave the rule out', () => {
    const rules = [makeRule({ rule_id: 'spent', caps: makeCaps({ per_card_day_minor: 1_000 }) })];
    const usage = { spent: { card_day_minor: 1_200, card_month_minor: 1_200 } };
    const result = evaluateCheckout(rules, makeContext({ usage }));
    expect(result.discount_minor).toBe(0);
    expect(result.rule_grants).toEqual([]);
  });

  it('let the next-best exclusive rule win once the best one is used up for the day', () => {
    const rules = [
      makeRule({
        rule_id: 'model-worker-hotel',
        benefit: { type: 'percent_off', bps: 3000 },
        caps: makeCaps({ per_card_day_minor: 2_000 }),
      }),
      makeRule({ rule_id: 'standard-hotel', benefit: { type: 'percent_off', bps: 1000 } }),
    ];
    const usedUp = { 'model-worker-hotel': { card_day_minor: 2_000, card_month_minor: 2_000 } };
    expect(ruleIdsOnLine(evaluateCheckout(rules, makeContext()), 0)).toEqual(['model-worker-hotel']);
    const result = evaluateCheckout(rules, makeContext({ usage: usedUp }));
    expect(ruleIdsOnLine(result, 0)).toEqual(['standard-hotel']);
    expect(result.discount_minor).toBe(1_000);
  });

  it('ignore usage of other rules', () => {
    const rules = [makeRule({ rule_id: 'daily', caps: makeCaps({ per_card_day_minor: 1_000 }) })];
    const usage = { other: { card_day_minor: 1_000, card_month_minor: 1_000 } };
    expect(evaluateCheckout(rules, makeContext({ usage })).discount_minor).toBe(1_000);
  });

  it('cap the exclusive winner before stackable rules compute on what remains', () => {
    const rules = [
      makeRule({
        rule_id: 'half',
        benefit: { type: 'percent_off', bps: 5000 },
        caps: makeCaps({ per_transaction_minor: 1_000 }),
      }),
      makeRule({ rule_id: 'stacked', stacking: 'stackable', benefit: { type: 'percent_off', bps: 1000 } }),
    ];
    const result = evaluateCheckout(rules, makeContext({ lines: [line(10_000)] }));
    expect(result.lines[0]?.applied_rules.map((applied) => applied.discount_minor)).toEqual([1_000, 900]);
  });
});

describe('funding', () => {
  it('rounds the union share half up and leaves the rest to the merchant', () => {
    const rules = [makeRule({ rule_id: 'shared', union_share_bps: 3333, budget_id: 'budget-1' })];
    const result = evaluateCheckout(
      rules,
      makeContext({ budgets: { 'budget-1': { remaining_minor: 100_000 } } }),
    );
    expect(result).toMatchObject({
      discount_minor: 1_000,
      union_funded_minor: 333,
      merchant_funded_minor: 667,
    });
  });

  it('rounds an exact half fen of union share up', () => {
    const rules = [
      makeRule({
        rule_id: 'shared',
        benefit: { type: 'amount_off', amount_minor: 3 },
        union_share_bps: 5000,
        budget_id: 'budget-1',
      }),
    ];
    const result = evaluateCheckout(rules, makeContext({ budgets: { 'budget-1': { remaining_minor: 10 } } }));
    expect(result).toMatchObject({ discount_minor: 3, union_funded_minor: 2, merchant_funded_minor: 1 });
  });

  it('spreads the union part over lines so that line figures add up to the grant', () => {
    const rules = [makeRule({ rule_id: 'shared', union_share_bps: 5000, budget_id: 'budget-1' })];
    const budgets = { 'budget-1': { remaining_minor: 100_000 } };
    const result = evaluateCheckout(
      rules,
      makeContext({ budgets, lines: [line(1_010), line(1_010), line(1_010)] }),
    );
    // 101 fen per line, 303 in all: the union's 152 (151.5 rounded up) splits 51 / 51 / 50.
    expect(result.union_funded_minor).toBe(152);
    const parts = result.lines.map((checkoutLine) => checkoutLine.applied_rules[0]);
    expect(parts.map((part) => part?.union_funded_minor).sort()).toEqual([50, 51, 51]);
    expect(parts.map((part) => part?.merchant_funded_minor).sort()).toEqual([50, 50, 51]);
  });

  it('grants only what a budget has left and says the budget is exhausted', () => {
    const rules = [makeRule({ rule_id: 'shared', union_share_bps: 5000, budget_id: 'budget-1' })];
    const result = evaluateCheckout(
      rules,
      makeContext({ budgets: { 'budget-1': { remaining_minor: 200 } } }),
    );
    expect(result).toMatchObject({
      discount_minor: 700,
      union_funded_minor: 200,
      merchant_funded_minor: 500,
      net_minor: 9_300,
      budget_exhausted: true,
    });
    expect(result.rule_grants[0]?.budget_shortfall_minor).toBe(300);
  });

  it('treats a missing budget as empty: the merchant part is still granted', () => {
    const rules = [makeRule({ rule_id: 'shared', union_share_bps: 5000, budget_id: 'budget-1' })];
    const result = evaluateCheckout(rules, makeContext({ budgets: {} }));
    expect(result).toMatchObject({ discount_minor: 500, union_funded_minor: 0, merchant_funded_minor: 500 });
    expect(result.budget_exhausted).toBe(true);
  });

  it('reports a fully union-funded rule with an empty budget as a grant of nothing', () => {
    const rules = [makeRule({ rule_id: 'subsidy', union_share_bps: 10_000, budget_id: 'budget-1' })];
    const result = evaluateCheckout(rules, makeContext({ budgets: { 'budget-1': { remaining_minor: 0 } } }));
    expect(result.discount_minor).toBe(0);
    expect(result.budget_exhausted).toBe(true);
    expect(result.rule_grants).toEqual([
      {
        rule_id: 'subsidy',
        version: 1,
        budget_id: 'budget-1',
        discount_minor: 0,
        union_funded_minor: 0,
        merchant_funded_minor: 0,
        budget_shortfall_minor: 1_000,
      },
    ]);
    expect(result.lines[0]?.applied_rules).toEqual([]);
  });

  it('lets rules sharing a budget draw in priority order, deducting as they go', () => {
    const rules = [
      makeRule({ rule_id: 'later', union_share_bps: 10_000, budget_id: 'shared', stacking: 'stackable' }),
      makeRule({
        rule_id: 'first',
        union_share_bps: 10_000,
        budget_id: 'shared',
        priority: 1,
        item_categories: ['goods'],
      }),
    ];
    const result = evaluateCheckout(rules, makeContext({ budgets: { shared: { remaining_minor: 1_500 } } }));
    // first: 1000 of 10000; later: 10% of the remaining 9000 = 900, of which 500 is left.
    expect(
      result.rule_grants.map((grant) => [
        grant.rule_id,
        grant.union_funded_minor,
        grant.budget_shortfall_minor,
      ]),
    ).toEqual([
      ['first', 1_000, 0],
      ['later', 500, 400],
    ]);
    expect(result.union_funded_minor).toBe(1_500);
    expect(result.budget_exhausted).toBe(true);
    // Each line names the budget and what it held after that rule's whole draw: 1 500 − 1 000, then 0.
    const afterByRule = new Map(
      result.lines.flatMap((checkoutLine) =>
        checkoutLine.applied_rules.map((applied) => [
          applied.rule_id,
          [applied.budget_id, applied.budget_balance_after_minor],
        ]),
      ),
    );
    expect(Object.fromEntries(afterByRule)).toEqual({ first: ['shared', 500], later: ['shared', 0] });
  });

  it('does not need a budget when the merchant funds everything', () => {
    const result = evaluateCheckout([makeRule({ rule_id: 'merchant-only' })], makeContext());
    expect(result).toMatchObject({
      discount_minor: 1_000,
      merchant_funded_minor: 1_000,
      budget_exhausted: false,
    });
  });
});

describe('who and where', () => {
  it('reaches merchants by category or by id', () => {
    const rules = [
      makeRule({
        rule_id: 'hotels-and-one-shop',
        scope: { merchant_categories: ['hotel'], merchant_ids: ['shop-7'] },
      }),
    ];
    const at = (merchant_id: string, category: 'hotel' | 'supermarket') =>
      evaluateCheckout(rules, makeContext({ merchant: { merchant_id, category } })).discount_minor;
    expect(at('hotel-1', 'hotel')).toBe(1_000);
    expect(at('shop-7', 'supermarket')).toBe(1_000);
    expect(at('shop-8', 'supermarket')).toBe(0);
  });

  it('requires the card tier when tiers are listed', () => {
    const rules = [
      makeRule({ rule_id: 'model-workers', eligibility: { card_tiers: ['model_worker'], union_ids: null } }),
    ];
    const withTier = (tier: 'standard' | 'model_worker') =>
      evaluateCheckout(rules, makeContext({ card: { tier, union_id: 'union-1', status: 'active' } }))
        .discount_minor;
    expect(withTier('standard')).toBe(0);
    expect(withTier('model_worker')).toBe(1_000);
  });

  it('requires both tier and union when both are listed', () => {
    const rules = [
      makeRule({
        rule_id: 'hardship-in-9',
        eligibility: { card_tiers: ['hardship'], union_ids: ['union-9'] },
      }),
    ];
    const withCard = (tier: 'standard' | 'hardship', union_id: string) =>
      evaluateCheckout(rules, makeContext({ card: { tier, union_id, status: 'active' } })).discount_minor;
    expect(withCard('hardship', 'union-9')).toBe(1_000);
    expect(withCard('hardship', 'union-1')).toBe(0);
    expect(withCard('standard', 'union-9')).toBe(0);
  });

  it.each([
    ['frozen', 'card_frozen'],
    ['cancelled', 'card_cancelled'],
  ] as const)('gives a %s card no discount and says why', (status, reason) => {
    const result = evaluateCheckout(
      [makeRule({ rule_id: 'everyone' })],
      makeContext({ card: { tier: 'standard', union_id: 'union-1', status } }),
    );
    expect(result).toMatchObject({ discount_minor: 0, net_minor: 10_000, no_discount_reason: reason });
    expect(result.rule_grants).toEqual([]);
  });

  it('says no reason for an active card that simply matches nothing', () => {
    const result = evaluateCheckout([], makeContext());
    expect(result).toMatchObject({ discount_minor: 0, no_discount_reason: null, budget_exhausted: false });
  });
});

describe('the result', () => {
  it('keeps the input order of lines and their fields', () => {
    const rules = [makeRule({ rule_id: 'tickets', item_categories: ['ticket'] })];
    const lines = [line(500, 'snack', 2), line(8_000, 'ticket', 4), line(300, 'ticket')];
    const result = evaluateCheckout(rules, makeContext({ lines }));
    expect(
      result.lines.map(({ category, amount_minor, quantity }) => ({ category, amount_minor, quantity })),
    ).toEqual(lines);
    expect(lineDiscounts(result)).toEqual([0, 800, 30]);
    expect(result).toMatchObject({ gross_minor: 8_800, discount_minor: 830, net_minor: 7_970 });
  });

  it('stays exact at 500 lines of the largest amount', () => {
    const rules = [
      makeRule({ rule_id: 'third', benefit: { type: 'percent_off', bps: 3333 } }),
      makeRule({
        rule_id: 'per-unit',
        stacking: 'stackable',
        benefit: { type: 'amount_off', amount_minor: 1_000_000_000_000 },
        caps: makeCaps({ per_transaction_minor: 999_999_999_999 }),
      }),
    ];
    const lines = Array.from({ length: 500 }, () => line(1_000_000_000_000, 'goods', 1_000_000));
    const result = evaluateCheckout(rules, makeContext({ lines }));
    expect(result.gross_minor).toBe(500_000_000_000_000);
    // 33.33% of each line, then the stacked rule up to its cap across all lines.
    expect(result.discount_minor).toBe(500 * 333_300_000_000 + 999_999_999_999);
    expect(result.net_minor).toBe(result.gross_minor - result.discount_minor);
  });

  it('accepts a checkout without lines', () => {
    const result = evaluateCheckout([makeRule({ rule_id: 'any' })], makeContext({ lines: [] }));
    expect(result).toMatchObject({
      gross_minor: 0,
      discount_minor: 0,
      net_minor: 0,
      lines: [],
      rule_grants: [],
    });
  });
});

describe('input guards', () => {
  it('refuses more than 500 lines', () => {
    const lines = Array.from({ length: 501 }, () => line(100));
    expect(() => evaluateCheckout([], makeContext({ lines }))).toThrow(/at most 500 lines/);
  });

  it.each([0, -5, 10.5, 1_000_000_000_001])('refuses a line amount of %p', (amount) => {
    expect(() => evaluateCheckout([], makeContext({ lines: [line(amount)] }))).toThrow(/amount_minor/);
  });

  it('refuses a fractional quantity', () => {
    expect(() => evaluateCheckout([], makeContext({ lines: [line(100, 'goods', 1.5)] }))).toThrow(/quantity/);
  });

  it('refuses a time without an offset, which would be read in the machine’s zone', () => {
    expect(() => evaluateCheckout([], makeContext({ occurred_at: '2025-06-10T10:00:00' }))).toThrow(
      /occurred_at/,
    );
  });

  it('refuses two rules with one rule_id', () => {
    const rules = [makeRule({ rule_id: 'twice' }), makeRule({ rule_id: 'twice', version: 2 })];
    expect(() => evaluateCheckout(rules, makeContext())).toThrow(/appears twice/);
  });

  it('refuses a rule that does not validate', () => {
    const rules = [makeRule({ rule_id: 'no-budget', union_share_bps: 5000 })];
    expect(() => evaluateCheckout(rules, makeContext())).toThrow(/not valid/);
  });

  it('does not mistake a budget named like an Object property for a funded budget', () => {
    const rules = [makeRule({ rule_id: 'odd', union_share_bps: 10_000, budget_id: 'constructor' })];
    expect(evaluateCheckout(rules, makeContext()).discount_minor).toBe(0);
  });
});
