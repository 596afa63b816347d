/**
 * Applications, changes and lifecycle decisions. Each command is one transaction: the
 * merchant row (locked), its audit entry and its outbox event commit together or not at all.
 */
import assert from 'node:assert/strict';
import {
  DEFAULT_MCC,
  merchantApproved,
  merchantReinstated,
  merchantSettlementAccountChanged,
  merchantSuspended,
  merchantTerminated,
  merchantUpdated,
  newId,
} from '@puhui/contracts';
import type { MerchantCategory, MerchantSnapshot } from '@puhui/contracts';
import type { ApprovalRequestView } from '@puhui/dual-control';
import { Conflict, Forbidden, NotFound, ValidationFailed } from '@puhui/errors';
import { appendEvent } from '@puhui/events';
import { keyedHash, maskBankAccount, maskMobile, maskResidentId } from '@puhui/kyc';
import { withTransaction } from '@puhui/postgres';
import type { PoolClient } from '@puhui/postgres';
import { sealField } from '@puhui/security';
import {
  APPROVAL_ACTIONS,
  ApprovalPending,
  IllegalTransition,
  REVIEWED_FIELDS,
  accountNameProblem,
  isLive,
  nextStatus,
  settlementAccountAltered,
  withPendingChangeApplied,
} from '../domain/merchant';
import type {
  ApplicationFields,
  Contact,
  LifecycleAction,
  Merchant,
  Outlet,
  PendingApproval,
  PendingChange,
  SettlementAccount,
} from '../domain/merchant';
import { merchantView } from '../views/merchant';
import type { MerchantView } from '../views/merchant';
import { appendAudit } from '../store/audit';
import { findMerchant, insertMerchant, lockMerchant, saveMerchant } from '../store/merchants';
import { revokeAllApiKeys } from './api-keys';
import { EVENT_SOURCE } from './context';
import type { Actor, CommandContext, Secrets } from './context';

/** What the API accepts for an application (already validated field by field). */
export interface ApplicationInput {
  legal_name?: string;
  display_name?: string;
  credit_code?: string;
  category?: MerchantCategory;
  mcc?: string;
  region_code?: string;
  address?: string;
  contact?: Contact;
  legal_representative?: { name: string; id_number: string };
  settlement_account?: {
    account_type: 'corporate' | 'personal';
    account_name: string;
    account_number: string;
    bank_name: string;
    branch_code: string;
  };
  outlets?: Array<{ name: string; address: string }>;
}

/** Turns input into what is stored: ID and account numbers masked, hashed and sealed. */
function storedFields(input: ApplicationInput, secrets: Secrets): Partial<ApplicationFields> {
  const fields: Partial<ApplicationFields> = {};
  const { legal_representative: representative, settlement_account: account, outlets, ...plain } = input;
  Object.assign(fields, plain);
  if (input.category !== undefined && input.mcc === undefined) fields.mcc = DEFAULT_MCC[input.category];
  if (representative !== undefined) {
    fields.legal_representative = {
      name: representative.name,
      id_number_masked: maskResidentId(representative.id_number),
      id_number_hash: keyedHash(representative.id_number, secrets.identityHashKey),
    };
  }
  if (account !== undefined) {
    const { account_number: number, ...rest } = account;
    fields.settlement_account = {
      ...rest,
      account_number_masked: maskBankAccount(number),
      account_number_last4: number.slice(-4),
      account_number_sealed: sealField(number, secrets.fieldKey),
      account_number_hash: keyedHash(number, secrets.identityHashKey),
    };
  }
  if (outlets !== undefined) {
    fields.outlets = outlets.map((outlet): Outlet => ({ outlet_id: newId('out'), ...outlet }));
  }
  return fields;
}

function assertAccountName(fields: Pick<ApplicationFields, 'legal_name' | 'settlement_account'>): void {
  const problem = accountNameProblem(fields);
  if (problem !== null)
    throw new ValidationFailed([{ name: 'settlement_account.account_name', reason: problem }]);
}

async function lockOrNotFound(client: PoolClient, merchantId: string): Promise<Merchant> {
  const merchant = await lockMerchant(client, merchantId);
  if (merchant === undefined) throw new NotFound(`Merchant ${merchantId}`);
  return merchant;
}

