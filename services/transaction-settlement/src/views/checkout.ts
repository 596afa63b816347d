/** What a checkout looks like to whoever asks (DESIGN §11's checkout response). */
import { createHmac } from 'node:crypto';
import type { Checkout } from '../domain/checkout';

/**
 * Who a checkout is shown to: finance and admins see the programme-wide card token; a merchant
 * sees a handle that is stable within that merchant and useless elsewhere, so a token read from
 * one answer cannot be replayed as a card (DESIGN §8: a capture needs the card present).
 */
export type CheckoutViewer = { kind: 'operator' } | { kind: 'merchant'; handleKey: string };

export function merchantCardHandle(handleKey: string, merchantId: string, cardToken: string): string {
  const digest = createHmac('sha256', handleKey).update(`merchant-card-handle:${merchantId}:${cardToken}`);
  return `mch_card_${digest.digest('hex').slice(0, 32)}`;
}

export function checkoutView(checkout: Checkout, viewer: CheckoutViewer) {
  return {
    id: checkout.checkout_id,
    object: 'checkout' as const,
    status: checkout.status,
    merchant_id: checkout.merchant_id,
    reference: checkout.reference,
    currency: checkout.currency,
    ...(viewer.kind === 'operator'
      ? { card_token: checkout.card_token }
      : { card_handle: merchantCardHandle(viewer.handleKey, checkout.merchant_id, checkout.card_token) }),
    card_last4: checkout.card_last4,
    gross_minor: checkout.gross_minor,
    discount_minor: checkout.discount_minor,
    merchant_funded_minor: checkout.merchant_funded_minor,
    union_funded_minor: checkout.union_funded_minor,
    net_minor: checkout.net_minor,
    refunded_minor: checkout.refunded_minor,
    budget_exhausted: checkout.budget_exhausted,
    no_discount_reason: checkout.no_discount_reason,
    ruleset_version: checkout.ruleset_version,
    lines: checkout.lines.map((line) => ({
      category: line.category,
      amount_minor: line.amount_minor,
      quantity: line.quantity,
      description: line.description,
      discount_minor: line.discount_minor,
      // As the engine gave them, the quote's fields (budget and balance after its draw included).
      applied_rules: line.applied_rules,
    })),
    occurred_at: checkout.occurred_at,
    business_date: checkout.business_date,
    created_at: checkout.created_at,
  };
}

/** Merchant-facing answers (captures, refunds, voids are merchant calls), handles keyed by `handleKey`. */
export function merchantViewer(handleKey: string): CheckoutViewer {
  return { kind: 'merchant', handleKey };
}

/** A void's answer: the checkout as the merchant sees it, now voided. */
export function voidedCheckoutView(checkout: Checkout, viewer: CheckoutViewer, voidedAt: string) {
  return { ...checkoutView(checkout, viewer), status: 'voided' as const, voided_at: voidedAt };
}
