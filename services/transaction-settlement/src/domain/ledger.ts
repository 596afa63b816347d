/**
 * The chart of accounts and the transfers each money movement posts (DESIGN §5), as plain
 * data. A transfer debits one account and credits another with the same positive amount.
 *
 *   capture   net        acquirer:clearing            → merchant:<id>:card_receivable
 *             subsidy    budget:<budget>              → merchant:<id>:subsidy_held
 *             memo       merchant:<id>:discount_given → memo:merchant_funded_discounts
 *   refund    the same pairs reversed, for the reversed amounts; the subsidy comes back from
 *             wherever the checkout's subsidy is (held or payable; nothing once cancelled)
 *   confirm   merchant:<id>:subsidy_held       → merchant:<id>:subsidy_payable (matched, released)
 *   cancel    merchant:<id>:subsidy_held       → budget:<budget>
 *   payout    merchant:<id>:subsidy_payable    → bank:union_funds
 *   top-up    bank:union_funds                     → budget:<budget>
 *   correct   acquirer:clearing → suspense:reconciliation (adjustment) or
 *             expense:reconciliation_write_offs (write-off), for a statement above the ledger;
 *             the other way round for one below it
 *
 * (Each arrow reads "debit → credit".) A budget is a credit-normal fund whose balance may
 * never go below zero: granting a subsidy debits it, and the database refuses an overdraft.
 */
import assert from 'node:assert/strict';

export type NormalSide = 'debit' | 'credit';

export interface AccountSpec {
  account_code: string;
  name: string;
  normal_side: NormalSide;
  normal_balance_min_minor: number | null;
}

export type TransferKind =
  | 'capture_net'
  | 'capture_subsidy'
  | 'capture_merchant_funded'
  | 'refund_net'
  | 'refund_subsidy'
  | 'refund_merchant_funded'
  | 'subsidy_confirmed'
  | 'subsidy_released'
  | 'subsidy_cancelled'
  | 'budget_top_up'
  | 'payout'
  | 'reconciliation_adjustment'
  | 'reconciliation_write_off';

export interface PlannedTransfer {
  debit_account: string;
  credit_account: string;
  amount_minor: number;
  kind: TransferKind;
}

export const ACQUIRER_CLEARING = 'acquirer:clearing';
export const UNION_FUNDS = 'bank:union_funds';
export const MERCHANT_FUNDED_MEMO = 'memo:merchant_funded_discounts';
/** Where reconciliation corrections go (migration 0018). */
export const RECONCILIATION_SUSPENSE = 'suspense:reconciliation';
export const RECONCILIATION_WRITE_OFFS = 'expense:reconciliation_write_offs';

export const accountCodes = {
  cardReceivable: (merchantId: string) => `merchant:${merchantId}:card_receivable`,
  subsidyPayable: (merchantId: string) => `merchant:${merchantId}:subsidy_payable`,
  subsidyHeld: (merchantId: string) => `merchant:${merchantId}:subsidy_held`,
  discountGiven: (merchantId: string) => `merchant:${merchantId}:discount_given`,
  budget: (budgetId: string) => `budget:${budgetId}`,
};

// The three programme accounts above are created by migration 0002.

export function merchantAccounts(merchantId: string): AccountSpec[] {
  return [
    {
      account_code: accountCodes.cardReceivable(merchantId),
      name: `Card sales due to ${merchantId}`,
      normal_side: 'credit',
      normal_balance_min_minor: null,
    },
    {
      account_code: accountCodes.subsidyPayable(merchantId),
      name: `Union subsidy owed to ${merchantId}`,
      normal_side: 'credit',
      normal_balance_min_minor: null,
    },
    {
      account_code: accountCodes.subsidyHeld(merchantId),
      name: `Union subsidy held for ${merchantId} until the acquirer confirms`,
      normal_side: 'credit',
      normal_balance_min_minor: null,
    },
    {
      account_code: accountCodes.discountGiven(merchantId),
      name: `Discounts funded by ${merchantId} (memo)`,
      normal_side: 'debit',
      normal_balance_min_minor: null,
    },
  ];
}

export function budgetAccount(budgetId: string, name: string): AccountSpec {
  return {
    account_code: accountCodes.budget(budgetId),
    name: `Budget: ${name}`,
    normal_side: 'credit',
    normal_balance_min_minor: 0,
  };
}

