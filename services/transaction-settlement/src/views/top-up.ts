/** A top-up of a union budget (union funds → the budget's ledger account). */

/** The top-up, and the budget's balance after it. */
export function topUpView(
  topUp: {
    top_up_id: string;
    budget_id: string;
    amount_minor: number;
    reference: string;
    created_at: string;
  },
  balanceMinor: number,
) {
  return {
    id: topUp.top_up_id,
    object: 'top_up' as const,
    budget_id: topUp.budget_id,
    currency: 'CNY' as const,
    amount_minor: topUp.amount_minor,
    reference: topUp.reference,
    balance_minor: balanceMinor,
    created_at: topUp.created_at,
  };
}
