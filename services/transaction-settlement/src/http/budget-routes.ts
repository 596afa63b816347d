/** Union budgets' balances (their ledger accounts), their days, and admins' top-ups. */
import { z } from 'zod';
import { answered, defineIdempotentOperation, defineOperation, idempotentPost, route } from '@puhui/http';
import { approvalRequestAcceptedSchema } from '@puhui/dual-control';
import { budgetUnknown, requestTopUp } from '../commands/top-ups';
import { addDays, shanghaiTimestamp } from '../domain/business-day';
import { budgetDays } from '../store/budget-history';
import { findAccount } from '../store/ledger';
import { findBudget } from '../store/replicas';
import { budgetView } from '../views/budget';
import { BURN_RATE_DAYS, budgetHistoryView } from '../views/budget-history';
import { budgetBalanceSchema } from './responses';
import { operatorWith, refuseBadPeriod, requesterOf } from './route-support';
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

/** A period of at most a year and a day: the budgets page shows a budget's year. */
const HISTORY_DAYS_MAX = 366;
const HISTORY_DAYS_DEFAULT = 30;
const historyQuery = z.strictObject({
  from: z.iso
    .date()
    .optional()
    .meta({
      description: `First day (Asia/Shanghai); default ${HISTORY_DAYS_DEFAULT - 1} days before \`to\`.`,
    }),
  to: z.iso.date().optional().meta({ description: 'Last day (Asia/Shanghai); default today.' }),
});
const budgetDaySchema = z.strictObject({
  date: z.iso.date(),
  topped_up_minor: z.int().min(0),
  granted_minor: z.int().min(0),
  returned_minor: z.int().min(0).meta({ description: 'Subsidies back from refunds and cancellations.' }),
  balance_minor: z.int().meta({ description: 'At the end of the day.' }),
});
const budgetHistorySchema = z
  .strictObject({
    object: z.literal('budget_history'),
    budget_id: z.string(),
    name: z.string(),
    currency: z.literal('CNY'),
    from: z.iso.date(),
    to: z.iso.date(),
    opening_balance_minor: z.int(),
    closing_balance_minor: z.int(),
    days: z.array(budgetDaySchema).meta({ description: 'Every day of the period, quiet ones as zeros.' }),
    burn_rate_minor_per_day: z.int().meta({
      description: `Net grants a day over the period’s last ${BURN_RATE_DAYS} days (grants minus what came back).`,
    }),
    runs_out_on: z.iso.date().nullable().meta({
      description:
        'When the closing balance runs out at that rate (null when nothing burns); a budget spent already: the first day that ended with nothing left.',
    }),
  })
  .meta({ id: 'BudgetHistory' });

const budgetHistoryOperation = defineOperation({
  method: 'get',
  path: '/v1/budgets/:id/history',
  operationId: 'getBudgetHistory',
  summary: 'A union budget day by day: top-ups, grants, what came back, the balance, and when it runs out',
  description: `Days in Asia/Shanghai by when the ledger recorded each transfer, at most ${HISTORY_DAYS_MAX} (422 \`history_period_too_long\`; \`from\` after \`to\` 422 \`history_period_reversed\`).`,
  tags: ['budgets'],
  callers: ['finance', 'admin'],
  request: { path: budgetPath, query: historyQuery },
  responses: { 200: { description: 'The budget’s days.', schema: budgetHistorySchema } },
  problems: [422],
});

export const BUDGET_OPERATIONS = [topUpOperation, getBudgetOperation, budgetHistoryOperation];

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

  route(router, '/v1/budgets/:id/history', {
    get: answered(budgetHistoryOperation, 200, asReader, async (_reader, { path, query }) => {
      const budget = await findBudget(pool, path.id);
      const account = budget === undefined ? undefined : await findAccount(pool, budget.account_code);
      if (budget === undefined || account === undefined) throw budgetUnknown(path.id);
      const to = query.to ?? shanghaiTimestamp(new Date()).slice(0, 10);
      const from = query.from ?? addDays(to, 1 - HISTORY_DAYS_DEFAULT);
      refuseBadPeriod('history', { from, to }, HISTORY_DAYS_MAX);
      const moved = await budgetDays(pool, budget.account_code, { from, to });
      return budgetHistoryView(
        budget,
        { from, to },
        { now_minor: account.balance_minor, moved_since_from_minor: moved.moved_since_from_minor },
        moved.days,
      );
    }),
  });
}
