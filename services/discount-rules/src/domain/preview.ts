/**
 * Previews: what rules would give on checkouts, priced by the same engine settlement uses.
 * Budgets are unlimited unless the caller states what is left, so a preview shows what a
 * change would cost, not what today's balances would allow.
 */
import { evaluateCheckout } from '@puhui/discount';
import type { CheckoutContext, CheckoutResult, DiscountRule } from '@puhui/discount';
import { Unprocessable } from '@puhui/errors';
import { MoneyError, sumFen } from '@puhui/money';

/** A checkout to price: as settlement sees it, with the card's status defaulting to active. */
export type PreviewCheckout = Omit<CheckoutContext, 'budgets' | 'usage'> & {
  usage?: CheckoutContext['usage'];
};

export type Budgets = CheckoutContext['budgets'];

/** Large enough never to bind, small enough to stay an exact integer when summed. */
const UNLIMITED_MINOR = Number.MAX_SAFE_INTEGER;

/** Every budget the rules draw on: as stated by the caller, else unlimited. */
export function previewBudgets(rules: readonly DiscountRule[], stated: Budgets): Budgets {
  const budgets: Record<string, { remaining_minor: number }> = {};
  for (const rule of rules) {
    if (rule.budget_id !== null) budgets[rule.budget_id] = { remaining_minor: UNLIMITED_MINOR };
  }
  for (const [budgetId, budget] of Object.entries(stated)) budgets[budgetId] = budget;
  return budgets;
}

export function previewCheckout(
  rules: readonly DiscountRule[],
  checkout: PreviewCheckout,
  budgets: Budgets,
): CheckoutResult {
  return evaluateCheckout(rules, { ...checkout, usage: checkout.usage ?? {}, budgets });
}

export interface PreviewTotals {
  checkouts: number;
  gross_minor: number;
  discount_minor: number;
  union_funded_minor: number;
  merchant_funded_minor: number;
  net_minor: number;
}

/**
 * What the rules would have cost over a list of checkouts. Each checkout is priced on its
 * own: budgets are not drawn down across the list, and usage is what each checkout states.
 */
export function previewTotals(results: readonly CheckoutResult[]): PreviewTotals {
  const total = (field: Exclude<keyof PreviewTotals, 'checkouts'>) => {
    try {
      return sumFen(results.map((result) => result[field]));
    } catch (error) {
      if (!(error instanceof MoneyError)) throw error;
      // 10,000 checkouts of ¥10 billion lines can pass 2^53 fen; say so rather than round.
      throw new Unprocessable('totals_overflow', `The checkouts' ${field} is too large to total exactly.`);
    }
  };
  return {
    checkouts: results.length,
    gross_minor: total('gross_minor'),
    discount_minor: total('discount_minor'),
    union_funded_minor: total('union_funded_minor'),
    merchant_funded_minor: total('merchant_funded_minor'),
    net_minor: total('net_minor'),
  };
}
