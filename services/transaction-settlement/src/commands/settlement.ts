/**
 * Closing a business day (DESIGN §6): one batch per merchant, every capture and refund in
 * exactly one batch. A run for a day takes an advisory lock on that day, so two concurrent
 * runs queue and the second finds nothing left to assign; a refund of an already-settled
 * sale carries its own business day and lands in that day's batch.
 */
import assert from 'node:assert/strict';
import { newId, settlementBatchCreated, settlementBatchPaid } from '@puhui/contracts';
import { Conflict, NotFound, Unprocessable } from '@puhui/errors';
import { appendEvent, appendEvents } from '@puhui/events';
import { MINUTE_MS } from '@puhui/config';
import type { Logger } from '@puhui/logging';
import { defineApprovalAction } from '@puhui/dual-control';
import type { ApprovalRequestRecord, ApprovalRequestView } from '@puhui/dual-control';
import { formatYuan } from '@puhui/money';
import { withTransaction } from '@puhui/postgres';
import type { PoolClient } from '@puhui/postgres';
import type { Job } from '@puhui/service';
import { runIdempotently } from '@puhui/idempotency';
import { awaitDatedMovements } from '../store/business-days';
import { UNION_FUNDS, accountCodes } from '../domain/ledger';
import { lockAccounts, postTransfers } from '../store/ledger';
import { lockSubsidyDecisions } from '../store/subsidy';
import {
  assignToBatches,
  batchesOfRun,
  createBatches,
  findBatch,
  insertRun,
  lockBatch,
  merchantsWithUnsettledItems,
  paymentFileExporters,
  recordPayout,
  setPaymentApprovalRequest,
  setRunBatchCount,
  totalBatches,
} from '../store/settlement';
import type { SettlementBatch } from '../domain/settlement';
import { settlementBatchView } from '../views/settlement-batch';
import { EVENT_SOURCE } from './context';
import type { SettlementContext } from './context';
import type { Requester } from './requester';
import { currentBusinessDate, lastClosedBusinessDate } from './business-days';

export async function settleBusinessDay(
  context: Pick<SettlementContext, 'pool' | 'businessDayCutoffMinutes'>,
  date: string,
  trigger: 'manual' | 'scheduled',
  startedBy: string,
) {
  // A capture dated just before the cut-off may still be committing: wait for it.
  await awaitDatedMovements(context.pool);
  return withTransaction(context.pool, async (client) => {
    // A day of a million captures updates a million rows: more than the pool's 30 s
    // statement bound on a busy machine (docs/performance.md), so a run gets ten minutes.
    await client.query("SELECT set_config('statement_timeout', '10min', true)");
    if (date >= (await currentBusinessDate(context, client))) {
      throw new Conflict('business_day_open', `Business day ${date} has not closed yet.`, {
        business_date: date,
      });
    }
    await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`settle:${date}`]);
    // The batches split their subsidy by where it is now: no statement or resolution moves it meanwhile.
    await lockSubsidyDecisions(client);
    const runId = newId('srun');
    await insertRun(client, { run_id: runId, business_date: date, trigger, started_by: startedBy });
    const merchants = await merchantsWithUnsettledItems(client, date);
    const created = await createBatches(
      client,
      runId,
      date,
      merchants.map((merchantId) => ({ batch_id: newId('stl'), merchant_id: merchantId })),
    );
    await assignToBatches(client, 'checkouts', runId, date);
    await assignToBatches(client, 'refunds', runId, date);
    await totalBatches(client, runId);
    await setRunBatchCount(client, runId, created.length);
    const batches = await batchesOfRun(client, runId);
    await appendEvents(
      client,
      EVENT_SOURCE,
      batches.map((batch) => ({
        definition: settlementBatchCreated,
        subject: batch.batch_id,
        key: batch.merchant_id,
        data: {
          batch_id: batch.batch_id,
          merchant_id: batch.merchant_id,
          business_date: batch.business_date,
          capture_count: batch.capture_count,
          refund_count: batch.refund_count,
          void_count: batch.void_count,
          gross_minor: batch.gross_minor,
          merchant_funded_minor: batch.merchant_funded_minor,
          union_funded_minor: batch.union_funded_minor,
          net_minor: batch.net_minor,
          refunds_minor: batch.refunds_minor,
          union_reversed_minor: batch.union_reversed_minor,
          subsidy_owed_minor: batch.subsidy_owed_minor,
          created_at: batch.created_at,
        },
      })),
    );
    return {
      id: runId,
      object: 'settlement_run' as const,
      business_date: date,
      trigger,
      batches_created: batches.length,
      batches,
    };
  });
}

