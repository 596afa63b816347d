/** Settlement runs (DESIGN §6): finance settles a closed business day; the service also does by itself. */
import { z } from 'zod';
import { answered, defineOperation, route } from '@puhui/http';
import { actorOf } from '@puhui/security';
import { lastClosedBusinessDate } from '../commands/business-days';
import { settleBusinessDay } from '../commands/settlement';
import { settlementRunView } from '../views/settlement-batch';
import { settlementRunSchema } from './responses';
import { operatorWith } from './route-support';
import type { SettlementRouting } from './route-support';

const runBody = z.strictObject({ business_date: z.iso.date().optional() }).optional();

const runOperation = defineOperation({
  method: 'post',
  path: '/v1/settlement_runs',
  operationId: 'runSettlement',
  summary: 'Settle a closed business day',
  description:
    'One batch per merchant with movements that day (default: the last closed day). A re-run creates nothing; the service also runs by itself after the cut-off.',
  tags: ['settlement'],
  callers: ['finance'],
  request: { body: runBody },
  responses: { 201: { description: 'The run and its batches.', schema: settlementRunSchema } },
  problems: [409],
});

export const SETTLEMENT_RUN_OPERATIONS = [runOperation];

export function settlementRunRoutes({ router, context, auth }: SettlementRouting): void {
  const asFinance = operatorWith(auth, 'finance');

  route(router, '/v1/settlement_runs', {
    post: answered(runOperation, 201, asFinance, async (principal, { body }) => {
      const date = body?.business_date ?? (await lastClosedBusinessDate(context));
      return settlementRunView(await settleBusinessDay(context, date, 'manual', actorOf(principal)));
    }),
  });
}
