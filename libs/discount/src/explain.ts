/**
 * Why each rule did or did not give a checkout something (issue 17: a preview that grants
 * nothing must say why). Read from the engine's own checks, in the engine's order, so an
 * explanation never disagrees with the evaluation it explains: the first check a rule fails is
 * its outcome. Pure, like evaluate.ts; previews call it beside evaluateCheckout.
 */
import { ownEntry } from './checkout';
import type { CheckoutContext, CheckoutResult } from './checkout';
import { capAllowance, noDiscountReason } from './evaluate';
import { ruleAppliesToCard, ruleCoversItem, ruleMatchesMerchant } from './match';
import { compareRules } from './order';
import { scheduleCovers } from './schedule';
import type { DiscountRule } from './schema';

export const RULE_OUTCOMES = [
  /** It took something off at least one line, its union share fully funded. */
  'applied',
  /** It took something (or would have), but its budget could not fund the union share. */
  'budget_short',
  /** The card is frozen or cancelled: no rule gives it anything. */
  'card_not_active',
  /** Outside its validity, weekdays or hours (Asia/Shanghai) at the checkout's time. */
  'outside_schedule',
  /** Neither the merchant's category nor its id is in the rule's scope. */
  'merchant_not_in_scope',
  /** The card's tier or union is not among those the rule names. */
  'card_not_eligible',
  /** The card used up the rule's day or month cap, or its per-transaction cap is 0. */
  'cap_used',
  /** No line of the checkout is in the rule's item categories. */
  'items_not_covered',
  /** Exclusive: a better exclusive rule took every line it covers. */
  'outdone',
  /** Stackable: nothing was left on its lines to take, or its benefit is worth nothing there. */
  'nothing_left',
] as const;
export type RuleOutcomeCode = (typeof RULE_OUTCOMES)[number];

export interface RuleOutcome {
  rule_id: string;
  version: number;
  outcome: RuleOutcomeCode;
  /** With `budget_short`: the union part the budget could not fund. */
  shortfall_minor?: number;
}

function whyNothing(rule: DiscountRule, context: CheckoutContext): RuleOutcomeCode {
  if (noDiscountReason(context.card.status) !== null) return 'card_not_active';
  if (!scheduleCovers(rule.schedule, context.occurred_at)) return 'outside_schedule';
  if (!ruleMatchesMerchant(rule, context.merchant)) return 'merchant_not_in_scope';
  if (!ruleAppliesToCard(rule, context.card)) return 'card_not_eligible';
  if (capAllowance(rule, ownEntry(context.usage, rule.rule_id)) === 0) return 'cap_used';
  if (!context.lines.some((line) => ruleCoversItem(rule, line.category))) return 'items_not_covered';
  return rule.stacking === 'exclusive' ? 'outdone' : 'nothing_left';
}

/** One outcome per rule, in processing order (priority desc, then rule_id). */
export function explainCheckout(
  rules: readonly DiscountRule[],
  context: CheckoutContext,
  result: CheckoutResult,
): RuleOutcome[] {
  const applied = new Set(result.lines.flatMap((line) => line.applied_rules.map((entry) => entry.rule_id)));
  const grants = new Map(result.rule_grants.map((grant) => [grant.rule_id, grant]));
  return [...rules].sort(compareRules).map((rule) => {
    const base = { rule_id: rule.rule_id, version: rule.version };
    const shortfall = grants.get(rule.rule_id)?.budget_shortfall_minor ?? 0;
    if (shortfall > 0) return { ...base, outcome: 'budget_short', shortfall_minor: shortfall };
    if (applied.has(rule.rule_id)) return { ...base, outcome: 'applied' };
    return { ...base, outcome: whyNothing(rule, context) };
  });
}
