/**
 * Resolving a reconciliation exception by correcting the ledger (issue 18, DESIGN §6): the
 * difference between the acquirer's statement and the ledger (statement − ledger,
 * `correctionDifference`) moves between acquirer:clearing and a named account —
 * suspense:reconciliation for an adjustment, expense:reconciliation_write_offs for a write-off
 * of at most RECONCILIATION_WRITE_OFF_LIMIT_MINOR. It moves money, so one finance person asks
 * (an approval request, 202) and a second approves: the transfer, the item's resolution (by the
 * one who asked, with their note and subsidy decision) and the audit row naming both commit in
 * the approving transaction.
 */
import { Conflict, DomainError } from '@puhui/errors';
import { defineApprovalAction } from '@puhui/dual-control';
import type { ApprovalRequestRecord, ApprovalRequestView, DualControl } from '@puhui/dual-control';
import { formatYuan } from '@puhui/money';
import { withTransaction } from '@puhui/postgres';
import type { Pool, PoolClient } from '@puhui/postgres';
import { ACQUIRER_CLEARING, RECONCILIATION_SUSPENSE, RECONCILIATION_WRITE_OFFS } from '../domain/ledger';
import { correctionDifference } from '../domain/reconciliation';
import { lockAccounts, postTransfers } from '../store/ledger';
import { lockItem } from '../store/reconciliation';
import { refuseUnresolvable, resolveWithin } from './resolution';
import type { Resolution, ResolutionRequest } from './resolution';
import { heldSaleToDecide } from './subsidy';

export const CORRECTION_KINDS = ['adjustment', 'write_off'] as const;
export type CorrectionKind = (typeof CORRECTION_KINDS)[number];

export const RECONCILIATION_CORRECTION = 'reconciliation_correction';
const TARGET_TYPE = 'reconciliation_item';

interface CorrectionRequest extends ResolutionRequest {
  run_id: string;
  item_id: string;
  correction: CorrectionKind;
  /** Statement − ledger when it was asked: the checker approves that amount, or nothing. */
  amount_minor: number;
  /** `operator:<subject>` of the one who asked: the resolution is theirs. */
  requested_by_actor: string;
}

function correctionProblem(code: string, detail: string, extensions: Record<string, unknown> = {}) {
  return new DomainError('unprocessable', code, 'Unprocessable request', {
    detail,
    invalidParams: [{ name: 'correction', reason: detail }],
    extensions,
  });
}

/** A correction of this item waiting for approval refuses another resolution of it (409). */
export async function refusePendingCorrection(
  approvals: DualControl,
  client: PoolClient,
  itemId: string,
): Promise<void> {
  const pending = await approvals.list(client, {
    status: 'pending',
    action: RECONCILIATION_CORRECTION,
    target_type: TARGET_TYPE,
    target_id: itemId,
    limit: 1,
  });
  const waiting = pending.data[0];
  if (waiting !== undefined) {
    throw new Conflict('correction_pending', 'A correction of this item is waiting for approval.', {
      approval_request_id: waiting.id,
    });
  }
}

/**
 * Asks for a correction: the item must be an unresolved exception with a difference, a write-off
 * within the limit, no other correction waiting, and the subsidy choice the resolution needs
 * (checked now, so that approving cannot fail on it).
 */
