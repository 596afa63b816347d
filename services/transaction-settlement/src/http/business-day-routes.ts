/**
 * Business days (DESIGN §6): anyone signed in may ask which day is open; finance may close it
 * before its cut-off (a manual day-end) and then settle it at once with a settlement run.
 */
import { z } from 'zod';
import { HOUR_MS } from '@puhui/config';
import { approvalRequestSchema } from '@puhui/dual-control';
import {
  answered,
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
import { actorOf } from '@puhui/security';
import { businessDaySummary, closeBusinessDay, openBusinessDay } from '../commands/business-days';
import { DAY_PAYMENTS_MAX, requestDayPayments } from '../commands/settlement';
import { CONTROL_TOTAL_ROW, exportDayCsv } from '../commands/settlement-files';
import { PAYMENT_FILE_COLUMNS, spreadsheetHeader } from '../commands/spreadsheet-csv';
import { businessDaySchema, businessDaySummarySchema } from './responses';
import { actingOperatorWith, merchantOrOperatorWith, operatorWith, requesterOf } from './route-support';
import type { SettlementRouting } from './route-support';

const closePath = z.strictObject({ date: z.iso.date() });
const closeBody = z.strictObject({}).optional();
const paymentFileQuery = z.strictObject({
  skip_unavailable: z.enum(['true', 'false']).default('false').meta({
    description:
      '`true` leaves out the batches whose payee cannot be sent yet (named in `Puhui-Skipped-Batches`) instead of refusing the file.',
  }),
});
const batchId = z.string().regex(/^stl_[0-9a-z]{25}$/u, 'not a settlement batch id');
const dayPaymentsBody = z.strictObject({
  payments: z
    .array(z.strictObject({ batch_id: batchId, bank_reference: safeText(64) }))
    .min(1)
    .max(DAY_PAYMENTS_MAX)
    .refine((payments) => new Set(payments.map((payment) => payment.batch_id)).size === payments.length, {
      message: 'each batch at most once',
    }),
});
const dayPaymentsSchema = z
  .strictObject({
    object: z.literal('day_payments'),
    business_date: z.iso.date(),
    payments: z.array(z.strictObject({ batch_id: z.string(), approval_request: approvalRequestSchema })),
  })
  .meta({ id: 'DayPayments' });

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

const dayPaymentFileOperation = defineOperation({
  method: 'get',
  path: '/v1/business_days/:date/payment_file.csv',
  operationId: 'exportDayPaymentFile',
  summary: 'The union bank’s payment file for a whole business day, with a control total',
  description: `One row per batch with anything due (the day’s \`unpaid\` batches, as in each batch’s own file), then a control-total row: \`batch_id\` ${CONTROL_TOTAL_ROW}, \`reference\` the number of payments, \`amount_minor\` their sum (also in the \`Puhui-Control-Total-Minor\` and \`Puhui-Payment-Count\` headers). Every row’s download is recorded and audited as for a batch’s own file: whoever downloads it may not approve those payouts. A payee cooling off after an account change, or whose account does not open, refuses the file with 409 \`payment_file_batches_unavailable\` naming each such batch, unless \`skip_unavailable=true\`.`,
  tags: ['settlement'],
  callers: ['finance'],
  request: { path: closePath, query: paymentFileQuery },
  responses: {
    200: {
      description:
        'CSV with a header line, as the batch payment file (UTF-8 with a byte-order mark, each *_minor column followed by its *_yuan twin), and the control-total row last.',
      contentType: 'text/csv',
      example: `${spreadsheetHeader(PAYMENT_FILE_COLUMNS).join(',')}\n`,
      headers: {
        'Content-Disposition': 'attachment; filename="payments-<date>.csv"',
        'Puhui-Control-Total-Minor': 'The sum of the payments, in fen.',
        'Puhui-Payment-Count': 'The number of payment rows.',
        'Puhui-Skipped-Batches': 'With skip_unavailable=true: the batches left out, comma-separated.',
      },
    },
  },
  problems: [409, 422],
});

const dayPaymentsOperation = defineIdempotentOperation({
  method: 'post',
  path: '/v1/business_days/:date/mark_paid',
  operationId: 'markBusinessDayPaid',
  summary:
    'Record the bank payments of a day’s batches, one bank reference each; each payout waits for a second person',
  description:
    'One approval request (`settlement_batch_payout`) per batch, exactly as `POST /v1/settlement_batches/{id}/mark_paid` makes one, in one transaction: all or none. A batch of another day answers 422 `batch_of_another_day`, one not payable 409 `batch_not_payable`, one already waiting 409 `payment_approval_pending`, each naming the batch. Each payout posts when another finance person approves its request, who is neither the requester nor anyone who downloaded a payment file holding the batch.',
  tags: ['settlement'],
  callers: ['finance'],
  request: { path: closePath, body: dayPaymentsBody },
  responses: {
    202: { description: 'The payments’ approval requests, pending.', schema: dayPaymentsSchema },
  },
  problems: [404, 409, 422],
});

export const BUSINESS_DAY_OPERATIONS = [
  currentDayOperation,
  dayOperation,
  closeDayOperation,
  dayPaymentFileOperation,
  dayPaymentsOperation,
];

export function businessDayRoutes({ router, pool, config, context, auth }: SettlementRouting): void {
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

  route(router, '/v1/business_days/:date/payment_file.csv', {
    get: documented(dayPaymentFileOperation, async (request, response) => {
      const exporter = requesterOf(await actingOperatorWith(auth, 'finance')(request));
      const { path, query } = parseRequest(request, dayPaymentFileOperation.request);
      const file = await exportDayCsv(
        pool,
        {
          fieldKey: config.FIELD_ENCRYPTION_KEY,
          coolingOffMs: config.SETTLEMENT_ACCOUNT_COOLING_OFF_HOURS * HOUR_MS,
        },
        {
          date: path.date,
          skipUnavailable: query.skip_unavailable === 'true',
          exporter,
          requestId: requestIdOf(response),
        },
      );
      response
        .type('text/csv')
        .setHeader('Content-Disposition', `attachment; filename="payments-${path.date}.csv"`)
        .setHeader('Puhui-Control-Total-Minor', String(file.total_minor))
        .setHeader('Puhui-Payment-Count', String(file.payments));
      if (file.skipped.length > 0)
        response.setHeader('Puhui-Skipped-Batches', file.skipped.map((batch) => batch.batch_id).join(','));
      response.send(file.csv);
    }),
  });

  route(router, '/v1/business_days/:date/mark_paid', {
    post: idempotentPost(
      dayPaymentsOperation,
      operatorWith(auth, 'finance'),
      (principal, { path, body }, key) =>
        requestDayPayments(context, requesterOf(principal), path.date, body.payments, key),
    ),
  });
}
