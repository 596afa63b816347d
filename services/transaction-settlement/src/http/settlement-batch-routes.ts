/**
 * Settlement batches (DESIGN §6, §11): finance lists them, exports payment files and marks them
 * paid; a merchant sees only its own batches, their held subsidies and statements.
 */
import type { Request } from 'express';
import { z } from 'zod';
import { HOUR_MS } from '@puhui/config';
import { approvalRequestAcceptedSchema } from '@puhui/dual-control';
import { NotFound } from '@puhui/errors';
import {
  defineIdempotentOperation,
  defineOperation,
  documented,
  idempotentPost,
  parseRequest,
  requestIdOf,
  respond,
  route,
  safeText,
} from '@puhui/http';
import { mapPage } from '@puhui/postgres';
import type { Pool } from '@puhui/postgres';
import { actorOf } from '@puhui/security';
import type { Principal } from '@puhui/security';
import { PAYMENT_FILE_COLUMNS, STATEMENT_COLUMNS, spreadsheetHeader } from '../commands/spreadsheet-csv';
import { requestBatchPayment } from '../commands/settlement';
import { exportBatchCsv, statementCsv } from '../commands/settlement-files';
import { BATCH_STATUSES } from '../domain/settlement';
import type { SettlementBatch } from '../domain/settlement';
import { findBatch, listBatches } from '../store/settlement';
import { heldSubsidyItems } from '../store/subsidy';
import { heldSubsidyView } from '../views/held-subsidy';
import { settlementBatchView } from '../views/settlement-batch';
import type { SettlementAuth } from './auth';
import { heldSubsidyListSchema, settlementBatchListSchema, settlementBatchSchema } from './responses';
import { actingOperatorWith, merchantOrOperatorWith, operatorWith, requesterOf } from './route-support';
import type { SettlementRouting } from './route-support';

const batchPath = z.strictObject({
  id: z.string().regex(/^stl_[0-9a-z]{25}$/u, 'not a settlement batch id'),
});
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
  description:
    'Records who downloaded it and when (the batch’s `exported_by`, `exported_at`): nobody who exported it may approve its payout. Every download is audited (who, when, the batch, the request id, the rows). A merchant whose settlement account changed less than SETTLEMENT_ACCOUNT_COOLING_OFF_HOURS (24 by default) ago is refused with 409 `settlement_account_cooling_off` and `available_at`, when the file is available. An account number that does not open for the batch’s merchant (sealed for another merchant and copied onto its replica row, tampered, or of the old v1 format; decision 0016) is refused with 409 `settlement_account_unreadable` and `reason`: no file, no exporter recorded.',
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
  problems: [409],
});

const statementOperation = defineOperation({
  method: 'get',
  path: '/v1/settlement_batches/:id/statement.csv',
  operationId: 'getMerchantStatement',
  summary: 'A merchant’s daily statement: every sale, void and refund of the batch',
  description: 'Every download is audited (who, when, the batch, the request id, the rows).',
  tags: ['settlement'],
  callers: ['finance', 'merchant'],
  request: { path: batchPath },
  responses: {
    200: {
      description: `CSV with a header line; cards as last 4 only; occurred_at in Asia/Shanghai with its offset; \`line_descriptions\` the checkout's line descriptions as the POS sent them, \`; \` between them. ${SPREADSHEET_NOTE}`,
      contentType: 'text/csv',
      example: STATEMENT_EXAMPLE,
      headers: { 'Content-Disposition': 'attachment; filename="statement-<merchant>-<date>.csv"' },
    },
  },
});

const markPaidOperation = defineIdempotentOperation({
  method: 'post',
  path: '/v1/settlement_batches/:id/mark_paid',
  operationId: 'markSettlementBatchPaid',
  summary: 'Record the bank payment; the payout posts when a second finance person approves',
  description: `Records an approval request (\`settlement_batch_payout\`) for what is payable and not yet paid (subsidy_payable_minor − subsidy_paid_minor), never held subsidy; the batch shows it as \`payment_approval_request_id\`. The payout posts when another finance person approves it (\`POST /v1/approval_requests/{id}/approve\`), who is neither the requester nor anyone who exported the batch’s payment file (403 \`second_person_required\`); its outcome is the paid batch. A batch that is not \`unpaid\` answers 409 \`batch_not_payable\`; one whose payment waits for approval already, 409 \`payment_approval_pending\`. Subsidy released later makes the batch \`unpaid\` again, for another payment.`,
  tags: ['settlement'],
  callers: ['finance'],
  request: { path: batchPath, body: markPaidBody },
  responses: {
    202: { description: 'The payment’s approval request, pending.', schema: approvalRequestAcceptedSchema },
  },
  // 422: the Idempotency-Key was used for a different request.
  problems: [409, 422],
});

