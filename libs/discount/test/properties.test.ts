import fc from 'fast-check';
import { allocateByLargestRemainder, applyBps } from '@puhui/money';
import {
  evaluateCheckout,
  type Benefit,
  type CheckoutContext,
  type CheckoutResult,
  type DiscountRule,
  type RuleGrant,
} from '@puhui/discount';
import { makeRule, refundInSteps } from './support';

/** ~300 runs per property keeps the whole suite within a few seconds. */
const RUNS = { numRuns: 300 };
const ITEM_CATEGORIES = ['ticket', 'room', 'goods'] as const;
const BUDGET_IDS = ['budget-a', 'budget-b'] as const;

const benefitArbitrary: fc.Arbitrary<Benefit> = fc.oneof(
  fc.record({ type: fc.constant('percent_off' as const), bps: fc.integer({ min: 1, max: 10_000 }) }),
  fc.record({ type: fc.constant('amount_off' as const), amount_minor: fc.integer({ min: 1, max: 5_000 }) }),
  fc.record({ type: fc.constant('fixed_price' as const), amount_minor: fc.integer({ min: 1, max: 5_000 }) }),
  fc.constant({ type: 'waive' as const }),
);

const capArbitrary = fc.option(fc.integer({ min: 1, max: 20_000 }), { nil: null });

const ruleShapeArbitrary = fc.record({
  benefit: benefitArbitrary,
  caps: fc.record({
    per_transaction_minor: capArbitrary,
    per_card_day_minor: capArbitrary,
    per_card_month_minor: capArbitrary,
  }),
  union_share_bps: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 10_000 }), fc.constant(10_000)),
  budget_id: fc.constantFrom(...BUDGET_IDS),
  priority: fc.integer({ min: 0, max: 3 }),
  stacking: fc.constantFrom('exclusive' as const, 'stackable' as const),
  item_categories: fc.option(fc.subarray([...ITEM_CATEGORIES], { minLength: 1 }), { nil: null }),
  card_tiers: fc.option(fc.subarray(['standard', 'model_worker', 'hardship'] as const, { minLength: 1 }), {
    nil: null,
  }),
});

/** Rule ids are assigned by position so that they are unique and tie-breaks get exercised. */
const rulesArbitrary: fc.Arbitrary<DiscountRule[]> = fc
  .array(ruleShapeArbitrary, { maxLength: 6 })
  .map((shapes) =>
    shapes.map(({ card_tiers, ...shape }, index) =>
      makeRule({ rule_id: `rule-${index}`, ...shape, eligibility: { card_tiers, union_ids: null } }),
    ),
  );

const lineArbitrary = fc.record({
  category: fc.constantFrom(...ITEM_CATEGORIES, 'snack'),
  amount_minor: fc.oneof(fc.integer({ min: 1, max: 200 }), fc.integer({ min: 1, max: 100_000 })),
  quantity: fc.integer({ min: 1, max: 4 }),
});

const usageArbitrary = fc.dictionary(
  fc.constantFrom('rule-0', 'rule-1', 'rule-2', 'rule-3'),
  fc.record({
    card_day_minor: fc.integer({ min: 0, max: 25_000 }),
    card_month_minor: fc.integer({ min: 0, max: 25_000 }),
  }),
);

const contextArbitrary: fc.Arbitrary<CheckoutContext> = fc.record({
  merchant: fc.constant({ merchant_id: 'merchant-1', category: 'supermarket' as const }),
  card: fc.record({
    tier: fc.constantFrom('standard' as const, 'model_worker' as const, 'hardship' as const),
    union_id: fc.constant('union-1'),
    status: fc.constantFrom('active' as const, 'active' as const, 'active' as const, 'frozen' as const),
  }),
  occurred_at: fc.constant('2025-06-10T10:00:00+08:00'),
  lines: fc.array(lineArbitrary, { maxLength: 8 }),
  usage: usageArbitrary,
  budgets: fc.dictionary(
    fc.constantFrom(...BUDGET_IDS),
    fc.record({ remaining_minor: fc.integer({ min: 0, max: 3_000 }) }),
  ),
});

const checkoutArbitrary = fc.tuple(rulesArbitrary, contextArbitrary);

function sum(values: readonly number[]): number {
  return values.reduce((total, value) => total + value, 0);
}

function lineKey(result: CheckoutResult['lines'][number]): string {
  return JSON.stringify(result);
}

