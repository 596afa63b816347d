/** What a refund looks like to the merchant that made it (DESIGN §11's refund response). */
import type { CheckoutStatus, Refund } from '../domain/checkout';

/** The refund, and where its checkout stands after it. */
export function refundView(
  refund: Refund,
  checkout: {
    status: Extract<CheckoutStatus, 'refunded' | 'partially_refunded'>;
    refunded_total_minor: number;
  },
) {
  return {
    id: refund.refund_id,
    object: 'refund' as const,
    checkout_id: refund.checkout_id,
    currency: 'CNY' as const,
    amount_minor: refund.amount_minor,
    discount_reversed_minor: refund.discount_reversed_minor,
    union_reversed_minor: refund.union_reversed_minor,
    merchant_reversed_minor: refund.merchant_reversed_minor,
    member_refund_minor: refund.member_refund_minor,
    checkout_status: checkout.status,
    refunded_total_minor: checkout.refunded_total_minor,
    business_date: refund.business_date,
    created_at: refund.created_at,
  };
}
