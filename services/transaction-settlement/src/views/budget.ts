/** What a union budget looks like here: its replica of discount-rules' definition and its ledger balance. */
import type { AccountBalance } from '../domain/ledger';

export function budgetView(
  budget: { budget_id: string; name: string; union_id: string; account_code: string },
  account: Pick<AccountBalance, 'balance_minor'>,
) {
  return {
    budget_id: budget.budget_id,
    name: budget.name,
    union_id: budget.union_id,
    currency: 'CNY' as const,
    balance_minor: account.balance_minor,
    account_code: budget.account_code,
  };
}
