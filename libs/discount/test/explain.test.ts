import { evaluateCheckout, explainCheckout, type CheckoutContext, type DiscountRule } from '@puhui/discount';
import { line, makeCaps, makeContext, makeRule } from './support';

const outcomesOf = (rules: DiscountRule[], context: CheckoutContext) =>
  explainCheckout(rules, context, evaluateCheckout(rules, context)).map(
    ({ rule_id, outcome, shortfall_minor }) =>
      shortfall_minor === undefined ? [rule_id, outcome] : [rule_id, outcome, shortfall_minor],
  );

describe('why a rule did or did not apply', () => {
  it.each<[string, Partial<DiscountRule>, Partial<CheckoutContext>, string]>([
    ['applies', {}, {}, 'applied'],
    // Saturday and Sunday (ISO 6, 7) only; the context is a Tuesday morning.
    [
      'weekend only, on a Tuesday',
      { schedule: { ...makeRule({ rule_id: 'x' }).schedule, days_of_week: [6, 7] } },
      {},
      'outside_schedule',
    ],
    [
      'not valid yet',
      { schedule: { ...makeRule({ rule_id: 'x' }).schedule, valid_from: '2026-01-01T00:00:00+08:00' } },
      {},
      'outside_schedule',
    ],
    [
      'scenic spots only, at a supermarket',
      { scope: { merchant_categories: ['scenic_spot'], merchant_ids: null } },
      {},
      'merchant_not_in_scope',
    ],
    [
      'model workers only',
      { eligibility: { card_tiers: ['model_worker'], union_ids: null } },
      {},
      'card_not_eligible',
    ],
    ['another union', { eligibility: { card_tiers: null, union_ids: ['union-9'] } }, {}, 'card_not_eligible'],
    [
      'day cap used up',
      { caps: makeCaps({ per_card_day_minor: 3_000 }) },
      { usage: { r: { card_day_minor: 3_000, card_month_minor: 3_000 } } },
      'cap_used',
    ],
    ['meals only, on goods', { item_categories: ['meals'] }, {}, 'items_not_covered'],
    [
      'a frozen card',
      {},
      { card: { tier: 'standard', union_id: 'union-1', status: 'frozen' } },
      'card_not_active',
    ],
  ])('%s', (_name, overrides, context, outcome) => {
    expect(outcomesOf([makeRule({ rule_id: 'r', ...overrides })], makeContext(context))).toEqual([
      ['r', outcome],
    ]);
  });

  it('says an exclusive rule was outdone and a stackable one had nothing left', () => {
    const rules = [
      makeRule({ rule_id: 'big', benefit: { type: 'percent_off', bps: 3000 } }),
      makeRule({ rule_id: 'small', benefit: { type: 'percent_off', bps: 1000 } }),
      makeRule({ rule_id: 'free', benefit: { type: 'waive' }, item_categories: ['registration'] }),
      makeRule({ rule_id: 'after', stacking: 'stackable', item_categories: ['registration'] }),
    ];
    const context = makeContext({ lines: [line(10_000), line(500, 'registration')] });
    expect(outcomesOf(rules, context)).toEqual([
      ['after', 'nothing_left'],
      ['big', 'applied'],
      ['free', 'applied'],
      ['small', 'outdone'],
    ]);
  });

  it('names the shortfall of a union share its budget could not fund', () => {
    const rule = makeRule({ rule_id: 'u', union_share_bps: 10_000, budget_id: 'b1' });
    const context = makeContext({ budgets: { b1: { remaining_minor: 400 } } });
    expect(outcomesOf([rule], context)).toEqual([['u', 'budget_short', 600]]);
    expect(outcomesOf([rule], makeContext({ budgets: { b1: { remaining_minor: 0 } } }))).toEqual([
      ['u', 'budget_short', 1_000],
    ]);
  });

  it('explains every rule once, whatever the order they come in', () => {
    const rules = [
      makeRule({ rule_id: 'b' }),
      makeRule({ rule_id: 'a', priority: 5 }),
      makeRule({ rule_id: 'c', eligibility: { card_tiers: ['hardship'], union_ids: null } }),
    ];
    const outcomes = outcomesOf(rules, makeContext());
    expect(outcomes.map(([ruleId]) => ruleId)).toEqual(['a', 'b', 'c']);
    expect(outcomesOf([...rules].reverse(), makeContext())).toEqual(outcomes);
  });
});
