/** Settlement batches: what a merchant is owed for a business day, and the items of its statement. */

/**
 * Follows the amounts (a generated column): `unpaid` while confirmed subsidy waits to be paid,
 * `held` while nothing can be paid yet but subsidy is held, then `paid` or `nothing_owed`.
 */
export const BATCH_STATUSES = ['unpaid', 'held', 'paid', 'nothing_owed'] as const;
export type BatchStatus = (typeof BATCH_STATUSES)[number];

export interface SettlementBatch {
  batch_id: string;
  merchant_id: string;
  business_date: string;
  run_id: string;
  status: BatchStatus;
  capture_count: number;
  refund_count: number;
  void_count: number;
  gross_minor: number;
  merchant_funded_minor: number;
  union_funded_minor: number;
  net_minor: number;
  refunds_minor: number;
  refund_member_minor: number;
  union_reversed_minor: number;
  merchant_reversed_minor: number;
  subsidy_owed_minor: number;
  /** Of subsidy_owed_minor: held until the acquirer confirms, cancelled, payable (the rest). */
  subsidy_held_minor: number;
  subsidy_cancelled_minor: number;
  subsidy_payable_minor: number;
  /** Paid out so far (one payout or more); never more than was payable when paid. */
  subsidy_paid_minor: number;
  bank_reference: string | null;
  paid_at: string | null;
  /** Who last downloaded the payment file (a token subject), and when; they may not approve its payout. */
  exported_by: string | null;
  exported_at: string | null;
  /** The payout waiting for a second person's approval, if any (one at a time). */
  payment_approval_request_id: string | null;
  created_at: string;
}

export interface StatementRow {
  kind: 'capture' | 'void' | 'refund';
  checkout_id: string;
  refund_id: string | null;
  reference: string;
  card_last4: string;
  occurred_at: string;
  gross_minor: number;
  discount_minor: number;
  merchant_funded_minor: number;
  union_funded_minor: number;
  card_amount_minor: number;
  /** The checkout's line descriptions, in line order, `; ` between them; empty when none were sent. */
  line_descriptions: string;
}
