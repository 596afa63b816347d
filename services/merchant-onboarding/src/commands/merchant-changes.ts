/**
 * A live merchant's change of reviewed fields (its settlement account above all) under dual
 * control: the PATCH that makes it records its approval request, and `approve`/`reject` of the
 * merchant decide that request as `/v1/approval_requests` does — one path, so its requester is
 * refused either way. The approved change is applied and announced in the approving transaction.
 */
import assert from 'node:assert/strict';
import { merchantSettlementAccountChanged, merchantUpdated } from '@puhui/contracts';
import { Conflict } from '@puhui/errors';
import { appendEvent } from '@puhui/events';
import { withTransaction } from '@puhui/postgres';
import type { PoolClient } from '@puhui/postgres';
import {
  APPROVAL_ACTIONS,
  REVIEWED_FIELDS,
  settlementAccountAltered,
  withPendingChangeApplied,
} from '../domain/merchant';
import type { Merchant, PendingApproval, PendingChange } from '../domain/merchant';
import { merchantView } from '../views/merchant';
import type { MerchantView } from '../views/merchant';
import { findMerchant, saveMerchant } from '../store/merchants';
import { EVENT_SOURCE } from './context';
import type { Actor, CommandContext } from './context';
import {
  audit,
  lockOrNotFound,
  maskedAccount,
  operatorOf,
  pendingApprovalOf,
  rethrowDuplicateCreditCode,
  shownToChecker,
  snapshotOf,
} from './merchant-records';

/** The reviewed fields a pending change touches, in the order REVIEWED_FIELDS lists them. */
function changedFields(change: PendingChange): string[] {
  return REVIEWED_FIELDS.filter((field) => change[field] !== undefined);
}

/**
 * A new pending change waits for a second admin: the request shows the fields before and as
 * asked (masked) and names who asked, so that they cannot approve it themselves.
 */
export async function requestChangeApproval(
  client: PoolClient,
  context: CommandContext,
  before: Merchant,
  after: Merchant,
): Promise<PendingApproval> {
  const change = after.pending_change;
  assert.ok(change !== null);
  const fields = changedFields(change);
  const pick = (shown: Record<string, unknown>) =>
    Object.fromEntries(fields.map((field) => [field, shown[field] ?? null]));
  const request = await context.dualControl.requestApproval(client, {
    action: APPROVAL_ACTIONS.change,
    target_type: 'merchant',
    target_id: after.merchant_id,
    summary: `Change ${fields.join(', ')} of ${after.legal_name}`,
    payload: { merchant_id: after.merchant_id, requested_at: change.requested_at },
    before: pick(shownToChecker(before)),
    after: pick(shownToChecker(withPendingChangeApplied(after))),
    requested_by: operatorOf(context).subject,
  });
  return pendingApprovalOf(request, APPROVAL_ACTIONS.change);
}

/** Approving or rejecting a pending change is deciding its approval request (one path for both routes). */
export async function decidePendingChange(
  context: CommandContext,
  merchant: Merchant,
  action: 'approve' | 'reject',
  reason: string | null,
): Promise<MerchantView> {
  const checker = { ...operatorOf(context), requestId: context.requestId };
  const requestId =
    merchant.pending_approval?.approval_request_id ??
    (await requestLegacyChange(context, merchant.merchant_id));
  if (action === 'approve')
    await context.dualControl.approve(context.pool, requestId, checker, reason ?? undefined);
  else await context.dualControl.reject(context.pool, requestId, checker, reason ?? 'rejected');
  const decided = await findMerchant(context.pool, merchant.merchant_id);
  assert.ok(decided !== undefined);
  return merchantView(decided);
}

/**
 * A change made pending before dual control has no request: it gets one now, in its requester's
 * name (`operator:<subject>`), so that it too is decided by someone else.
 */
async function requestLegacyChange(context: CommandContext, merchantId: string): Promise<string> {
  return withTransaction(context.pool, async (client) => {
    const merchant = await lockOrNotFound(client, merchantId);
    if (merchant.pending_approval !== null) return merchant.pending_approval.approval_request_id;
    const change = merchant.pending_change;
    if (change === null) throw new Conflict('change_gone', 'The merchant has no pending change.');
    const requester = { subject: change.requested_by.replace(/^operator:/u, ''), roles: [] };
    const legacy = { ...context, operator: requester };
    return (await requestChangeApproval(client, legacy, { ...merchant, pending_change: null }, merchant))
      .approval_request_id;
  });
}

/** The change the request was recorded for, or a 409 when it is gone (the merchant was terminated). */
async function lockPendingChange(client: PoolClient, merchantId: string, requestedAt: string) {
  const merchant = await lockOrNotFound(client, merchantId);
  if (merchant.pending_change?.requested_at !== requestedAt) {
    throw new Conflict('change_gone', 'The change this request was for is no longer pending.', {
      current_status: merchant.status,
    });
  }
  return { ...merchant, pending_approval: null };
}

/**
 * A pending change approved by a second admin: applied and announced. A change of settlement
 * account is also announced on its own (the contact to tell, masked: name and mobile), and its time travels in
 * every later snapshot, so settlement pays the new account only after a cooling-off period.
 */
export async function applyPendingChange(
  client: PoolClient,
  actor: Actor,
  merchantId: string,
  requestedAt: string,
): Promise<MerchantView> {
  const before = await lockPendingChange(client, merchantId, requestedAt);
  const change = before.pending_change;
  assert.ok(change !== null);
  const now = new Date().toISOString();
  let after: Merchant = { ...withPendingChangeApplied(before), updated_at: now };
  const accountChanged = settlementAccountAltered(before.settlement_account, after.settlement_account);
  if (accountChanged) after = { ...after, settlement_account_changed_at: now };
  await saveMerchant(client, after).catch(rethrowDuplicateCreditCode);
  await audit(client, actor, 'change_approved', before, after);
  const subject = merchantId;
  await appendEvent(client, EVENT_SOURCE, {
    definition: merchantUpdated,
    subject,
    data: { merchant: snapshotOf(after), changed_fields: changedFields(change), updated_at: now },
  });
  if (accountChanged) {
    const contact = after.contact;
    assert.ok(contact !== null, 'a live merchant has a contact');
    await appendEvent(client, EVENT_SOURCE, {
      definition: merchantSettlementAccountChanged,
      subject,
      data: {
        merchant_id: merchantId,
        before: maskedAccount(before.settlement_account),
        after: maskedAccount(after.settlement_account),
        changed_at: now,
        requested_by: change.requested_by,
        approved_by: actor.actor,
        notify: { name_masked: contact.name_masked, mobile_masked: contact.mobile_masked },
      },
    });
  }
  return merchantView(after);
}

/** A pending change whose request was rejected (or withdrawn by its requester) is dropped. */
export async function dropPendingChange(
  client: PoolClient,
  actor: Actor,
  merchantId: string,
  requestedAt: string,
): Promise<void> {
  const merchant = await lockOrNotFound(client, merchantId);
  if (merchant.pending_change?.requested_at !== requestedAt) return;
  const before = { ...merchant, pending_approval: null };
  const after: Merchant = { ...before, pending_change: null, updated_at: new Date().toISOString() };
  await saveMerchant(client, after);
  await audit(client, actor, 'change_rejected', before, after);
}
