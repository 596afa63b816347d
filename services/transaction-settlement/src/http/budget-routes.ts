/** Union budgets' balances (their ledger accounts) and admins' top-ups. */
import type { Router } from 'express';
import {
  IDEMPOTENCY_KEY_DESCRIPTION,
  IDEMPOTENT_REPLAY_HEADERS,
  defineOperation,
  documented,
  idempotencyKeyHeaders,
  parseRequest,
  respond,
  route,
  sendIdempotentOutcome,
} from '@puhui/http';
import { actorOf, requireOperator } from '@puhui/security';
import type { ServiceDependencies } from '@puhui/service';
import type { TransactionSettlementConfig } from '../config';
import type { SettlementContext } from '../commands/context';
import { budgetUnknown, topUpBudget } from '../commands/top-ups';
import { findAccount } from '../store/ledger';
import { findBudget } from '../store/replicas';
import { budgetView } from '../views/budget';
import { settlementAuth } from './auth';
import { budgetBalanceSchema, topUpSchema } from './responses';
import { budgetPath, topUpBody } from './schemas';

const topUpOperation = defineOperation({
  method: 'post',
  path: '/v1/budgets/:id/top_ups',
  operationId: 'topUpBudget',
  summary: 'Fund a union budget',
  description: IDEMPOTENCY_KEY_DESCRIPTION,
  tags: ['budgets'],
  callers: ['admin'],
  request: { path: budgetPath, body: topUpBody, headers: idempotencyKeyHeaders },
  responses: {
    201: {
      description: 'The top-up and the new balance.',
      schema: topUpSchema,
      headers: IDEMPOTENT_REPLAY_HEADERS,
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

export function budgetRoutes(
  router: Router,
  dependencies: ServiceDependencies<TransactionSettlementConfig>,
  context: SettlementContext,
): void {
  const { pool, config } = dependencies;
  const { principalOf } = settlementAuth(pool, config.OPERATOR_TOKEN_SECRET);

  route(router, '/v1/budgets/:id/top_ups', {
    post: documented(topUpOperation, async (request, response) => {
      const principal = await principalOf(request);
      requireOperator(principal, 'admin');
      const { path, body, headers } = parseRequest(request, topUpOperation.request);
      const outcome = await topUpBudget(
        context,
        actorOf(principal),
        path.id,
        body,
        headers['idempotency-key'],
      );
      sendIdempotentOutcome(response, topUpOperation, outcome);
    }),
  });

  route(router, '/v1/budgets/:id', {
    get: documented(getBudgetOperation, async (request, response) => {
      requireOperator(await principalOf(request), 'finance', 'admin');
      const { path } = parseRequest(request, getBudgetOperation.request);
      const budget = await findBudget(pool, path.id);
      const account = budget === undefined ? undefined : await findAccount(pool, budget.account_code);
      if (budget === undefined || account === undefined) throw budgetUnknown(path.id);
      respond(response, getBudgetOperation, 200, budgetView(budget, account));
    }),
  });
}