describe('properties of every checkout', () => {
  it('never discounts a line beyond its amount, nor the checkout beyond its gross', () => {
    fc.assert(
      fc.property(checkoutArbitrary, ([rules, context]) => {
        const result = evaluateCheckout(rules, context);
        for (const checkoutLine of result.lines) {
          expect(checkoutLine.discount_minor).toBeGreaterThanOrEqual(0);
          expect(checkoutLine.discount_minor).toBeLessThanOrEqual(checkoutLine.amount_minor);
        }
        expect(result.discount_minor).toBeLessThanOrEqual(result.gross_minor);
        expect(result.gross_minor).toBe(sum(context.lines.map((checkoutLine) => checkoutLine.amount_minor)));
        expect(result.net_minor).toBe(result.gross_minor - result.discount_minor);
      }),
      RUNS,
    );
  });

  it('splits every discount exactly into merchant and union parts, per rule, per line and in total', () => {
    fc.assert(
      fc.property(checkoutArbitrary, ([rules, context]) => {
        const result = evaluateCheckout(rules, context);
        expect(result.merchant_funded_minor + result.union_funded_minor).toBe(result.discount_minor);
        for (const grant of result.rule_grants) {
          expect(grant.merchant_funded_minor + grant.union_funded_minor).toBe(grant.discount_minor);
          expect(Math.min(grant.merchant_funded_minor, grant.union_funded_minor)).toBeGreaterThanOrEqual(0);
          const applied = result.lines.flatMap((checkoutLine) =>
            checkoutLine.applied_rules.filter((rule) => rule.rule_id === grant.rule_id),
          );
          expect(sum(applied.map((rule) => rule.discount_minor))).toBe(grant.discount_minor);
          expect(sum(applied.map((rule) => rule.union_funded_minor))).toBe(grant.union_funded_minor);
        }
        for (const checkoutLine of result.lines) {
          const applied = checkoutLine.applied_rules;
          applied.forEach((rule) => {
            expect(rule.merchant_funded_minor + rule.union_funded_minor).toBe(rule.discount_minor);
            expect(Math.min(rule.merchant_funded_minor, rule.union_funded_minor)).toBeGreaterThanOrEqual(0);
          });
          expect(sum(applied.map((rule) => rule.discount_minor))).toBe(checkoutLine.discount_minor);
        }
        expect(sum(result.lines.map((checkoutLine) => checkoutLine.discount_minor))).toBe(
          result.discount_minor,
        );
        expect(sum(result.rule_grants.map((grant) => grant.union_funded_minor))).toBe(
          result.union_funded_minor,
        );
      }),
      RUNS,
    );
  });

  it('never exceeds a cap, counting the card’s usage', () => {
    fc.assert(
      fc.property(checkoutArbitrary, ([rules, context]) => {
        const result = evaluateCheckout(rules, context);
        for (const grant of result.rule_grants) {
          const { caps } = rules.find((rule) => rule.rule_id === grant.rule_id) as DiscountRule;
          const usage = context.usage[grant.rule_id] ?? { card_day_minor: 0, card_month_minor: 0 };
          if (caps.per_transaction_minor !== null) {
            expect(grant.discount_minor).toBeLessThanOrEqual(caps.per_transaction_minor);
          }
          if (caps.per_card_day_minor !== null) {
            expect(grant.discount_minor).toBeLessThanOrEqual(
              Math.max(0, caps.per_card_day_minor - usage.card_day_minor),
            );
          }
          if (caps.per_card_month_minor !== null) {
            expect(grant.discount_minor).toBeLessThanOrEqual(
              Math.max(0, caps.per_card_month_minor - usage.card_month_minor),
            );
          }
        }
      }),
      RUNS,
    );
  });

  it('never funds more from a budget than it has left, and says so when it falls short', () => {
    fc.assert(
      fc.property(checkoutArbitrary, ([rules, context]) => {
        const result = evaluateCheckout(rules, context);
        for (const budgetId of BUDGET_IDS) {
          const drawn = sum(
            result.rule_grants
              .filter((grant) => grant.budget_id === budgetId)
              .map((grant) => grant.union_funded_minor),
          );
          expect(drawn).toBeLessThanOrEqual(context.budgets[budgetId]?.remaining_minor ?? 0);
        }
        const shortfall = sum(result.rule_grants.map((grant) => grant.budget_shortfall_minor));
        expect(result.budget_exhausted).toBe(shortfall > 0);
        for (const grant of result.rule_grants) {
          const rule = rules.find((candidate) => candidate.rule_id === grant.rule_id) as DiscountRule;
          const asked = grant.discount_minor + grant.budget_shortfall_minor;
          expect(grant.union_funded_minor + grant.budget_shortfall_minor).toBe(
            applyBps(asked, rule.union_share_bps),
          );
        }
      }),
      RUNS,
    );
  });

  it('gives a card that is not active nothing', () => {
    fc.assert(
      fc.property(checkoutArbitrary, ([rules, context]) => {
        const result = evaluateCheckout(rules, { ...context, card: { ...context.card, status: 'frozen' } });
        expect(result.discount_minor).toBe(0);
        expect(result.no_discount_reason).toBe('card_frozen');
      }),
      RUNS,
    );
  });

  it('does not depend on the order of the lines or of the rules', () => {
    const shuffled = checkoutArbitrary.chain(([rules, context]) =>
      fc.tuple(
        fc.constant(rules),
        fc.constant(context),
        fc.shuffledSubarray([...context.lines], { minLength: context.lines.length }),
        fc.shuffledSubarray(rules, { minLength: rules.length }),
      ),
    );
    fc.assert(
      fc.property(shuffled, ([rules, context, shuffledLines, shuffledRules]) => {
        const original = evaluateCheckout(rules, context);
        const reordered = evaluateCheckout(shuffledRules, { ...context, lines: shuffledLines });
        const { lines: originalLines, ...originalTotals } = original;
        const { lines: reorderedLines, ...reorderedTotals } = reordered;
        expect(reorderedTotals).toEqual(originalTotals);
        expect(reorderedLines.map(lineKey).sort()).toEqual(originalLines.map(lineKey).sort());
      }),
      RUNS,
    );
  });
});