async function audit(
  client: PoolClient,
  actor: Actor,
  action: string,
  before: Merchant | null,
  after: Merchant,
) {
  await appendAudit(client, {
    merchant_id: after.merchant_id,
    action,
    actor: actor.actor,
    request_id: actor.requestId,
    before: before === null ? null : merchantView(before),
    after: merchantView(after),
  });
}

export async function createApplication(
  context: CommandContext,
  input: ApplicationInput & { legal_name: string },
): Promise<MerchantView> {
  const now = new Date().toISOString();
  const merchant: Merchant = {
    merchant_id: newId('mer'),
    status: 'draft',
    legal_name: input.legal_name,
    display_name: null,
    credit_code: null,
    category: null,
    mcc: null,
    region_code: null,
    address: null,
    contact: null,
    legal_representative: null,
    settlement_account: null,
    outlets: [],
    ...storedFields(input, context.secrets),
    pending_change: null,
    status_reason: null,
    created_at: now,
    updated_at: now,
    submitted_at: null,
    decided_at: null,
    decided_by: null,
    settlement_account_changed_at: null,
    pending_approval: null,
  };
  assertAccountName(merchant);
  return withTransaction(context.pool, async (client) => {
    await insertMerchant(client, merchant).catch(rethrowDuplicateCreditCode);
    await audit(client, context, 'application_created', null, merchant);
    return merchantView(merchant);
  });
}

function rethrowDuplicateCreditCode(error: unknown): never {
  if ((error as { constraint?: string }).constraint === 'merchants_credit_code_live') {
    throw new Conflict('duplicate_credit_code', 'A live merchant already has this credit code.');
  }
  throw error;
}

/** The person acting; a merchant key never records or decides a request. */
function operatorOf(context: CommandContext) {
  if (context.operator === null) throw new Forbidden('Only an admin asks for this.');
  return context.operator;
}

/** What the checker is shown of a merchant: the API's view, the contact's mobile masked too. */
function shownToChecker(merchant: Merchant): Record<string, unknown> {
  const { requirements: _requirements, pending_approval: _pending, ...view } = merchantView(merchant);
  return {
    ...view,
    contact: view.contact === null ? null : { ...view.contact, mobile: maskMobile(view.contact.mobile) },
  };
}

function pendingApprovalOf(request: ApprovalRequestView, action: PendingApproval['action']): PendingApproval {
  return {
    approval_request_id: request.id,
    action,
    requested_by: request.requested_by,
    requested_at: request.requested_at,
  };
}

/** The reviewed fields a pending change touches, in the order REVIEWED_FIELDS lists them. */
function changedFields(change: PendingChange): string[] {
  return REVIEWED_FIELDS.filter((field) => change[field] !== undefined);
}

/**
 * A new pending change waits for a second admin: the request shows the fields before and as
 * asked (masked) and names who asked, so that they cannot approve it themselves.
 */
