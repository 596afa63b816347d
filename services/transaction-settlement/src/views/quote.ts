/** What a quote looks like to the merchant: what the member would pay now, line by line. */
import type { CheckoutResult } from '@puhui/discount';
import type { CheckoutLineRecord } from '../domain/checkout';

export function quoteView(
  result: CheckoutResult,
  quoted: { card_last4: string; ruleset_version: number; lines: CheckoutLineRecord[] },
) {
  const { rule_grants: _grants, ...quote } = result;
  return {
    object: 'quote' as const,
    currency: 'CNY' as const,
    card_last4: quoted.card_last4,
    ruleset_version: quoted.ruleset_version,
    ...quote,
    lines: quoted.lines,
  };
}
