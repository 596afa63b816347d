import {
  MERCHANT_CATEGORIES,
  describeBenefit,
  discountRuleSchema,
  ruleAppliesToCard,
  ruleMatchesMerchant,
  validateRule,
  type DiscountRule,
} from '@puhui/discount';
import { makeCaps, makeRule } from './support';

function problemNames(rule: DiscountRule): string[] {
  return validateRule(rule).map((problem) => problem.name);
}

describe('the rule schema', () => {
  it('accepts a complete rule', () => {
    const rule = makeRule({
      rule_id: 'hotel-rooms',
      scope: { merchant_categories: ['hotel'], merchant_ids: null },
      item_categories: ['room'],
      benefit: { type: 'percent_off', bps: 2200 },
      caps: makeCaps({ per_card_month_minor: 50_000 }),
      union_share_bps: 2000,
      budget_id: 'budget-2025',
      schedule: {
        valid_from: '2025-01-01T00:00:00+08:00',
        valid_to: '2026-01-01T00:00:00Z',
        days_of_week: [1, 2, 3, 4, 5],
        time_of_day: { start: '22:00', end: '06:00' },
      },
    });
    expect(discountRuleSchema.parse(rule)).toEqual(rule);
  });

  it('rejects unknown fields', () => {
    const result = discountRuleSchema.safeParse({ ...makeRule({ rule_id: 'x' }), discount_bps: 500 });
    expect(result.success).toBe(false);
  });

  it.each([
    ['a percentage above 100%', { type: 'percent_off', bps: 10_001 }],
    ['a zero percentage', { type: 'percent_off', bps: 0 }],
    ['a fractional amount', { type: 'amount_off', amount_minor: 1.5 }],
    ['an unknown benefit type', { type: 'buy_one_get_one' }],
    ['a benefit with stray fields', { type: 'waive', bps: 100 }],
  ])('rejects %s', (_what, benefit) => {
    expect(discountRuleSchema.safeParse({ ...makeRule({ rule_id: 'x' }), benefit }).success).toBe(false);
  });

  it.each([
    ['a local time without an offset', { valid_from: '2025-01-01T00:00:00' }],
    ['a time of day past 23:59', { time_of_day: { start: '24:00', end: '01:00' } }],
    ['day 0 of the week', { days_of_week: [0] }],
  ])('rejects a schedule with %s', (_what, overrides) => {
    const rule = makeRule({ rule_id: 'x' });
    const schedule = { ...rule.schedule, ...overrides };
    expect(discountRuleSchema.safeParse({ ...rule, schedule }).success).toBe(false);
  });

  it('rejects an item category that is not snake_case', () => {
    expect(
      discountRuleSchema.safeParse({ ...makeRule({ rule_id: 'x' }), item_categories: ['Room'] }).success,
    ).toBe(false);
  });

  it('knows the ten merchant categories', () => {
    expect(MERCHANT_CATEGORIES).toHaveLength(10);
  });
});

