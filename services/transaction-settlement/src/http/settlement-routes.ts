/**
 * Settlement (DESIGN §6, §11): finance runs business days, exports payment files and marks
 * batches paid; a merchant sees only its own batches and statements.
 */
import type { Router } from 'express';
import { z } from 'zod';
import { NotFound } from '@puhui/errors';
import { defineOperation, documented, parseRequest, respond, route, safeText } from '@puhui/http';
import { actorOf, requireOperator } from '@puhui/security';
import type { ServiceDependencies } from '@puhui/service';
import type { TransactionSettlementConfig } from '../config';
import type { SettlementContext } from '../commands/context';
import { PAYMENT_FILE_COLUMNS, STATEMENT_COLUMNS, spreadsheetHeader } from '../commands/spreadsheet-csv';
import {
  batchView,
  exportBatchCsv,
  markBatchPaidWithReference,
  settleBusinessDay,
  statementCsv,
} from '../commands/settlement';
import { lastClosedBusinessDate } from '../commands/business-days';
import { BATCH_STATUSES } from '../domain/settlement';
import { findBatch, listBatches } from '../store/settlement';
import { heldSubsidyItems } from '../store/subsidy';
import { settlementAuth } from './auth';
import {
  heldSubsidyListSchema,
  settlementBatchListSchema,
  settlementBatchSchema,
  settlementRunSchema,
} from './responses';
import { IDEMPOTENCY, sendOutcome } from './routes';
import { idempotencyHeaders } from './schemas';

const batchPath = z.strictObject({
  id: z.string().regex(/^stl_[0-9a-z]{25}$/u, 'not a settlement batch id'),
});
const runBody = z.strictObject({ business_date: z.iso.date().optional() }).optional();
const markPaidBody = z.strictObject({ bank_reference: safeText(64) });
const listQuery = z.strictObject({
  business_date: z.iso.date().optional(),
  merchant_id: z.string().optional(),
  status: z.enum(BATCH_STATUSES).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(20),
  starting_after: z
    .string()
    .regex(/^stl_[0-9a-z]{25}$/u)
    .optional(),
});

const heldQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(100).default(20),
  starting_after: z
    .string()
    .regex(/^(chk|ref)_[0-9a-z]{25}$/u)
    .optional(),
});

const SPREADSHEET_NOTE =
  'UTF-8 with a byte-order mark; each *_minor (fen) column is followed by its *_yuan twin (e.g. 12.34); text a spreadsheet would read as a formula (starting = + - @) is prefixed with a quote.';
const PAYMENT_FILE_EXAMPLE = `${spreadsheetHeader(PAYMENT_FILE_COLUMNS).join(',')}\n`;
const STATEMENT_EXAMPLE = `${spreadsheetHeader(STATEMENT_COLUMNS).join(',')}\n`;

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

const listBatchesOperation = defineOperation({
  method: 'get',
  path: '/v1/settlement_batches',
  operationId: 'listSettlementBatches',
  summary: 'List settlement batches',
  description: 'A merchant sees its own.',
  tags: ['settlement'],
  callers: ['finance', 'merchant'],
  request: { query: listQuery },
  responses: { 200: { description: 'A page of batches.', schema: settlementBatchListSchema } },
});

const getBatchOperation = defineOperation({
  method: 'get',
  path: '/v1/settlement_batches/:id',
  operationId: 'getSettlementBatch',
  summary: 'Get one settlement batch',
  tags: ['settlement'],
  callers: ['finance', 'merchant'],
  request: { path: batchPath },
  responses: { 200: { description: 'The batch.', schema: settlementBatchSchema } },
});

const heldSubsidiesOperation = defineOperation({
  method: 'get',
  path: '/v1/settlement_batches/:id/held_subsidies',
  operationId: 'listHeldSubsidies',
  summary: 'The batch’s items whose union subsidy is held',
  description:
    'Sales no reconciled statement has confirmed yet (and refunds of them), with the open exception that holds each, if any; their held_minor sum to the batch’s subsidy_held_minor. Resolving the exception releases or cancels the subsidy.',
  tags: ['settlement'],
  callers: ['finance', 'merchant'],
  request: { path: batchPath, query: heldQuery },
  responses: { 200: { description: 'A page of held items, by id.', schema: heldSubsidyListSchema } },
});

const exportOperation = defineOperation({
  method: 'get',
  path: '/v1/settlement_batches/:id/export.csv',
  operationId: 'exportPaymentFile',
  summary: 'The union bank’s payment file for a batch',
  tags: ['settlement'],
  callers: ['finance'],
  request: { path: batchPath },
  responses: {
    200: {
      description: `CSV with a header line; the account number unsealed for the bank; amount_minor is what is due now (payable, not yet paid; never held subsidy). ${SPREADSHEET_NOTE}`,
      contentType: 'text/csv',
      example: PAYMENT_FILE_EXAMPLE,
      headers: { 'Content-Disposition': 'attachment; filename="<batch id>.csv"' },
    },
  },
});

