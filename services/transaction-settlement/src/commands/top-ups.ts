/**
 * Top-ups of a union budget (union funds → the budget's ledger account), under dual control: an
 * admin asks (an approval request), and the transfer posts when a second admin approves.
 */
import { newId } from '@puhui/contracts';
import { defineApprovalAction } from '@puhui/dual-control';
import type { ApprovalRequestView } from '@puhui/dual-control';
import { NotFound } from '@puhui/errors';
import { unknownToReplica } from '@puhui/http';
import { runIdempotently } from '@puhui/idempotency';
import { formatYuan } from '@puhui/money';
import type { PoolClient } from '@puhui/postgres';
import { UNION_FUNDS } from '../domain/ledger';
import { findAccount, lockAccounts, postTransfers } from '../store/ledger';
import { findBudget } from '../store/replicas';
import { topUpView } from '../views/top-up';
import type { SettlementContext } from './context';
import type { Requester } from './requester';

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

export const BUDGET_TOP_UP = 'budget_top_up';

interface TopUpRequest {
  amount_minor: number;
  reference: string;
}

/** Records the top-up's approval request (202); a retry with the key answers the same request. */
export async function requestTopUp(
  context: SettlementContext,
  requester: Requester,
  budgetId: string,
  request: TopUpRequest,
  idempotencyKey: string,
) {
  return runIdempotently(
    context,
    {
      scope: requester.actor,
      key: idempotencyKey,
      fingerprint: { path: `POST /v1/budgets/${budgetId}/top_ups`, request },
    },
    202,
    async (client): Promise<{ approval_request: ApprovalRequestView }> => {
      const budget = await findBudget(client, budgetId);
      if (budget === undefined) throw budgetUnknown(budgetId);
      const balance = (await findAccount(client, budget.account_code))?.balance_minor ?? 0;
      const approval = await context.approvals.requestApproval(client, {
        action: BUDGET_TOP_UP,
        target_type: 'budget',
        target_id: budgetId,
        summary: `Top up budget “${budget.name}” by ${formatYuan(request.amount_minor)} (${request.reference})`,
        payload: request,
        before: { balance_minor: balance },
        after: { balance_minor: balance + request.amount_minor, ...request },
        requested_by: requester.subject,
      });
      return { approval_request: approval };
    },
  );
}

/** The top-up's transfer, in the approving transaction. */
async function postTopUp(client: PoolClient, budgetId: string, request: TopUpRequest) {
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
}

/** A top-up needs a second admin (admins fund budgets). */
export const budgetTopUpAction = defineApprovalAction<TopUpRequest>({
  name: BUDGET_TOP_UP,
  requiredRole: 'admin',
  execute: (client, request) => postTopUp(client, request.target_id, request.payload),
});
