/**
 * What a checkout evaluation takes and returns, and the assertions that guard its inputs.
 * Callers validate requests with their own schemas first; a failed assertion here is a
 * programmer error (a caller passed something its schema should have refused).
 */
import assert from 'node:assert/strict';
import { AMOUNT_MINOR_MAX, isFen } from '@puhui/money';
import type { CardIdentity, MerchantIdentity } from './match';
import { parseInstant, validateRule, type CardStatus, type DiscountRule } from './schema';

/** The most lines one checkout may carry; a receipt longer than this is not a card checkout. */
export const CHECKOUT_LINES_MAX = 500;

export interface CheckoutLine {
  category: string;
  /** The line total in fen (not a unit price). */
  amount_minor: number;
  quantity: number;
}

/** Discount the card already received from one rule, captured minus refunded. */
export interface RuleUsage {
  /** In the current Asia/Shanghai day of the checkout. */
  card_day_minor: number;
  /** In the current Asia/Shanghai month of the checkout. */
  card_month_minor: number;
}

export interface CheckoutContext {
  merchant: MerchantIdentity;
  card: CardIdentity & { status: CardStatus };
  /** RFC 3339 with an offset: when the purchase happened. */
  occurred_at: string;
  lines: readonly CheckoutLine[];
  /** By rule_id; a missing rule has used nothing. */
  usage: Readonly<Record<string, RuleUsage>>;
  /** By budget_id; a missing budget has nothing left. */
  budgets: Readonly<Record<string, { remaining_minor: number }>>;
}

/** What a rule grants and who pays for it, on a line or over the checkout. */
export interface RuleFunding {
  rule_id: string;
  version: number;
  discount_minor: number;
  union_funded_minor: number;
  merchant_funded_minor: number;
}

/** A rule's part of one line, with the budget its union share was drawn from. */
export interface AppliedRule extends RuleFunding {
  /** Null for a rule without a union share. */
  budget_id: string | null;
  /** What the budget holds after this rule's draw in this checkout; null without a budget. */
  budget_balance_after_minor: number | null;
}

export interface LineResult extends CheckoutLine {
  discount_minor: number;
  /** In the order the rules were applied: the exclusive winner first, then stackable rules. */
  applied_rules: AppliedRule[];
}

export interface RuleGrant extends RuleFunding {
  budget_id: string | null;
  /** Union part the rule asked for that its budget could not fund (and was not granted). */
  budget_shortfall_minor: number;
}

export type NoDiscountReason = 'card_frozen' | 'card_cancelled';

export interface CheckoutResult {
  gross_minor: number;
  discount_minor: number;
  merchant_funded_minor: number;
  union_funded_minor: number;
  net_minor: number;
  budget_exhausted: boolean;
  no_discount_reason: NoDiscountReason | null;
  /** One per input line, in input order. */
  lines: LineResult[];
  /** One per rule that produced a discount before funding, in processing order (priority desc, rule_id). */
  rule_grants: RuleGrant[];
}

/** An own property of a record: ids come from outside, and `constructor` must not find Object's. */
export function ownEntry<T>(record: Readonly<Record<string, T>>, key: string): T | undefined {
  return Object.hasOwn(record, key) ? record[key] : undefined;
}

function assertNonNegativeFen(value: unknown, what: string): void {
  assert.ok(isFen(value) && value >= 0, `${what} must be a non-negative integer number of fen`);
}

export function assertCheckoutContext(context: CheckoutContext): void {
  assert.ok(!Number.isNaN(parseInstant(context.occurred_at)), 'occurred_at must be RFC 3339 with an offset');
  assert.ok(context.lines.length <= CHECKOUT_LINES_MAX, `a checkout has at most ${CHECKOUT_LINES_MAX} lines`);
  context.lines.forEach((line, index) => {
    assert.ok(typeof line.category === 'string' && line.category !== '', `lines.${index}.category is empty`);
    assert.ok(
      isFen(line.amount_minor) && line.amount_minor >= 1 && line.amount_minor <= AMOUNT_MINOR_MAX,
      `lines.${index}.amount_minor must be a positive integer number of fen up to ${AMOUNT_MINOR_MAX}`,
    );
    assert.ok(
      Number.isSafeInteger(line.quantity) && line.quantity >= 1,
      `lines.${index}.quantity must be a positive integer`,
    );
  });
  for (const [ruleId, usage] of Object.entries(context.usage)) {
    assertNonNegativeFen(usage.card_day_minor, `usage.${ruleId}.card_day_minor`);
    assertNonNegativeFen(usage.card_month_minor, `usage.${ruleId}.card_month_minor`);
  }
  for (const [budgetId, budget] of Object.entries(context.budgets)) {
    assertNonNegativeFen(budget.remaining_minor, `budgets.${budgetId}.remaining_minor`);
  }
}

/** Rules come from a rate sheet that only holds published, valid rules; check rather than trust. */
export function assertRules(rules: readonly DiscountRule[]): void {
  const seen = new Set<string>();
  for (const rule of rules) {
    const problems = validateRule(rule);
    assert.deepEqual(problems, [], `rule ${rule.rule_id} is not valid`);
    // Usage and grants are keyed by rule_id, so two versions of one rule cannot both apply.
    assert.ok(!seen.has(rule.rule_id), `rule ${rule.rule_id} appears twice`);
    seen.add(rule.rule_id);
  }
}