/** What a payment of the batch would pay now: its confirmed subsidy not paid yet, never held subsidy. */
export function amountDue(batch: SettlementBatch): number {
  return Math.max(0, batch.subsidy_payable_minor - batch.subsidy_paid_minor);
}

export const SETTLEMENT_BATCH_PAYOUT = 'settlement_batch_payout';

interface PayoutRequest {
  bank_reference: string;
  /** What was due when it was asked: the checker approves that amount, or nothing. */
  amount_minor: number;
  /** The requester's actor (`operator:<subject>`), the payout's `paid_by`. */
  paid_by: string;
}

function refuseUnpayable(batch: SettlementBatch): void {
  if (batch.status !== 'unpaid') {
    throw new Conflict('batch_not_payable', `A batch that is ${batch.status} cannot be paid.`, {
      current_status: batch.status,
      subsidy_held_minor: batch.subsidy_held_minor,
    });
  }
}

/**
 * Records the union's bank transfer to the merchant as a payout request (202): it posts when a
 * second finance person approves (`settlementBatchPayoutAction`). One request waits at a time.
 */
export async function requestBatchPayment(
  context: SettlementContext,
  requester: Requester,
  batchId: string,
  bankReference: string,
  idempotencyKey: string,
) {
  return runIdempotently(
    context,
    {
      scope: requester.actor,
      key: idempotencyKey,
      fingerprint: { path: `POST /v1/settlement_batches/${batchId}/mark_paid`, bankReference },
    },
    202,
    async (client): Promise<{ approval_request: ApprovalRequestView }> => ({
      approval_request: await requestPaymentWithin(context, client, requester, { batchId, bankReference }),
    }),
  );
}

/**
 * Batches one day's payment file and payment request hold at most: a city programme has hundreds
 * of merchants; 5,000 rows keep either's one transaction (two or three statements a row) to seconds.
 */
export const DAY_PAYMENTS_MAX = 5_000;

/**
 * A day's payments in one request, one bank reference per batch: one approval request each (a
 * second finance person approves each payout, as for one batch), all or none — a batch of
 * another day, not payable or already waiting refuses the whole request. Batches are locked in
 * id order, the order every payout takes, so two requests never deadlock.
 */
export async function requestDayPayments(
  context: SettlementContext,
  requester: Requester,
  date: string,
  payments: readonly { batch_id: string; bank_reference: string }[],
  idempotencyKey: string,
) {
  return runIdempotently(
    context,
    {
      scope: requester.actor,
      key: idempotencyKey,
      fingerprint: { path: `POST /v1/business_days/${date}/mark_paid`, payments },
    },
    202,
    async (client) => {
      const ordered = [...payments].sort((a, b) => (a.batch_id < b.batch_id ? -1 : 1));
      const requested: { batch_id: string; approval_request: ApprovalRequestView }[] = [];
      for (const payment of ordered) {
        const approval = await requestPaymentWithin(context, client, requester, {
          batchId: payment.batch_id,
          bankReference: payment.bank_reference,
          businessDate: date,
        });
        requested.push({ batch_id: payment.batch_id, approval_request: approval });
      }
      return { object: 'day_payments' as const, business_date: date, payments: requested };
    },
  );
}

/** One batch's payout, asked for in the caller's transaction: its approval request. */
async function requestPaymentWithin(
  context: SettlementContext,
  client: PoolClient,
  requester: Requester,
  payment: { batchId: string; bankReference: string; businessDate?: string },
): Promise<ApprovalRequestView> {
  const { batchId, bankReference } = payment;
  const batch = await lockBatch(client, batchId);
  if (batch === undefined) throw new NotFound(`Settlement batch ${batchId}`);
  if (payment.businessDate !== undefined && batch.business_date !== payment.businessDate) {
    throw new Unprocessable(
      'batch_of_another_day',
      `Settlement batch ${batchId} belongs to business day ${batch.business_date}, not ${payment.businessDate}.`,
      { batch_id: batchId, business_date: batch.business_date },
    );
  }
  refuseUnpayable(batch);
  if (batch.payment_approval_request_id !== null) {
    throw new Conflict(
      'payment_approval_pending',
      'A payment of this batch is waiting for approval already.',
      {
        approval_request_id: batch.payment_approval_request_id,
        batch_id: batchId,
      },
    );
  }
  const amount = amountDue(batch);
  const payload: PayoutRequest = {
    bank_reference: bankReference,
    amount_minor: amount,
    paid_by: requester.actor,
  };
  const approval = await context.approvals.requestApproval(client, {
    action: SETTLEMENT_BATCH_PAYOUT,
    target_type: 'settlement_batch',
    target_id: batchId,
    summary: `Pay ${formatYuan(amount)} to merchant ${batch.merchant_id} for ${batch.business_date} (bank reference ${bankReference})`,
    payload,
    before: {
      status: batch.status,
      subsidy_paid_minor: batch.subsidy_paid_minor,
      bank_reference: batch.bank_reference,
    },
    after: {
      status: 'paid',
      subsidy_paid_minor: batch.subsidy_paid_minor + amount,
      bank_reference: bankReference,
    },
    requested_by: requester.subject,
  });
  await setPaymentApprovalRequest(client, batchId, approval.id);
  return approval;
}