/**
 * Where a checkout's union part is (DESIGN §6): held until the acquirer confirms the sale,
 * payable once reconciliation matched it or finance released it, cancelled (back in its
 * budgets) when finance cancelled it.
 */
export type SubsidyState = 'held' | 'payable' | 'cancelled';

/** The merchant account a checkout's union part sits in; none once it is cancelled. */
export function subsidyAccount(merchantId: string, state: SubsidyState): string | null {
  if (state === 'cancelled') return null;
  return state === 'held' ? accountCodes.subsidyHeld(merchantId) : accountCodes.subsidyPayable(merchantId);
}

export interface MoneyMovement {
  merchant_id: string;
  net_minor: number;
  merchant_funded_minor: number;
  /** Union parts per budget. */
  union_by_budget: ReadonlyArray<{ budget_id: string; amount_minor: number }>;
  /**
   * Where the union parts go to (a capture: the held account) or come back from (a refund or
   * void: where the checkout's subsidy is). Null: they move nothing, for a cancelled subsidy
   * went back to its budgets already.
   */
  subsidy_account: string | null;
}

/** The transfers of a capture (or, with `reverse`, of a refund of these amounts). Zero amounts post nothing. */
export function planTransfers(movement: MoneyMovement, reverse: boolean): PlannedTransfer[] {
  const { merchant_id: merchantId } = movement;
  const planned: PlannedTransfer[] = [];
  const add = (
    debit: string,
    credit: string,
    amount: number,
    kind: TransferKind,
    refundKind: TransferKind,
  ) => {
    assert.ok(Number.isSafeInteger(amount) && amount >= 0, 'transfer amounts are whole non-negative fen');
    if (amount === 0) return;
    planned.push(
      reverse
        ? { debit_account: credit, credit_account: debit, amount_minor: amount, kind: refundKind }
        : { debit_account: debit, credit_account: credit, amount_minor: amount, kind },
    );
  };
  add(
    ACQUIRER_CLEARING,
    accountCodes.cardReceivable(merchantId),
    movement.net_minor,
    'capture_net',
    'refund_net',
  );
  const subsidyAt = movement.subsidy_account;
  assert.ok(
    subsidyAt === null || subsidyAt.startsWith(`merchant:${merchantId}:`),
    "the merchant's own account",
  );
  for (const { budget_id: budgetId, amount_minor: amount } of movement.union_by_budget) {
    if (subsidyAt === null) break;
    add(accountCodes.budget(budgetId), subsidyAt, amount, 'capture_subsidy', 'refund_subsidy');
  }
  add(
    accountCodes.discountGiven(merchantId),
    MERCHANT_FUNDED_MEMO,
    movement.merchant_funded_minor,
    'capture_merchant_funded',
    'refund_merchant_funded',
  );
  return planned;
}

/** Union parts summed per budget, in budget order (the lock order). */
export function unionByBudget(
  grants: ReadonlyArray<{ budget_id: string | null; union_funded_minor: number }>,
) {
  const totals = new Map<string, number>();
  for (const grant of grants) {
    if (grant.budget_id === null || grant.union_funded_minor === 0) continue;
    totals.set(grant.budget_id, (totals.get(grant.budget_id) ?? 0) + grant.union_funded_minor);
  }
  return [...totals]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([budget_id, amount_minor]) => ({ budget_id, amount_minor }));
}

export interface AccountBalance {
  account_code: string;
  name: string;
  currency: string;
  normal_side: 'debit' | 'credit';
  debits_minor: number;
  credits_minor: number;
  /** On the normal side: debits − credits for debit-normal accounts, credits − debits otherwise. */
  balance_minor: number;
  normal_balance_min_minor: number | null;
}

export interface LedgerEntry {
  transfer_id: string;
  kind: string;
  side: 'debit' | 'credit';
  amount_minor: number;
  counter_account: string;
  checkout_id: string | null;
  refund_id: string | null;
  top_up_id: string | null;
  occurred_at: string;
  recorded_at: string;
}

/** A balance on the account's normal side: debits − credits for debit-normal accounts, credits − debits otherwise. */
export function normalBalance(side: NormalSide, debitsMinor: number, creditsMinor: number): number {
  return side === 'debit' ? debitsMinor - creditsMinor : creditsMinor - debitsMinor;
}
