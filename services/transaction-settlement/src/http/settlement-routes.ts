/**
 * Settlement (DESIGN §6, §11): finance runs business days, exports payment files and marks
 * batches paid; a merchant sees only its own batches and statements.
 */
import type { Router } from 'express';
import { z } from 'zod';
import { NotFound } from '@puhui/errors';
import { parseRequest, route } from '@puhui/http';
import { actorOf, requireOperator } from '@puhui/security';
import type { ServiceDependencies } from '@puhui/service';
import type { SettlementContext } from '../commands/context';
import {
  batchView,
  exportBatchCsv,
  markBatchPaidWithReference,
  settleBusinessDay,
  statementCsv,
} from '../commands/settlement';
import { lastClosedBusinessDate } from '../commands/business-days';
import { findBatch, listBatches } from '../store/settlement';
import { settlementAuth } from './auth';
import { idempotencyHeaders } from './schemas';

const batchPath = z.strictObject({
  id: z.string().regex(/^stl_[0-9a-z]{25}$/u, 'not a settlement batch id'),
});
const runBody = z.strictObject({ business_date: z.iso.date().optional() }).optional();
const markPaidBody = z.strictObject({ bank_reference: z.string().trim().min(1).max(64) });
const listQuery = z.strictObject({
  business_date: z.iso.date().optional(),
  merchant_id: z.string().optional(),
  status: z.enum(['unpaid', 'paid', 'nothing_owed']).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(20),
  starting_after: z
    .string()
    .regex(/^stl_[0-9a-z]{25}$/u)
    .optional(),
});

export function settlementRoutes(
  router: Router,
  dependencies: ServiceDependencies,
  context: SettlementContext,
): void {
  const { pool, config } = dependencies;
  const { principalOf } = settlementAuth(pool, config.OPERATOR_TOKEN_SECRET);

  /** The batch, if the caller may see it: finance, or the merchant it belongs to. */
  const visibleBatch = async (request: Parameters<typeof principalOf>[0], batchId: string) => {
    const principal = await principalOf(request);
    if (principal.kind === 'operator') requireOperator(principal, 'finance');
    const batch = await findBatch(pool, batchId);
    if (
      batch === undefined ||
      (principal.kind === 'merchant' && batch.merchant_id !== principal.merchant_id)
    ) {
      throw new NotFound(`Settlement batch ${batchId}`);
    }
    return batch;
  };

  route(router, '/v1/settlement_runs', {
    post: async (request, response) => {
      const principal = await principalOf(request);
      requireOperator(principal, 'finance');
      const { body } = parseRequest(request, { body: runBody });
      const date = body?.business_date ?? (await lastClosedBusinessDate(context));
      const run = await settleBusinessDay(context, date, 'manual', actorOf(principal));
      response.status(201).json({ ...run, batches: run.batches.map(batchView) });
    },
  });

  route(router, '/v1/settlement_batches', {
    get: async (request, response) => {
      const principal = await principalOf(request);
      if (principal.kind === 'operator') requireOperator(principal, 'finance');
      const { query } = parseRequest(request, { query: listQuery });
      const filter = principal.kind === 'merchant' ? { ...query, merchant_id: principal.merchant_id } : query;
      const page = await listBatches(pool, filter);
      response.json({ data: page.slice(0, query.limit).map(batchView), has_more: page.length > query.limit });
    },
  });

  route(router, '/v1/settlement_batches/:id', {
    get: async (request, response) => {
      const { path } = parseRequest(request, { path: batchPath });
      response.json(batchView(await visibleBatch(request, path.id)));
    },
  });

  route(router, '/v1/settlement_batches/:id/export.csv', {
    get: async (request, response) => {
      requireOperator(await principalOf(request), 'finance');
      const { path } = parseRequest(request, { path: batchPath });
      const csv = await exportBatchCsv(pool, config.FIELD_ENCRYPTION_KEY, path.id);
      response
        .type('text/csv')
        .setHeader('Content-Disposition', `attachment; filename="${path.id}.csv"`)
        .send(csv);
    },
  });

  route(router, '/v1/settlement_batches/:id/statement.csv', {
    get: async (request, response) => {
      const { path } = parseRequest(request, { path: batchPath });
      const batch = await visibleBatch(request, path.id);
      response
        .type('text/csv')
        .setHeader(
          'Content-Disposition',
          `attachment; filename="statement-${batch.merchant_id}-${batch.business_date}.csv"`,
        )
        .send(await statementCsv(pool, batch));
    },
  });

  route(router, '/v1/settlement_batches/:id/mark_paid', {
    post: async (request, response) => {
      const principal = await principalOf(request);
      requireOperator(principal, 'finance');
      const { path, body, headers } = parseRequest(request, {
        path: batchPath,
        body: markPaidBody,
        headers: idempotencyHeaders,
      });
      const outcome = await markBatchPaidWithReference(
        context,
        actorOf(principal),
        path.id,
        body.bank_reference,
        headers['idempotency-key'],
      );
      if (outcome.replayed) response.setHeader('Idempotent-Replayed', 'true');
      response.status(outcome.status).json(outcome.body);
    },
  });
}