const statementOperation = defineOperation({
  method: 'get',
  path: '/v1/settlement_batches/:id/statement.csv',
  operationId: 'getMerchantStatement',
  summary: 'A merchant’s daily statement: every sale, void and refund of the batch',
  tags: ['settlement'],
  callers: ['finance', 'merchant'],
  request: { path: batchPath },
  responses: {
    200: {
      description: `CSV with a header line; cards as last 4 only; occurred_at in Asia/Shanghai with its offset. ${SPREADSHEET_NOTE}`,
      contentType: 'text/csv',
      example: STATEMENT_EXAMPLE,
      headers: { 'Content-Disposition': 'attachment; filename="statement-<merchant>-<date>.csv"' },
    },
  },
});

const markPaidOperation = defineOperation({
  method: 'post',
  path: '/v1/settlement_batches/:id/mark_paid',
  operationId: 'markSettlementBatchPaid',
  summary: 'Record the bank payment and post the payout',
  description: `Pays what is payable and not yet paid (subsidy_payable_minor − subsidy_paid_minor), never held subsidy; a batch that is not \`unpaid\` answers 409 \`batch_not_payable\`. Subsidy released later makes the batch \`unpaid\` again, for another payment. ${IDEMPOTENCY}`,
  tags: ['settlement'],
  callers: ['finance'],
  request: { path: batchPath, body: markPaidBody, headers: idempotencyHeaders },
  responses: {
    200: {
      description: 'The paid batch.',
      schema: settlementBatchSchema,
      headers: { 'Idempotent-Replayed': '`true` when the answer is the stored one for a repeated key.' },
    },
  },
  // 422: the Idempotency-Key was used for a different request.
  problems: [409, 422],
});

export const SETTLEMENT_OPERATIONS = [
  runOperation,
  listBatchesOperation,
  getBatchOperation,
  heldSubsidiesOperation,
  exportOperation,
  statementOperation,
  markPaidOperation,
];

export function settlementRoutes(
  router: Router,
  dependencies: ServiceDependencies<TransactionSettlementConfig>,
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
    post: documented(runOperation, async (request, response) => {
      const principal = await principalOf(request);
      requireOperator(principal, 'finance');
      const { body } = parseRequest(request, { body: runBody });
      const date = body?.business_date ?? (await lastClosedBusinessDate(context));
      const run = await settleBusinessDay(context, date, 'manual', actorOf(principal));
      respond(response, runOperation, 201, { ...run, batches: run.batches.map(batchView) });
    }),
  });

  route(router, '/v1/settlement_batches', {
    get: documented(listBatchesOperation, async (request, response) => {
      const principal = await principalOf(request);
      if (principal.kind === 'operator') requireOperator(principal, 'finance');
      const { query } = parseRequest(request, { query: listQuery });
      const filter = principal.kind === 'merchant' ? { ...query, merchant_id: principal.merchant_id } : query;
      const page = await listBatches(pool, filter);
      respond(response, listBatchesOperation, 200, {
        data: page.slice(0, query.limit).map(batchView),
        has_more: page.length > query.limit,
      });
    }),
  });

  route(router, '/v1/settlement_batches/:id', {
    get: documented(getBatchOperation, async (request, response) => {
      const { path } = parseRequest(request, getBatchOperation.request);
      respond(response, getBatchOperation, 200, batchView(await visibleBatch(request, path.id)));
    }),
  });

  route(router, '/v1/settlement_batches/:id/held_subsidies', {
    get: documented(heldSubsidiesOperation, async (request, response) => {
      const { path, query } = parseRequest(request, heldSubsidiesOperation.request);
      const batch = await visibleBatch(request, path.id);
      const page = await heldSubsidyItems(pool, batch.batch_id, query);
      respond(response, heldSubsidiesOperation, 200, {
        data: page.slice(0, query.limit).map((item) => ({
          object: 'held_subsidy' as const,
          ...item,
          currency: 'CNY' as const,
        })),
        has_more: page.length > query.limit,
      });
    }),
  });

  route(router, '/v1/settlement_batches/:id/export.csv', {
    get: documented(exportOperation, async (request, response) => {
      requireOperator(await principalOf(request), 'finance');
      const { path } = parseRequest(request, { path: batchPath });
      const csv = await exportBatchCsv(pool, config.FIELD_ENCRYPTION_KEY, path.id);
      response
        .type('text/csv')
        .setHeader('Content-Disposition', `attachment; filename="${path.id}.csv"`)
        .send(csv);
    }),
  });

  route(router, '/v1/settlement_batches/:id/statement.csv', {
    get: documented(statementOperation, async (request, response) => {
      const { path } = parseRequest(request, { path: batchPath });
      const batch = await visibleBatch(request, path.id);
      response
        .type('text/csv')
        .setHeader(
          'Content-Disposition',
          `attachment; filename="statement-${batch.merchant_id}-${batch.business_date}.csv"`,
        )
        .send(await statementCsv(pool, batch));
    }),
  });

  route(router, '/v1/settlement_batches/:id/mark_paid', {
    post: documented(markPaidOperation, async (request, response) => {
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
      sendOutcome(response, markPaidOperation, outcome);
    }),
  });
}