export const SETTLEMENT_BATCH_OPERATIONS = [
  listBatchesOperation,
  getBatchOperation,
  heldSubsidiesOperation,
  exportOperation,
  statementOperation,
  markPaidOperation,
];

/** The batch, if the caller may see it: finance, or the merchant it belongs to; and who the caller is. */
async function visibleBatch(
  pool: Pool,
  auth: SettlementAuth,
  request: Request,
  batchId: string,
): Promise<{ batch: SettlementBatch; principal: Principal }> {
  const principal = await merchantOrOperatorWith(auth, 'finance')(request);
  const batch = await findBatch(pool, batchId);
  if (batch === undefined || (principal.kind === 'merchant' && batch.merchant_id !== principal.merchant_id)) {
    throw new NotFound(`Settlement batch ${batchId}`);
  }
  return { batch, principal };
}

export function settlementBatchRoutes(routing: SettlementRouting): void {
  const { router, pool, context, auth } = routing;

  route(router, '/v1/settlement_batches', {
    get: documented(listBatchesOperation, async (request, response) => {
      const principal = await merchantOrOperatorWith(auth, 'finance')(request);
      const { query } = parseRequest(request, { query: listQuery });
      const filter = principal.kind === 'merchant' ? { ...query, merchant_id: principal.merchant_id } : query;
      const page = await listBatches(pool, filter);
      respond(response, listBatchesOperation, 200, mapPage(page, settlementBatchView));
    }),
  });

  route(router, '/v1/settlement_batches/:id', {
    get: documented(getBatchOperation, async (request, response) => {
      const { path } = parseRequest(request, getBatchOperation.request);
      respond(
        response,
        getBatchOperation,
        200,
        settlementBatchView((await visibleBatch(pool, auth, request, path.id)).batch),
      );
    }),
  });

  route(router, '/v1/settlement_batches/:id/held_subsidies', {
    get: documented(heldSubsidiesOperation, async (request, response) => {
      const { path, query } = parseRequest(request, heldSubsidiesOperation.request);
      const { batch } = await visibleBatch(pool, auth, request, path.id);
      const page = await heldSubsidyItems(pool, batch.batch_id, query);
      respond(response, heldSubsidiesOperation, 200, mapPage(page, heldSubsidyView));
    }),
  });

  route(router, '/v1/settlement_batches/:id/mark_paid', {
    post: idempotentPost(markPaidOperation, operatorWith(auth, 'finance'), (principal, { path, body }, key) =>
      requestBatchPayment(context, requesterOf(principal), path.id, body.bank_reference, key),
    ),
  });
  batchFileRoutes(routing);
}

/** The batch's files: the bank's payment file (finance) and the merchant's statement (CSV). */
function batchFileRoutes({ router, pool, config, auth }: SettlementRouting): void {
  route(router, '/v1/settlement_batches/:id/export.csv', {
    get: documented(exportOperation, async (request, response) => {
      const exporter = requesterOf(await actingOperatorWith(auth, 'finance')(request));
      const { path } = parseRequest(request, { path: batchPath });
      const csv = await exportBatchCsv(
        pool,
        {
          fieldKey: config.FIELD_ENCRYPTION_KEY,
          coolingOffMs: config.SETTLEMENT_ACCOUNT_COOLING_OFF_HOURS * HOUR_MS,
        },
        path.id,
        exporter,
        requestIdOf(response),
      );
      response
        .type('text/csv')
        .setHeader('Content-Disposition', `attachment; filename="${path.id}.csv"`)
        .send(csv);
    }),
  });

  route(router, '/v1/settlement_batches/:id/statement.csv', {
    get: documented(statementOperation, async (request, response) => {
      const { path } = parseRequest(request, { path: batchPath });
      const { batch, principal } = await visibleBatch(pool, auth, request, path.id);
      const csv = await statementCsv(pool, batch, {
        actor: actorOf(principal),
        requestId: requestIdOf(response),
      });
      response
        .type('text/csv')
        .setHeader(
          'Content-Disposition',
          `attachment; filename="statement-${batch.merchant_id}-${batch.business_date}.csv"`,
        )
        .send(csv);
    }),
  });
}
