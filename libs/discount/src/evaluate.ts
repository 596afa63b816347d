/**
 * DESIGN §4 steps 1–4: which rules apply, what each takes off each line, and the caps.
 * Lines are handled in canonical order (see order.ts) and mapped back at the end.
 */
import { allocateByLargestRemainder, sumFen } from '@puhui/money';
import {
  assertCheckoutContext,
  assertRules,
  ownEntry,
  type CheckoutContext,
  type CheckoutLine,
  type CheckoutResult,
  type NoDiscountReason,
  type RuleUsage,
} from './checkout';
import { assembleResult, fundRules, type RuleDiscount } from './funding';
import { benefitDiscount, ruleAppliesToCard, ruleCoversItem, ruleMatchesMerchant } from './match';
import { canonicalLineOrder, compareRules } from './order';
import { scheduleCovers } from './schedule';
import type { CardStatus, DiscountRule } from './schema';

export function noDiscountReason(status: CardStatus): NoDiscountReason | null {
  if (status === 'frozen') return 'card_frozen';
  if (status === 'cancelled') return 'card_cancelled';
  return null;
}

/**
 * The most a rule may still grant in this checkout: the tightest of its per-transaction cap
 * and what its day and month caps leave after the card's usage, never below 0. Null when no
 * cap binds.
 */
export function capAllowance(rule: DiscountRule, usage: RuleUsage | undefined): number | null {
  const {
    per_transaction_minor: transaction,
    per_card_day_minor: day,
    per_card_month_minor: month,
  } = rule.caps;
  const limits = [
    transaction,
    day === null ? null : day - (usage?.card_day_minor ?? 0),
    month === null ? null : month - (usage?.card_month_minor ?? 0),
  ].filter((limit): limit is number => limit !== null);
  return limits.length === 0 ? null : Math.max(0, Math.min(...limits));
}

/**
 * Rules whose schedule, scope and eligibility admit this checkout, in processing order. A rule
 * whose caps the card has used up can grant nothing here, so it does not compete: an exhausted
 * exclusive rule must not win a line and leave the card with less than the next-best offer.
 */
function rulesInEffect(rules: readonly DiscountRule[], context: CheckoutContext): DiscountRule[] {
  return rules
    .filter(
      (rule) =>
        scheduleCovers(rule.schedule, context.occurred_at) &&
        ruleMatchesMerchant(rule, context.merchant) &&
        ruleAppliesToCard(rule, context.card) &&
        capAllowance(rule, ownEntry(context.usage, rule.rule_id)) !== 0,
    )
    .sort(compareRules);
}

/**
 * A rule's line discounts after its caps. The cut is spread over the lines by largest
 * remainder in proportion to their discounts, so no line's share of the cut exceeds its discount.
 */
function applyCaps(rule: DiscountRule, discounts: number[], usage: CheckoutContext['usage']): number[] {
  const total = sumFen(discounts);
  const allowance = capAllowance(rule, ownEntry(usage, rule.rule_id));
  if (allowance === null || total <= allowance) return discounts;
  const cuts = allocateByLargestRemainder(total - allowance, discounts);
  return discounts.map((discount, position) => discount - (cuts[position] as number));
}

interface ExclusiveWin {
  rule: DiscountRule;
  discount_minor: number;
}

/**
 * Per line, the exclusive rule with the largest discount on the full amount (before caps).
 * Rules arrive in processing order, so on equal discounts the first one seen (higher
 * priority, then lower rule_id) keeps the line. A rule worth 0 on a line does not win it.
 */
function exclusiveWinners(
  rules: readonly DiscountRule[],
  lines: readonly CheckoutLine[],
): (ExclusiveWin | null)[] {
  return lines.map((line) => {
    let best: ExclusiveWin | null = null;
    for (const rule of rules) {
      if (rule.stacking !== 'exclusive' || !ruleCoversItem(rule, line.category)) continue;
      const discount = benefitDiscount(rule.benefit, line.amount_minor, line.quantity);
      if (discount > (best?.discount_minor ?? 0)) best = { rule, discount_minor: discount };
    }
    return best;
  });
}

/**
 * Steps 2–4: exclusive winners first, each capped before anything stacks on top; then each
 * stackable rule in processing order on what remains of every line (有折再折), capped in turn.
 * Returns the rules that took something, in the order they were applied.
 */
function discountLines(
  rules: readonly DiscountRule[],
  lines: readonly CheckoutLine[],
  usage: CheckoutContext['usage'],
): RuleDiscount[] {
  const remaining = lines.map((line) => line.amount_minor);
  const applied: RuleDiscount[] = [];
  const take = (rule: DiscountRule, discounts: number[]): void => {
    const capped = applyCaps(rule, discounts, usage);
    capped.forEach(
      (discount, position) => (remaining[position] = (remaining[position] as number) - discount),
    );
    if (capped.some((discount) => discount > 0)) applied.push({ rule, line_discounts: capped });
  };
  const winners = exclusiveWinners(rules, lines);
  for (const rule of rules.filter((candidate) => candidate.stacking === 'exclusive')) {
    const discounts = winners.map((win) => (win?.rule === rule ? win.discount_minor : 0));
    if (discounts.some((discount) => discount > 0)) take(rule, discounts);
  }
  for (const rule of rules.filter((candidate) => candidate.stacking === 'stackable')) {
    const discounts = lines.map((line, position) =>
      ruleCoversItem(rule, line.category)
        ? benefitDiscount(rule.benefit, remaining[position] as number, line.quantity)
        : 0,
    );
    take(rule, discounts);
  }
  return applied;
}

/**
 * Prices a checkout under DESIGN §4: what each line gets off, which rules gave it, and who
 * funds it (merchant or union budget). Pure: the caller supplies the card's usage and the
 * budgets' balances and records the result.
 */
export function evaluateCheckout(rules: readonly DiscountRule[], context: CheckoutContext): CheckoutResult {
  assertCheckoutContext(context);
  assertRules(rules);
  const order = canonicalLineOrder(context.lines);
  const lines = order.map((index) => context.lines[index] as CheckoutLine);
  const reason = noDiscountReason(context.card.status);
  const applied = reason === null ? discountLines(rulesInEffect(rules, context), lines, context.usage) : [];
  const funded = fundRules(applied, context.budgets);
  return assembleResult(context.lines, order, funded, reason);
}
