/** Union budgets: defined here, funded and drawn on in transaction-settlement (DESIGN §4). */
import type { Router } from 'express';
import { NotFound } from '@puhui/errors';
import { answered, defineOperation, route } from '@puhui/http';
import type { ServiceDependencies } from '@puhui/service';
import { createBudget } from '../commands/budgets';
import { findBudget, listBudgets } from '../store/budgets';
import type { Access } from './access';
import { budgetListSchema, budgetSchema } from './responses';
import { budgetPath, createBudgetBody, listBudgetsQuery } from './schemas';

const createBudgetOperation = defineOperation({
  method: 'post',
  path: '/v1/budgets',
  operationId: 'createBudget',
  summary: 'Define a union budget',
  description:
    'Rules draw subsidies from it; transaction-settlement opens its ledger account and takes top-ups.',
  tags: ['budgets'],
  callers: ['admin'],
  request: { body: createBudgetBody },
  responses: { 201: { description: 'The new budget.', schema: budgetSchema } },
});

const listBudgetsOperation = defineOperation({
  method: 'get',
  path: '/v1/budgets',
  operationId: 'listBudgets',
  summary: 'List budgets',
  tags: ['budgets'],
  callers: ['admin', 'finance'],
  request: { query: listBudgetsQuery },
  responses: { 200: { description: 'A page of budgets.', schema: budgetListSchema } },
});

const getBudget = defineOperation({
  method: 'get',
  path: '/v1/budgets/:id',
  operationId: 'getBudget',
  summary: 'Get a budget’s definition',
  tags: ['budgets'],
  callers: ['admin', 'finance'],
  request: { path: budgetPath },
  responses: { 200: { description: 'The budget.', schema: budgetSchema } },
});

export const BUDGET_OPERATIONS = [createBudgetOperation, listBudgetsOperation, getBudget];

export function budgetRoutes(router: Router, dependencies: ServiceDependencies, access: Access): void {
  const { pool } = dependencies;
  route(router, '/v1/budgets', {
    post: answered(createBudgetOperation, 201, access.asAdmin, (context, { body }) =>
      createBudget(context, body),
    ),
    get: answered(listBudgetsOperation, 200, access.asReader, (_reader, { query }) =>
      listBudgets(pool, query),
    ),
  });
  route(router, '/v1/budgets/:id', {
    get: answered(getBudget, 200, access.asReader, async (_reader, { path }) => {
      const budget = await findBudget(pool, path.id);
      if (budget === undefined) throw new NotFound(`Budget ${path.id}`);
      return budget;
    }),
  });
}
