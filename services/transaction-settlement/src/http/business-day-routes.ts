/**
 * Business days (DESIGN §6): anyone signed in may ask which day is open; finance may close it
 * before its cut-off (a manual day-end) and then settle it at once with a settlement run.
 */
import type { Router } from 'express';
import { z } from 'zod';
import { defineOperation, documented, parseRequest, requestIdOf, respond, route } from '@puhui/http';
import { actorOf, requireOperator } from '@puhui/security';
import type { ServiceDependencies } from '@puhui/service';
import type { TransactionSettlementConfig } from '../config';
import { closeBusinessDay, openBusinessDay } from '../commands/business-days';
import type { SettlementContext } from '../commands/context';
import { settlementAuth } from './auth';
import { businessDaySchema } from './responses';

const closePath = z.strictObject({ date: z.iso.date() });
const closeBody = z.strictObject({}).optional();

const currentDayOperation = defineOperation({
  method: 'get',
  path: '/v1/business_days/current',
  operationId: 'getCurrentBusinessDay',
  summary: 'The open business day and when it closes',
  tags: ['settlement'],
  callers: ['finance', 'admin', 'merchant'],
  responses: { 200: { description: 'The open business day.', schema: businessDaySchema } },
});

const closeDayOperation = defineOperation({
  method: 'post',
  path: '/v1/business_days/:date/close',
  operationId: 'closeBusinessDay',
  summary: 'Close the open business day before its cut-off',
  description:
    'Movements from now on belong to the next day; settle the closed one with a settlement run. Closing a day already closed answers 200 with that closure; a day not open yet is 409.',
  tags: ['settlement'],
  callers: ['finance'],
  request: { path: closePath, body: closeBody },
  responses: {
    201: { description: 'The day, now closed.', schema: businessDaySchema },
    200: { description: 'The day was already closed.', schema: businessDaySchema },
  },
  problems: [409],
});

export const BUSINESS_DAY_OPERATIONS = [currentDayOperation, closeDayOperation];

export function businessDayRoutes(
  router: Router,
  dependencies: ServiceDependencies<TransactionSettlementConfig>,
  context: SettlementContext,
): void {
  const { principalOf } = settlementAuth(dependencies.pool, dependencies.config.OPERATOR_TOKEN_SECRET);

  route(router, '/v1/business_days/current', {
    get: documented(currentDayOperation, async (request, response) => {
      const principal = await principalOf(request);
      if (principal.kind === 'operator') requireOperator(principal, 'finance', 'admin');
      respond(response, currentDayOperation, 200, await openBusinessDay(context));
    }),
  });

  route(router, '/v1/business_days/:date/close', {
    post: documented(closeDayOperation, async (request, response) => {
      const principal = await principalOf(request);
      requireOperator(principal, 'finance');
      const { path } = parseRequest(request, closeDayOperation.request);
      const requestId = requestIdOf(response);
      const closed = await closeBusinessDay(context, path.date, actorOf(principal), requestId);
      if (closed.created) context.logger.info({ business_date: path.date }, 'business day closed early');
      respond(response, closeDayOperation, closed.created ? 201 : 200, closed.view);
    }),
  });
}
