/**
 * Applications, changes and lifecycle decisions. Each command is one transaction: the
 * merchant row (locked), its audit entry and its outbox event commit together or not at all.
 */
import assert from 'node:assert/strict';
import {
  DEFAULT_MCC,
  merchantApproved,
  merchantReinstated,
  merchantSuspended,
  merchantTerminated,
  merchantUpdated,
  newId,
} from '@puhui/contracts';
import type { MerchantCategory, MerchantSnapshot } from '@puhui/contracts';
import { Conflict, NotFound, ValidationFailed } from '@puhui/errors';
import { appendEvent } from '@puhui/events';
import { keyedHash, maskBankAccount, maskResidentId } from '@puhui/kyc';
import { withTransaction } from '@puhui/postgres';
import type { PoolClient } from '@puhui/postgres';
import { sealField } from '@puhui/security';
import {
  REVIEWED_FIELDS,
  accountNameProblem,
  decidesPendingChange,
  isLive,
  nextStatus,
  withPendingChangeApplied,
} from '../domain/merchant';
import type {
  ApplicationFields,
  Contact,
  LifecycleAction,
  Merchant,
  Outlet,
  PendingChange,
} from '../domain/merchant';
import { merchantView } from '../views/merchant';
import type { MerchantView } from '../views/merchant';
import { appendAudit } from '../store/audit';
import { insertMerchant, lockMerchant, saveMerchant } from '../store/merchants';
import { revokeAllApiKeys } from './api-keys';
import { EVENT_SOURCE } from './context';
import type { CommandContext, Secrets } from './context';

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
  context: CommandContext,
  action: string,
  before: Merchant | null,
  after: Merchant,
) {
  await appendAudit(client, {
    merchant_id: after.merchant_id,
    action,
    actor: context.actor,
    request_id: context.requestId,
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

/**
 * Drafts and rejected applications change in place. On an approved merchant, reviewed
 * fields (who is paid, who it is, what it sells) wait in `pending_change`; the rest apply
 * at once and are announced.
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
    assertAccountName(withPendingChangeApplied(after));
    after = { ...after, updated_at: new Date().toISOString() };
    await saveMerchant(client, after).catch(rethrowDuplicateCreditCode);
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

/** submit, start_review, approve, reject, suspend, reinstate, terminate. */
export async function decide(
  context: CommandContext,
  merchantId: string,
  action: LifecycleAction,
  reason: string | null,
): Promise<MerchantView> {
  return withTransaction(context.pool, async (client) => {
    const before = await lockOrNotFound(client, merchantId);
    const now = new Date().toISOString();
    const status = nextStatus(before, action);
    let after: Merchant = { ...before, status, updated_at: now };
    if (decidesPendingChange(before, action)) {
      after = action === 'approve' ? withPendingChangeApplied(after) : { ...after, pending_change: null };
    } else {
      after = { ...after, status_reason: reason, ...decisionStamps(action, now, context.actor) };
    }
    if (status === 'terminated') after = { ...after, pending_change: null };
    await saveMerchant(client, after);
    await audit(
      client,
      context,
      decidesPendingChange(before, action) ? `change_${action}d` : action,
      before,
      after,
    );
    await announce(client, context, before, after, action);
    if (status === 'terminated') await revokeAllApiKeys(client, context, merchantId);
    return merchantView(after);
  });
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
  context: CommandContext,
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
  if (action === 'approve' && !decidesPendingChange(before, action)) {
    await appendEvent(client, EVENT_SOURCE, {
      definition: merchantApproved,
      subject,
      data: { merchant: snapshotOf(after), approved_at: after.updated_at, approved_by: context.actor },
    });
  } else if (action === 'approve') {
    const changed = Object.keys(before.pending_change ?? {}).filter(
      (key) => key !== 'requested_at' && key !== 'requested_by',
    );
    await appendEvent(client, EVENT_SOURCE, {
      definition: merchantUpdated,
      subject,
      data: { merchant: snapshotOf(after), changed_fields: changed, updated_at: after.updated_at },
    });
  } else if (action === 'suspend') {
    await appendEvent(client, EVENT_SOURCE, { definition: merchantSuspended, subject, data: statusChange });
  } else if (action === 'reinstate') {
    await appendEvent(client, EVENT_SOURCE, { definition: merchantReinstated, subject, data: statusChange });
  } else if (action === 'terminate' && isLive(before.status)) {
    await appendEvent(client, EVENT_SOURCE, { definition: merchantTerminated, subject, data: statusChange });
  }
}