async function requestChangeApproval(
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

/**
 * Drafts and rejected applications change in place. On an approved merchant, reviewed
 * fields (who is paid, who it is, what it sells) wait in `pending_change` for a second admin
 * (an approval request); the rest apply at once and are announced. While a change waits,
 * another change of reviewed fields is refused: what the checker approves is what was asked.
 */
export async function updateMerchant(
  context: CommandContext,
  merchantId: string,
  input: ApplicationInput,
): Promise<MerchantView> {
  const changes = storedFields(input, context.secrets);
  return withTransaction(context.pool, async (client) => {
    const before = await lockOrNotFound(client, merchantId);
    let after: Merchant;
    if (before.status === 'draft' || before.status === 'rejected') {
      after = { ...before, ...changes };
    } else if (isLive(before.status)) {
      after = withReviewedFieldsPending(before, changes, context.actor);
    } else {
      throw new Conflict('not_editable', `A merchant that is ${before.status} cannot be changed.`, {
        current_status: before.status,
      });
    }
    const changeRequested = after.pending_change !== before.pending_change;
    if (changeRequested && before.pending_approval !== null)
      throw new ApprovalPending(before.pending_approval);
    assertAccountName(withPendingChangeApplied(after));
    after = { ...after, updated_at: new Date().toISOString() };
    await saveMerchant(client, after).catch(rethrowDuplicateCreditCode);
    if (changeRequested) {
      after = { ...after, pending_approval: await requestChangeApproval(client, context, before, after) };
    }
    await audit(client, context, 'merchant_updated', before, after);
    const immediate = Object.keys(changes).filter(
      (field) => !(REVIEWED_FIELDS as readonly string[]).includes(field),
    );
    if (isLive(after.status) && immediate.length > 0) {
      await appendEvent(client, EVENT_SOURCE, {
        definition: merchantUpdated,
        subject: merchantId,
        data: { merchant: snapshotOf(after), changed_fields: immediate, updated_at: after.updated_at },
      });
    }
    return merchantView(after);
  });
}

function withReviewedFieldsPending(
  merchant: Merchant,
  changes: Partial<ApplicationFields>,
  actor: string,
): Merchant {
  const reviewed: Partial<ApplicationFields> = {};
  const immediate: Partial<ApplicationFields> = {};
  for (const [field, value] of Object.entries(changes)) {
    const target = (REVIEWED_FIELDS as readonly string[]).includes(field) ? reviewed : immediate;
    Object.assign(target, { [field]: value });
  }
  const pending: PendingChange | null =
    Object.keys(reviewed).length === 0
      ? merchant.pending_change
      : {
          ...merchant.pending_change,
          ...reviewed,
          requested_at: new Date().toISOString(),
          requested_by: actor,
        };
  return { ...merchant, ...immediate, pending_change: pending };
}

/** What a lifecycle step answers: the merchant, or (approving an application) the request it waits in. */
export type DecisionAnswer =
  { status: 200; merchant: MerchantView } | { status: 202; approval_request: ApprovalRequestView };

/**
 * submit, start_review, approve, reject, suspend, reinstate, terminate. Approving an
 * application records a request for a second admin (202); approving or rejecting a pending
 * change decides its request, as `POST /v1/approval_requests/{id}/approve|reject` does.
 */
export async function decide(
  context: CommandContext,
  merchantId: string,
  action: LifecycleAction,
  reason: string | null,
): Promise<DecisionAnswer> {
  if (action === 'approve' || action === 'reject') {
    const merchant = await findMerchant(context.pool, merchantId);
    if (merchant === undefined) throw new NotFound(`Merchant ${merchantId}`);
    if (merchant.pending_change !== null) {
      return { status: 200, merchant: await decidePendingChange(context, merchant, action, reason) };
    }
    if (action === 'approve') {
      return { status: 202, approval_request: await requestApplicationApproval(context, merchantId, reason) };
    }
  }
  const merchant = await withTransaction(context.pool, async (client) => {
    const before = await lockOrNotFound(client, merchantId);
    const after = await decideLocked(client, context, before, action, reason);
    // A rejected application's approval, a terminated merchant's change: they can never run now.
    if (before.pending_approval !== null && after.pending_approval === null) {
      await context.dualControl.cancelPending(
        client,
        { target_type: 'merchant', target_id: merchantId },
        {
          reason: `The merchant was ${after.status}.`,
          ...(context.operator === null ? {} : { by: context.operator.subject }),
        },
      );
    }
    return after;
  });
  return { status: 200, merchant };
}

/** Approving or rejecting a pending change is deciding its approval request (one path for both routes). */
async function decidePendingChange(
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

/** Admin A asks for an application's approval; it goes live once admin B approves (approveApplication). */
async function requestApplicationApproval(
  context: CommandContext,
  merchantId: string,
  reason: string | null,
): Promise<ApprovalRequestView> {
  const operator = operatorOf(context);
  return withTransaction(context.pool, async (client) => {
    const merchant = await lockOrNotFound(client, merchantId);
    nextStatus(merchant, 'approve');
    if (merchant.pending_approval !== null) throw new ApprovalPending(merchant.pending_approval);
    const shown = shownToChecker(merchant);
    return context.dualControl.requestApproval(client, {
      action: APPROVAL_ACTIONS.application,
      target_type: 'merchant',
      target_id: merchantId,
      summary: `Approve ${merchant.legal_name}: it goes live for checkouts and payouts to its settlement account`,
      payload: { merchant_id: merchantId, reason },
      before: shown,
      after: { ...shown, status: 'active' },
      requested_by: operator.subject,
    });
  });
}

/**
 * The lifecycle step on a locked merchant: the status, stamps, audit entry and event. A pending
 * change is never decided here (decidePendingChange, applyPendingChange), nor is a merchant
 * approved other than by its request's checker (approveApplication).
 */
async function decideLocked(
  client: PoolClient,
  actor: Actor,
  before: Merchant,
  action: LifecycleAction,
  reason: string | null,
): Promise<MerchantView> {
  if ((action === 'approve' || action === 'reject') && before.pending_change !== null) {
    throw new IllegalTransition(action, before.status);
  }
  const now = new Date().toISOString();
  const status = nextStatus(before, action);
  let after: Merchant = {
    ...before,
    status,
    updated_at: now,
    status_reason: reason,
    ...decisionStamps(action, now, actor.actor),
  };
  if (status === 'terminated') after = { ...after, pending_change: null };
  // What waits for a second admin ends with a rejection or termination (the caller cancels it).
  if (status === 'terminated' || status === 'rejected') after = { ...after, pending_approval: null };
  await saveMerchant(client, after);
  await audit(client, actor, action, before, after);
  await announce(client, actor, before, after, action);
  if (status === 'terminated') await revokeAllApiKeys(client, actor, before.merchant_id);
  return merchantView(after);
}

/** The application's approval request, approved by a second admin: the merchant goes live. */
export async function approveApplication(
  client: PoolClient,
  actor: Actor,
  merchantId: string,
  reason: string | null,
): Promise<MerchantView> {
  const merchant = await lockOrNotFound(client, merchantId);
  return decideLocked(client, actor, { ...merchant, pending_approval: null }, 'approve', reason);
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
 * account is also announced on its own (the contact to tell, masked), and its time travels in
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
        notify: { name: contact.name, mobile_masked: maskMobile(contact.mobile) },
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

function maskedAccount(account: SettlementAccount | null) {
  assert.ok(account !== null, 'a live merchant has a settlement account');
  return {
    account_type: account.account_type,
    account_name: account.account_name,
    account_number_masked: account.account_number_masked,
    bank_name: account.bank_name,
    branch_code: account.branch_code,
  };
}

function decisionStamps(action: LifecycleAction, now: string, actor: string): Partial<Merchant> {
  if (action === 'submit') return { submitted_at: now };
  if (action === 'approve' || action === 'reject') return { decided_at: now, decided_by: actor };
  return {};
}

/** The replicas' view of a merchant that has been approved (every field present). */
function snapshotOf(merchant: Merchant): MerchantSnapshot {
  const { settlement_account: account, category, mcc, region_code, display_name } = merchant;
  assert.ok(
    account !== null && category !== null && mcc !== null && region_code !== null && display_name !== null,
  );
  return {
    merchant_id: merchant.merchant_id,
    status: merchant.status,
    legal_name: merchant.legal_name,
    display_name,
    category,
    mcc,
    region_code,
    settlement_account: {
      account_type: account.account_type,
      account_name: account.account_name,
      account_number_masked: account.account_number_masked,
      account_number_last4: account.account_number_last4,
      account_number_sealed: account.account_number_sealed,
      bank_name: account.bank_name,
      branch_code: account.branch_code,
    },
    settlement_account_changed_at: merchant.settlement_account_changed_at,
    outlets: merchant.outlets,
  };
}

async function announce(
  client: PoolClient,
  actor: Actor,
  before: Merchant,
  after: Merchant,
  action: LifecycleAction,
) {
  const subject = after.merchant_id;
  const statusChange = {
    merchant_id: subject,
    status: after.status,
    reason: after.status_reason,
    occurred_at: after.updated_at,
  };
  if (action === 'approve') {
    await appendEvent(client, EVENT_SOURCE, {
      definition: merchantApproved,
      subject,
      data: { merchant: snapshotOf(after), approved_at: after.updated_at, approved_by: actor.actor },
    });
  } else if (action === 'suspend') {
    await appendEvent(client, EVENT_SOURCE, { definition: merchantSuspended, subject, data: statusChange });
  } else if (action === 'reinstate') {
    await appendEvent(client, EVENT_SOURCE, { definition: merchantReinstated, subject, data: statusChange });
  } else if (action === 'terminate' && isLive(before.status)) {
    await appendEvent(client, EVENT_SOURCE, { definition: merchantTerminated, subject, data: statusChange });
  }
}
