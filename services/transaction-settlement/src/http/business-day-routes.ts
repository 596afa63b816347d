/**
 * Business days (DESIGN §6): anyone signed in may ask which day is open; finance may close it
 * before its cut-off (a manual day-end) and then settle it at once with a settlement run.
 */
import { z } from 'zod';
import {
  answered,
  defineOperation,
  documented,
  parseRequest,
  requestIdOf,
  respond,
  route,
} from '@puhui/http';
import { actorOf } from '@puhui/security';
import { businessDaySummary, closeBusinessDay, openBusinessDay } from '../commands/business-days';
import { businessDaySchema, businessDaySummarySchema } from './responses';
import { merchantOrOperatorWith, operatorWith } from './route-support';
import type { SettlementRouting } from './route-support';

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

const dayOperation = defineOperation({
  method: 'get',
  path: '/v1/business_days/:date',
  operationId: 'getBusinessDay',
  summary: 'A business day: where it stands (open … reconciled) and its totals',
  description:
    'Captures, voids and refunds of the day (every merchant), the union subsidy owed, settlement batches by status, and the reconciliation runs of that settlement date. A day not open yet is 409 `business_day_not_open`.',
  tags: ['settlement'],
  callers: ['finance', 'admin'],
  request: { path: closePath },
  responses: { 200: { description: 'The day.', schema: businessDaySummarySchema } },
  problems: [409],
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

export const BUSINESS_DAY_OPERATIONS = [currentDayOperation, dayOperation, closeDayOperation];

export function businessDayRoutes({ router, context, auth }: SettlementRouting): void {
  const asAnyCaller = merchantOrOperatorWith(auth, 'finance', 'admin');
  const asFinance = operatorWith(auth, 'finance');

  route(router, '/v1/business_days/current', {
    get: answered(currentDayOperation, 200, asAnyCaller, () => openBusinessDay(context)),
  });

  route(router, '/v1/business_days/:date', {
    get: answered(dayOperation, 200, operatorWith(auth, 'finance', 'admin'), (_operator, { path }) =>
      businessDaySummary(context, path.date),
    ),
  });

  route(router, '/v1/business_days/:date/close', {
    post: documented(closeDayOperation, async (request, response) => {
      const principal = await asFinance(request);
      const { path } = parseRequest(request, closeDayOperation.request);
      const requestId = requestIdOf(response);
      const closed = await closeBusinessDay(context, path.date, actorOf(principal), requestId);
      if (closed.created) context.logger.info({ business_date: path.date }, 'business day closed early');
      respond(response, closeDayOperation, closed.created ? 201 : 200, closed.view);
    }),
  });
}