/**
 * Posts the approved payout: subsidy payable → union funds, for what was due when it was asked
 * (an amount that changed since refuses, 409 `payment_amount_changed`: the checker approves what
 * they saw). Subsidy still held is not paid; once released it is payable again, for another payment.
 */
async function postPayout(
  client: PoolClient,
  request: ApprovalRequestRecord<PayoutRequest>,
  approvedBy: string,
) {
  const batchId = request.target_id;
  const batch = await lockBatch(client, batchId);
  if (batch === undefined) throw new NotFound(`Settlement batch ${batchId}`);
  refuseUnpayable(batch);
  const amount = amountDue(batch);
  if (amount !== request.payload.amount_minor) {
    throw new Conflict(
      'payment_amount_changed',
      'What the batch owes changed since the payment was asked for: reject it and ask again.',
      {
        requested_minor: request.payload.amount_minor,
        due_minor: amount,
      },
    );
  }
  // The status says so (it is generated from the same amounts); checked again before money moves.
  assert.ok(amount > 0, 'an unpaid batch has confirmed subsidy to pay');
  const payable = accountCodes.subsidyPayable(batch.merchant_id);
  await lockAccounts(client, [payable, UNION_FUNDS]);
  await postTransfers(
    client,
    [{ debit_account: payable, credit_account: UNION_FUNDS, amount_minor: amount, kind: 'payout' }],
    { occurred_at: new Date().toISOString() },
  );
  await recordPayout(client, {
    batch_id: batchId,
    amount_minor: amount,
    bank_reference: request.payload.bank_reference,
    paid_by: request.payload.paid_by,
    approved_by: approvedBy,
    approval_request_id: request.id,
  });
  const paid = (await findBatch(client, batchId)) as SettlementBatch;
  await appendEvent(client, EVENT_SOURCE, {
    definition: settlementBatchPaid,
    subject: batchId,
    key: batch.merchant_id,
    data: {
      batch_id: batchId,
      merchant_id: batch.merchant_id,
      business_date: batch.business_date,
      amount_minor: amount,
      bank_reference: request.payload.bank_reference,
      paid_at: paid.paid_at ?? new Date().toISOString(),
    },
  });
  return settlementBatchView(paid);
}

/** A payout needs a second finance person who exported none of the batch's payment files. */
export const settlementBatchPayoutAction = defineApprovalAction<PayoutRequest>({
  name: SETTLEMENT_BATCH_PAYOUT,
  requiredRole: 'finance',
  excludedCheckers: async (client, request) =>
    (await paymentFileExporters(client, request.target_id)).map((subject) => ({
      subject,
      because: 'exported this batch’s payment file',
    })),
  execute: (client, request, checker) => postPayout(client, request, `operator:${checker.subject}`),
  released: (client, request) => setPaymentApprovalRequest(client, request.target_id, null),
});

/**
 * Settles the last closed business day once its cut-off has passed or finance closed it, checking every
 * `intervalMs`, on one instance at a time (the day's advisory lock and the batches' uniqueness
 * would make a second run harmless; the job's leader lock spares the work). A day of a million
 * captures takes minutes: a pass gets the run's ten-minute statement bound and five more.
 */
export function automaticSettlementJob(
  context: Pick<SettlementContext, 'pool' | 'businessDayCutoffMinutes'>,
  logger: Logger,
  intervalMs: number,
): Job {
  let lastSettled: string | undefined;
  return {
    name: 'automatic settlement',
    intervalMs,
    timeoutMs: 15 * MINUTE_MS,
    leader: true,
    run: async () => {
      const day = await lastClosedBusinessDate(context);
      if (day === lastSettled) return;
      const run = await settleBusinessDay(context, day, 'scheduled', 'scheduler');
      lastSettled = day;
      if (run.batches_created > 0)
        logger.info({ business_date: day, batches: run.batches_created }, 'business day settled');
    },
  };
}