/** Splits a gross into a sequence of positive refunds by random weights. */
function refundSequence(gross: number, weights: readonly number[]): number[] {
  return allocateByLargestRemainder(gross, weights).filter((refund) => refund > 0);
}

function expectRefundsWithinGrants(
  gross: number,
  grants: readonly RuleGrant[],
  refunds: readonly number[],
): void {
  const steps = refundInSteps(gross, grants, refunds);
  const net = gross - sum(grants.map((grant) => grant.discount_minor));
  let memberRefunded = 0;
  grants.forEach((grant, index) => {
    const reversals = steps.map((step) => step.reversals[index]);
    for (const reversal of reversals) {
      expect(reversal?.discount_reversed_minor).toBeGreaterThanOrEqual(0);
      expect(reversal?.union_reversed_minor).toBeGreaterThanOrEqual(0);
      expect(reversal?.merchant_reversed_minor).toBeGreaterThanOrEqual(0);
    }
    const union = sum(reversals.map((reversal) => reversal?.union_reversed_minor ?? 0));
    const merchant = sum(reversals.map((reversal) => reversal?.merchant_reversed_minor ?? 0));
    expect(union).toBeLessThanOrEqual(grant.union_funded_minor);
    expect(merchant).toBeLessThanOrEqual(grant.merchant_funded_minor);
    if (sum(refunds) === gross) {
      expect(union).toBe(grant.union_funded_minor);
      expect(merchant).toBe(grant.merchant_funded_minor);
    }
  });
  for (const step of steps) {
    expect(step.member_refund_minor).toBeGreaterThanOrEqual(0);
    expect(step.member_refund_minor).toBeLessThanOrEqual(step.refund_gross_minor);
    memberRefunded += step.member_refund_minor;
  }
  expect(memberRefunded).toBeLessThanOrEqual(net);
  if (sum(refunds) === gross) expect(memberRefunded).toBe(net);
}

/** Grants as a checkout could produce them: several rules sharing a gross, some heavily discounted. */
const grantsArbitrary = fc
  .record({
    gross: fc.integer({ min: 1, max: 5_000 }),
    discount_bps: fc.integer({ min: 0, max: 10_000 }),
    rules: fc.array(
      fc.record({ weight: fc.integer({ min: 0, max: 100 }), union_bps: fc.integer({ min: 0, max: 10_000 }) }),
      {
        minLength: 1,
        maxLength: 5,
      },
    ),
  })
  .map(({ gross, discount_bps, rules }) => {
    const weights = rules.some((rule) => rule.weight > 0)
      ? rules.map((rule) => rule.weight)
      : rules.map(() => 1);
    const discounts = allocateByLargestRemainder(applyBps(gross, discount_bps), weights);
    const grants = rules.map((rule, index): RuleGrant => {
      const discount = discounts[index] as number;
      const union = applyBps(discount, rule.union_bps);
      return {
        rule_id: `rule-${index}`,
        version: 1,
        budget_id: union > 0 ? 'budget-a' : null,
        discount_minor: discount,
        union_funded_minor: union,
        merchant_funded_minor: discount - union,
        budget_shortfall_minor: 0,
      };
    });
    return { gross, grants };
  });

const refundWeights = fc.array(fc.integer({ min: 0, max: 50 }), { minLength: 1, maxLength: 6 });

describe('properties of refunds', () => {
  it('never reverse more than granted, and a sequence summing to the gross reverses exactly the grants', () => {
    fc.assert(
      fc.property(grantsArbitrary, refundWeights, fc.boolean(), ({ gross, grants }, weights, complete) => {
        fc.pre(weights.some((weight) => weight > 0));
        const refunds = refundSequence(gross, weights);
        expectRefundsWithinGrants(gross, grants, complete ? refunds : refunds.slice(0, -1));
      }),
      RUNS,
    );
  });

  it('reverse what evaluated checkouts granted, step by step', () => {
    fc.assert(
      fc.property(checkoutArbitrary, refundWeights, ([rules, context], weights) => {
        const result = evaluateCheckout(rules, context);
        fc.pre(result.gross_minor > 0 && weights.some((weight) => weight > 0));
        expectRefundsWithinGrants(
          result.gross_minor,
          result.rule_grants,
          refundSequence(result.gross_minor, weights),
        );
      }),
      RUNS,
    );
  });
});
