/**
 * Applications and lifecycle decisions. Each command is one transaction: the merchant row
 * (locked), its audit entry and its outbox event commit together or not at all. Approving an
 * application needs a second admin (dual control); a live merchant's changes of reviewed fields
 * wait in merchant-changes.ts.
 */
import {
  DEFAULT_MCC,
  merchantApproved,
  merchantReinstated,
  merchantSuspended,
  merchantTerminated,
  merchantUpdated,
  newId,
} from '@puhui/contracts';
import type { MerchantCategory } from '@puhui/contracts';
import type { ApprovalRequestView } from '@puhui/dual-control';
import { Conflict, NotFound } from '@puhui/errors';
import { appendEvent } from '@puhui/events';
import { keyedHash, maskBankAccount } from '@puhui/kyc';
import { withTransaction } from '@puhui/postgres';
import type { PoolClient } from '@puhui/postgres';
import { sealField } from '@puhui/security';
import {
  APPROVAL_ACTIONS,
  ApprovalPending,
  IllegalTransition,
  REVIEWED_FIELDS,
  isLive,
  nextStatus,
  withPendingChangeApplied,
} from '../domain/merchant';
import type {
  ApplicationFields,
  ContactInput,
  LifecycleAction,
  Merchant,
  Outlet,
  PendingChange,
} from '../domain/merchant';
import { merchantView } from '../views/merchant';
import type { MerchantView } from '../views/merchant';
import { findMerchant, insertMerchant, saveMerchant } from '../store/merchants';
import { revokeAllApiKeys } from './api-keys';
import { EVENT_SOURCE } from './context';
import type { Actor, CommandContext, Secrets } from './context';
import { decidePendingChange, requestChangeApproval } from './merchant-changes';
import { sealContact, sealHolder, sealLegalRepresentative } from './personal-data';
import {
  assertAccountName,
  audit,
  lockOrNotFound,
  operatorOf,
  rethrowDuplicateCreditCode,
  shownToChecker,
  snapshotOf,
} from './merchant-records';

/** What the API accepts for an application (already validated field by field). */
export interface ApplicationInput {
  legal_name?: string;
  display_name?: string;
  credit_code?: string;
  category?: MerchantCategory;
  mcc?: string;
  region_code?: string;
  address?: string;
  contact?: ContactInput;
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

/**
 * Turns input into what is stored for `merchantId`: ID numbers masked and hashed; account
 * numbers, a personal account's holder, the contact and the legal representative's name sealed
 * for the merchant (AAD = its id) beside masked forms (decision 0016).
 */
function storedFields(
  input: ApplicationInput,
  secrets: Secrets,
  merchantId: string,
): Partial<ApplicationFields> {
  const fields: Partial<ApplicationFields> = {};
  const {
    contact,
    legal_representative: representative,
    settlement_account: account,
    outlets,
    ...plain
  } = input;
  Object.assign(fields, plain);
  if (input.category !== undefined && input.mcc === undefined) fields.mcc = DEFAULT_MCC[input.category];
  if (contact !== undefined) fields.contact = sealContact(contact, secrets, merchantId);
  if (representative !== undefined)
    fields.legal_representative = sealLegalRepresentative(representative, secrets, merchantId);
  if (account !== undefined) {
    const { account_number: number, ...rest } = account;
    fields.settlement_account = {
      ...rest,
      ...(account.account_type === 'personal' ? sealHolder(account.account_name, secrets, merchantId) : {}),
      account_number_masked: maskBankAccount(number),
      account_number_last4: number.slice(-4),
      account_number_sealed: sealField(number, secrets.fieldKey, merchantId),
      account_number_hash: keyedHash(number, secrets.identityHashKey),
    };
  }
  if (outlets !== undefined) {
    fields.outlets = outlets.map((outlet): Outlet => ({ outlet_id: newId('out'), ...outlet }));
  }
  return fields;
}

export async function createApplication(
  context: CommandContext,
  input: ApplicationInput & { legal_name: string },
): Promise<MerchantView> {
  const now = new Date().toISOString();
  const merchantId = newId('mer');
  const merchant: Merchant = {
    merchant_id: merchantId,
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
    ...storedFields(input, context.secrets, merchantId),
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
  const changes = storedFields(input, context.secrets, merchantId);
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

function decisionStamps(action: LifecycleAction, now: string, actor: string): Partial<Merchant> {
  if (action === 'submit') return { submitted_at: now };
  if (action === 'approve' || action === 'reject') return { decided_at: now, decided_by: actor };
  return {};
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
