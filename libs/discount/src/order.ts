/**
 * Canonical orders. A checkout's result must not depend on the order a POS listed its lines
 * or a rate sheet listed its rules, so every tie-break uses these instead of array positions.
 */
import type { CheckoutLine } from './checkout';
import type { DiscountRule } from './schema';

/** Code-unit order: locale-aware comparison could differ between machines. */
function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Processing order of rules: higher priority first, then lower rule_id. */
export function compareRules(a: DiscountRule, b: DiscountRule): number {
  if (a.priority !== b.priority) return a.priority > b.priority ? -1 : 1;
  return compareText(a.rule_id, b.rule_id);
}

/** Lines by amount (largest first), then category, then quantity. Equal keys are identical lines. */
export function compareLines(a: CheckoutLine, b: CheckoutLine): number {
  if (a.amount_minor !== b.amount_minor) return a.amount_minor > b.amount_minor ? -1 : 1;
  return compareText(a.category, b.category) || a.quantity - b.quantity;
}

/**
 * Input indices of `lines` in canonical order. Lines with equal keys are interchangeable, so
 * whichever of them receives a leftover fen, the multiset of line results is the same.
 */
export function canonicalLineOrder(lines: readonly CheckoutLine[]): number[] {
  return lines
    .map((_, index) => index)
    .sort((a, b) => compareLines(lines[a] as CheckoutLine, lines[b] as CheckoutLine) || a - b);
}
