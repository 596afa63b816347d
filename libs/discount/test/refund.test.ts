import { DomainError } from '@puhui/errors';
import { RefundExceedsRemaining, computeRefund, evaluateCheckout, type RuleGrant } from '@puhui/discount';
import { line, makeContext, makeRule, refundInSteps } from './support';

function grant(rule_id: string, discount_minor: number, union_funded_minor = 0): RuleGrant {
  return {
    rule_id,
    version: 1,
    budget_id: union_funded_minor > 0 ? 'budget-1' : null,
    discount_minor,
    union_funded_minor,
    merchant_funded_minor: discount_minor - union_funded_minor,
    budget_shortfall_minor: 0,
  };
}

describe('refunds', () => {
  it('reverse the discount in proportion, and the last refund reverses exactly what is left', () => {
    // ¥35.55 at a supermarket, 9.5折: 178 fen off.
    const steps = refundInSteps(3_555, [grant('supermarket', 178)], [1_000, 1_000, 1_555]);
    expect(steps.map((step) => step.discount_reversed_minor)).toEqual([50, 50, 78]); // 50.07, 100.14 → 100, 178
    expect(steps.map((step) => step.member_refund_minor)).toEqual([950, 950, 1_477]);
    expect(steps.reduce((sum, step) => sum + step.member_refund_minor, 0)).toBe(3_555 - 178);
  });

  it('reverse the union subsidy with the same rounding and leave the merchant the rest', () => {
    const steps = refundInSteps(10_000, [grant('shared', 1_000, 333)], [5_000, 5_000]);
    expect(
      steps.map(({ discount_reversed_minor, union_reversed_minor, merchant_reversed_minor }) => [
        discount_reversed_minor,
        union_reversed_minor,
        merchant_reversed_minor,
      ]),
    ).toEqual([
      [500, 167, 333], // union 166.5 rounds up
      [500, 166, 334],
    ]);
    expect(steps[0]?.reversals[0]).toEqual({
      rule_id: 'shared',
      version: 1,
      budget_id: 'budget-1',
      discount_reversed_minor: 500,
      union_reversed_minor: 167,
      merchant_reversed_minor: 333,
    });
  });

  it('reverse a whole checkout in one refund exactly', () => {
    const result = evaluateCheckout(
      [
        makeRule({ rule_id: 'exclusive', union_share_bps: 2500, budget_id: 'budget-1' }),
        makeRule({ rule_id: 'stacked', stacking: 'stackable', benefit: { type: 'percent_off', bps: 333 } }),
      ],
      makeContext({
        lines: [line(12_345), line(678)],
        budgets: { 'budget-1': { remaining_minor: 1_000_000 } },
      }),
    );
    const [refund] = refundInSteps(result.gross_minor, result.rule_grants, [result.gross_minor]);
    expect(refund).toMatchObject({
      discount_reversed_minor: result.discount_minor,
      union_reversed_minor: result.union_funded_minor,
      merchant_reversed_minor: result.merchant_funded_minor,
      member_refund_minor: result.net_minor,
    });
  });

  it('never take money from the card when several rules each round a tiny refund up', () => {
    // Two 50-fen discounts on a 100-fen checkout: 1 fen refunded is 0.5 fen of each.
    const steps = refundInSteps(100, [grant('first', 50), grant('second', 50)], [1, 1, 98]);
    expect(steps.map((step) => step.reversals.map((reversal) => reversal.discount_reversed_minor))).toEqual([
      [1, 0],
      [0, 1],
      [49, 49],
    ]);
    expect(steps.map((step) => step.member_refund_minor)).toEqual([0, 0, 0]);
  });

  it('give the whole refund back to the card when nothing was discounted', () => {
    const [refund] = refundInSteps(5_000, [], [1_200]);
    expect(refund).toMatchObject({ discount_reversed_minor: 0, member_refund_minor: 1_200, reversals: [] });
  });

  it('refuse a refund beyond what remains refundable', () => {
    // Two of the four are in the catch: the test fails if the call in the try ever stops throwing.
    expect.assertions(4);
    const input = {
      gross_minor: 3_555,
      grants: [grant('supermarket', 178)],
      refunded_before_minor: 3_000,
      reversed_before: { supermarket: { discount_minor: 150, union_funded_minor: 0 } },
      refund_minor: 556,
    };
    expect(() => computeRefund(input)).toThrow(RefundExceedsRemaining);
    try {
      computeRefund(input);
    } catch (error) {
      expect(error).toBeInstanceOf(DomainError);
      expect(error).toMatchObject({
        kind: 'unprocessable',
        code: 'refund_exceeds_remaining',
        extensions: { refund_minor: 556, refundable_minor: 555 },
      });
    }
    expect(computeRefund({ ...input, refund_minor: 555 }).discount_reversed_minor).toBe(28);
  });

  it.each([0, -100])('refuse a refund of %i fen', (refund_minor) => {
    const input = {
      gross_minor: 1_000,
      grants: [],
      refunded_before_minor: 0,
      reversed_before: {},
      refund_minor,
    };
    expect(() => computeRefund(input)).toThrow(RefundExceedsRemaining);
  });

  it('refuse any refund of a fully refunded checkout', () => {
    const input = {
      gross_minor: 1_000,
      grants: [],
      refunded_before_minor: 1_000,
      reversed_before: {},
      refund_minor: 1,
    };
    expect(() => computeRefund(input)).toThrow(RefundExceedsRemaining);
  });

  it('refuse earlier reversals larger than the grant as a programming error', () => {
    const input = {
      gross_minor: 1_000,
      grants: [grant('rule', 100)],
      refunded_before_minor: 500,
      reversed_before: { rule: { discount_minor: 101, union_funded_minor: 0 } },
      refund_minor: 100,
    };
    expect(() => computeRefund(input)).toThrow(/outside its grant/);
  });
});