export async function requestCorrection(
  context: { pool: Pool; approvals: DualControl; actor: string; subject: string; writeOffLimitMinor: number },
  target: { runId: string; itemId: string },
  request: ResolutionRequest & { correction: CorrectionKind },
): Promise<{ approval_request: ApprovalRequestView }> {
  const { runId, itemId } = target;
  return withTransaction(context.pool, async (client) => {
    const item = await lockItem(client, runId, itemId);
    if (item === undefined || item.category === 'matched' || item.resolution !== null)
      refuseUnresolvable(item, runId, itemId);
    await refusePendingCorrection(context.approvals, client, itemId);
    const difference = correctionDifference(item);
    if (difference === 0)
      throw correctionProblem('nothing_to_correct', 'The statement and the ledger agree on this item.');
    if (request.correction === 'write_off' && Math.abs(difference) > context.writeOffLimitMinor) {
      throw correctionProblem(
        'write_off_over_limit',
        `A write-off is at most ${formatYuan(context.writeOffLimitMinor)}; this difference is ${formatYuan(Math.abs(difference))}: adjust it to suspense instead.`,
        { limit_minor: context.writeOffLimitMinor, difference_minor: difference },
      );
    }
    await heldSaleToDecide(client, item, request.subsidy);
    const payload: CorrectionRequest = {
      run_id: runId,
      item_id: itemId,
      correction: request.correction,
      amount_minor: difference,
      note: request.note,
      ...(request.subsidy === undefined ? {} : { subsidy: request.subsidy }),
      requested_by_actor: context.actor,
    };
    const account = request.correction === 'adjustment' ? RECONCILIATION_SUSPENSE : RECONCILIATION_WRITE_OFFS;
    const approval = await context.approvals.requestApproval(client, {
      action: RECONCILIATION_CORRECTION,
      target_type: TARGET_TYPE,
      target_id: itemId,
      summary: `${request.correction === 'adjustment' ? 'Adjust' : 'Write off'} ${formatYuan(Math.abs(difference))} of ${item.category} item ${itemId} (reconciliation ${runId}) ${difference > 0 ? 'from acquirer:clearing to' : 'to acquirer:clearing from'} ${account}`,
      payload,
      before: { category: item.category, resolution: null, difference_minor: difference },
      after: {
        resolution: request.correction,
        account,
        amount_minor: Math.abs(difference),
        note: request.note,
      },
      requested_by: context.subject,
    });
    return { approval_request: approval };
  });
}

/** The approved correction: its transfer, then the resolution and its audit row naming both people. */
async function postCorrection(
  client: PoolClient,
  request: ApprovalRequestRecord<CorrectionRequest>,
  approvedBy: string,
): Promise<Resolution & { correction: { kind: CorrectionKind; account: string; amount_minor: number } }> {
  const payload = request.payload;
  const item = await lockItem(client, payload.run_id, payload.item_id);
  if (item === undefined || item.resolution !== null)
    refuseUnresolvable(item, payload.run_id, payload.item_id);
  if (correctionDifference(item) !== payload.amount_minor) {
    throw new Conflict(
      'correction_amount_changed',
      'The item’s difference changed since the correction was asked for.',
    );
  }
  const account = payload.correction === 'adjustment' ? RECONCILIATION_SUSPENSE : RECONCILIATION_WRITE_OFFS;
  const amount = Math.abs(payload.amount_minor);
  // A statement above the ledger: the acquirer owes more (clearing debited); below it, less.
  const [debit, credit] =
    payload.amount_minor > 0 ? [ACQUIRER_CLEARING, account] : [account, ACQUIRER_CLEARING];
  await lockAccounts(client, [debit, credit]);
  const resolution = await resolveWithin(
    client,
    { actor: payload.requested_by_actor, requestId: null },
    { runId: payload.run_id, itemId: payload.item_id },
    { note: payload.note, ...(payload.subsidy === undefined ? {} : { subsidy: payload.subsidy }) },
    { kind: payload.correction, amount_minor: payload.amount_minor, approved_by: approvedBy },
  );
  await postTransfers(
    client,
    [
      {
        debit_account: debit,
        credit_account: credit,
        amount_minor: amount,
        kind: payload.correction === 'adjustment' ? 'reconciliation_adjustment' : 'reconciliation_write_off',
      },
    ],
    {
      checkout_id: item.ledger?.checkout_id ?? null,
      reconciliation_run_id: payload.run_id,
      occurred_at: new Date().toISOString(),
    },
  );
  return {
    ...resolution,
    correction: { kind: payload.correction, account, amount_minor: payload.amount_minor },
  };
}

export const reconciliationCorrectionAction = defineApprovalAction<CorrectionRequest>({
  name: RECONCILIATION_CORRECTION,
  requiredRole: 'finance',
  execute: async (client, request, checker) => {
    const done = await postCorrection(client, request, `operator:${checker.subject}`);
    return {
      reconciliation_id: done.item.run_id,
      item_id: done.item.item_id,
      resolution: done.item.resolution,
      correction: done.correction,
      subsidy: done.subsidy,
    };
  },
});
