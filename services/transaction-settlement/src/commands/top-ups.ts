/** Admin top-ups of a union budget: union funds → the budget's ledger account. */
import { newId } from '@puhui/contracts';
import { NotFound } from '@puhui/errors';
import { unknownToReplica } from '@puhui/http';
import { runIdempotently } from '@puhui/idempotency';
import { UNION_FUNDS } from '../domain/ledger';
import { findAccount, lockAccounts, postTransfers } from '../store/ledger';
import { findBudget } from '../store/replicas';
import { topUpView } from '../views/top-up';
import type { SettlementContext } from './context';

/**
 * A budget settlement does not hold: discount-rules defined it a moment ago and its event is
 * on its way (`not_yet_available`), or there is none (404).
 */
export function budgetUnknown(budgetId: string) {
  return unknownToReplica(
    { what: `Budget ${budgetId}`, id: budgetId, prefix: 'bud' },
    () => new NotFound(`Budget ${budgetId}`),
  );
}

export async function topUpBudget(
  context: SettlementContext,
  actor: string,
  budgetId: string,
  request: { amount_minor: number; reference: string },
  idempotencyKey: string,
) {
  return runIdempotently(
    context,
    {
      scope: actor,
      key: idempotencyKey,
      fingerprint: { path: `POST /v1/budgets/${budgetId}/top_ups`, request },
    },
    201,
    async (client) => {
      const budget = await findBudget(client, budgetId);
      if (budget === undefined) throw budgetUnknown(budgetId);
      await lockAccounts(client, [UNION_FUNDS, budget.account_code]);
      const topUpId = newId('top');
      const now = new Date().toISOString();
      await postTransfers(
        client,
        [
          {
            debit_account: UNION_FUNDS,
            credit_account: budget.account_code,
            amount_minor: request.amount_minor,
            kind: 'budget_top_up',
          },
        ],
        { top_up_id: topUpId, occurred_at: now },
      );
      const account = await findAccount(client, budget.account_code);
      return topUpView(
        {
          top_up_id: topUpId,
          budget_id: budgetId,
          amount_minor: request.amount_minor,
          reference: request.reference,
          created_at: now,
        },
        account?.balance_minor ?? 0,
      );
    },
  );
}