describe('rule validation', () => {
  it('finds nothing wrong with a sound rule', () => {
    expect(validateRule(makeRule({ rule_id: 'sound' }))).toEqual([]);
  });

  it('requires valid_to after valid_from', () => {
    const rule = makeRule({ rule_id: 'x' });
    const schedule = { ...rule.schedule, valid_to: '2024-12-31T16:00:00Z' }; // the same instant
    expect(validateRule({ ...rule, schedule })).toEqual([
      { name: 'schedule.valid_to', reason: 'must be after valid_from' },
    ]);
  });

  it('refuses a time window that starts where it ends', () => {
    const rule = makeRule({ rule_id: 'x' });
    const schedule = { ...rule.schedule, time_of_day: { start: '09:00', end: '09:00' } };
    expect(problemNames({ ...rule, schedule })).toEqual(['schedule.time_of_day.end']);
  });

  it('refuses empty lists, which would match nothing', () => {
    const rule = makeRule({
      rule_id: 'x',
      scope: { merchant_categories: [], merchant_ids: [] },
      item_categories: [],
      eligibility: { card_tiers: [], union_ids: [] },
    });
    const schedule = { ...rule.schedule, days_of_week: [] };
    expect(problemNames({ ...rule, schedule })).toEqual([
      'scope.merchant_categories',
      'scope.merchant_ids',
      'item_categories',
      'eligibility.card_tiers',
      'eligibility.union_ids',
      'schedule.days_of_week',
    ]);
  });

  it('requires a budget when the union funds a share', () => {
    expect(problemNames(makeRule({ rule_id: 'x', union_share_bps: 1 }))).toEqual(['budget_id']);
    expect(problemNames(makeRule({ rule_id: 'x', union_share_bps: 1, budget_id: 'b' }))).toEqual([]);
  });

  it('requires amounts to be positive integers of fen up to the maximum', () => {
    const rule = makeRule({
      rule_id: 'x',
      benefit: { type: 'fixed_price', amount_minor: 0 },
      caps: { per_transaction_minor: 1.5, per_card_day_minor: -1, per_card_month_minor: 1_000_000_000_001 },
    });
    expect(problemNames(rule)).toEqual([
      'benefit.amount_minor',
      'caps.per_transaction_minor',
      'caps.per_card_day_minor',
      'caps.per_card_month_minor',
    ]);
  });

  it('reports each problem with a reason', () => {
    const problems = validateRule(makeRule({ rule_id: 'x', union_share_bps: 100, version: 0 }));
    expect(problems).toEqual([
      { name: 'version', reason: 'must be a positive integer' },
      { name: 'budget_id', reason: 'is required when union_share_bps is above 0' },
    ]);
  });
});

describe('matching helpers for rate sheets', () => {
  it('match every merchant when the scope lists nothing', () => {
    expect(ruleMatchesMerchant(makeRule({ rule_id: 'x' }), { merchant_id: 'any', category: 'other' })).toBe(
      true,
    );
  });

  it('match a merchant listed by id even outside the listed categories', () => {
    const rule = makeRule({
      rule_id: 'x',
      scope: { merchant_categories: ['pharmacy'], merchant_ids: ['m-9'] },
    });
    expect(ruleMatchesMerchant(rule, { merchant_id: 'm-9', category: 'hotel' })).toBe(true);
    expect(ruleMatchesMerchant(rule, { merchant_id: 'm-8', category: 'pharmacy' })).toBe(true);
    expect(ruleMatchesMerchant(rule, { merchant_id: 'm-8', category: 'hotel' })).toBe(false);
  });

  it('apply to every card when eligibility lists nothing', () => {
    expect(ruleAppliesToCard(makeRule({ rule_id: 'x' }), { tier: 'hardship', union_id: 'u' })).toBe(true);
  });

  it('apply to a card only when each given list matches', () => {
    const rule = makeRule({ rule_id: 'x', eligibility: { card_tiers: null, union_ids: ['u-1', 'u-2'] } });
    expect(ruleAppliesToCard(rule, { tier: 'standard', union_id: 'u-2' })).toBe(true);
    expect(ruleAppliesToCard(rule, { tier: 'standard', union_id: 'u-3' })).toBe(false);
  });
});

describe('describing benefits', () => {
  it.each([
    [{ type: 'percent_off', bps: 2200 }, '7.8折 · 22% off'],
    [{ type: 'percent_off', bps: 5000 }, '5折 · 50% off'],
    [{ type: 'waive' }, '免费 · 100% off'],
    [{ type: 'amount_off', amount_minor: 500 }, '立减¥5.00/件 · ¥5.00 off each'],
    [{ type: 'fixed_price', amount_minor: 9_900 }, '特价¥99.00/件 · ¥99.00 each'],
  ] as const)('describes %j as "%s"', (benefit, text) => {
    expect(describeBenefit(benefit)).toBe(text);
  });
});
