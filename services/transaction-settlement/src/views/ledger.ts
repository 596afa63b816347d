/** What finance reads of the ledger: an account now or as of a point in time, and the trial balance. */
import { normalBalance } from '../domain/ledger';
import type { AccountBalance } from '../domain/ledger';

/** The account as it stands, or with its totals and balance as they stood at `asOf`. */
export function ledgerAccountView(
  account: AccountBalance,
  asOf?: { as_of: string; debits_minor: number; credits_minor: number },
) {
  if (asOf === undefined) return account;
  return {
    ...account,
    debits_minor: asOf.debits_minor,
    credits_minor: asOf.credits_minor,
    balance_minor: normalBalance(account.normal_side, asOf.debits_minor, asOf.credits_minor),
    as_of: asOf.as_of,
  };
}

export function trialBalanceView(balance: {
  accounts: AccountBalance[];
  debits_minor: number;
  credits_minor: number;
}) {
  return {
    ...balance,
    difference_minor: balance.debits_minor - balance.credits_minor,
    balanced: balance.debits_minor === balance.credits_minor,
  };
}
