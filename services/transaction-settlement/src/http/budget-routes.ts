/** Union budgets' balances (their ledger accounts) and admins' top-ups. */
import { answered, defineIdempotentOperation, defineOperation, idempotentPost, route } from '@puhui/http';
import { approvalRequestAcceptedSchema } from '@puhui/dual-control';
import { budgetUnknown, requestTopUp } from '../commands/top-ups';
import { findAccount } from '../store/ledger';
import { findBudget } from '../store/replicas';
import { budgetView } from '../views/budget';
import { budgetBalanceSchema } from './responses';
import { operatorWith, requesterOf } from './route-support';
import type { SettlementRouting } from './route-support';
import { budgetPath, topUpBody } from './schemas';

const topUpOperation = defineIdempotentOperation({
  method: 'post',
  path: '/v1/budgets/:id/top_ups',
  operationId: 'topUpBudget',
  summary: 'Ask to fund a union budget (a second admin approves)',
  description:
    'Records an approval request (`budget_top_up`): the transfer from union funds posts when another admin approves it (`POST /v1/approval_requests/{id}/approve`), whose outcome is the TopUp with the new balance.',
  tags: ['budgets'],
  callers: ['admin'],
  request: { path: budgetPath, body: topUpBody },
  responses: {
    202: {
      description: 'The top-up’s approval request, pending.',
      schema: approvalRequestAcceptedSchema,
    },
  },
  // 422: the Idempotency-Key was used for a different request.
  problems: [409, 422],
});

const getBudgetOperation = defineOperation({
  method: 'get',
  path: '/v1/budgets/:id',
  operationId: 'getBudgetBalance',
  summary: 'A union budget’s balance',
  tags: ['budgets'],
  callers: ['finance', 'admin'],
  request: { path: budgetPath },
  responses: { 200: { description: 'The budget and its balance.', schema: budgetBalanceSchema } },
});

export const BUDGET_OPERATIONS = [topUpOperation, getBudgetOperation];

export function budgetRoutes({ router, pool, context, auth }: SettlementRouting): void {
  const asReader = operatorWith(auth, 'finance', 'admin');

  route(router, '/v1/budgets/:id/top_ups', {
    post: idempotentPost(topUpOperation, operatorWith(auth, 'admin'), (principal, { path, body }, key) =>
      requestTopUp(context, requesterOf(principal), path.id, body, key),
    ),
  });

  route(router, '/v1/budgets/:id', {
    get: answered(getBudgetOperation, 200, asReader, async (_reader, { path }) => {
      const budget = await findBudget(pool, path.id);
      const account = budget === undefined ? undefined : await findAccount(pool, budget.account_code);
      if (budget === undefined || account === undefined) throw budgetUnknown(path.id);
      return budgetView(budget, account);
    }),
  });
}
