/** Builders for rules and checkouts: each test states only what it is about. */
import {
  computeRefund,
  type CheckoutContext,
  type CheckoutLine,
  type DiscountRule,
  type ReversedBefore,
  type RuleGrant,
} from '@puhui/discount';

/** Tuesday 10 June 2025, 10:00 in Shanghai. */
export const TUESDAY_MORNING = '2025-06-10T10:00:00+08:00';

export function makeRule(overrides: Partial<DiscountRule> & { rule_id: string }): DiscountRule {
  return {
    version: 1,
    name: `rule ${overrides.rule_id}`,
    scope: { merchant_categories: null, merchant_ids: null },
    item_categories: null,
    eligibility: { card_tiers: null, union_ids: null },
    benefit: { type: 'percent_off', bps: 1000 },
    caps: { per_transaction_minor: null, per_card_day_minor: null, per_card_month_minor: null },
    union_share_bps: 0,
    budget_id: null,
    schedule: {
      valid_from: '2025-01-01T00:00:00+08:00',
      valid_to: null,
      days_of_week: null,
      time_of_day: null,
    },
    priority: 0,
    stacking: 'exclusive',
    ...overrides,
  };
}

export function makeCaps(caps: Partial<DiscountRule['caps']>): DiscountRule['caps'] {
  return { per_transaction_minor: null, per_card_day_minor: null, per_card_month_minor: null, ...caps };
}

export function line(amount_minor: number, category = 'goods', quantity = 1): CheckoutLine {
  return { category, amount_minor, quantity };
}

export function makeContext(overrides: Partial<CheckoutContext> = {}): CheckoutContext {
  return {
    merchant: { merchant_id: 'merchant-1', category: 'supermarket' },
    card: { tier: 'standard', union_id: 'union-1', status: 'active' },
    occurred_at: TUESDAY_MORNING,
    lines: [line(10_000)],
    usage: {},
    budgets: {},
    ...overrides,
  };
}

/** Runs refunds one after another the way a caller would, carrying what each one reversed. */
export function refundInSteps(gross_minor: number, grants: readonly RuleGrant[], refunds: readonly number[]) {
  const reversed_before: Record<string, ReversedBefore> = {};
  let refunded_before_minor = 0;
  return refunds.map((refund_minor) => {
    const result = computeRefund({
      gross_minor,
      grants,
      refunded_before_minor,
      reversed_before,
      refund_minor,
    });
    refunded_before_minor += refund_minor;
    for (const reversal of result.reversals) {
      const before = reversed_before[reversal.rule_id] ?? { discount_minor: 0, union_funded_minor: 0 };
      reversed_before[reversal.rule_id] = {
        discount_minor: before.discount_minor + reversal.discount_reversed_minor,
        union_funded_minor: before.union_funded_minor + reversal.union_reversed_minor,
      };
    }
    return result;
  });
}
