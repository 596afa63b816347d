/**
 * Business days (DESIGN §6): anyone signed in may ask which day is open; finance may close it
 * before its cut-off (a manual day-end) and then settle it at once with a settlement run.
 */
import type { Router } from 'express';
import { z } from 'zod';
import { parseRequest, route } from '@puhui/http';
import { actorOf, requireOperator } from '@puhui/security';
import type { ServiceDependencies } from '@puhui/service';
import { closeBusinessDay, openBusinessDayView } from '../commands/business-days';
import type { SettlementContext } from '../commands/context';
import { settlementAuth } from './auth';

const closePath = z.strictObject({ date: z.iso.date() });
const closeBody = z.strictObject({}).optional();

export function businessDayRoutes(
  router: Router,
  dependencies: ServiceDependencies,
  context: SettlementContext,
): void {
  const { principalOf } = settlementAuth(dependencies.pool, dependencies.config.OPERATOR_TOKEN_SECRET);

  route(router, '/v1/business_days/current', {
    get: async (request, response) => {
      const principal = await principalOf(request);
      if (principal.kind === 'operator') requireOperator(principal, 'finance', 'admin');
      response.json(await openBusinessDayView(context));
    },
  });

  route(router, '/v1/business_days/:date/close', {
    post: async (request, response) => {
      const principal = await principalOf(request);
      requireOperator(principal, 'finance');
      const { path } = parseRequest(request, { path: closePath, body: closeBody });
      const requestId = (response.locals.requestId as string | undefined) ?? null;
      const closed = await closeBusinessDay(context, path.date, actorOf(principal), requestId);
      if (closed.created) context.logger.info({ business_date: path.date }, 'business day closed early');
      response.status(closed.created ? 201 : 200).json(closed.view);
    },
  });
}
