/**
 * The merchant and its lifecycle, as plain data and functions (no I/O).
 *
 *   draft ─submit→ submitted ─start_review→ in_review ─approve→ active ⇄ suspended
 *     ↑                                        │reject                 │
 *     └───────── rejected ←────────────────────┘          (any) ─terminate→ terminated
 *
 * A rejected application is corrected and submitted again under the same id. On an active
 * or suspended merchant, changing who gets paid (settlement account) or what it is
 * (identity, category) is held as a pending change until approved, while checkouts go on.
 */
import type { MerchantCategory, MerchantStatus } from '@puhui/contracts';
import { Conflict, Unprocessable } from '@puhui/errors';

/**
 * The person to call, as stored (PIPL, decision 0016): each value sealed for its merchant
 * (AES-256-GCM, AAD = merchant id) beside its masked form; the mobile also as a keyed hash, to
 * find a merchant by its contact's phone without opening every row.
 */
export interface Contact {
  name_masked: string;
  name_sealed: string;
  mobile_masked: string;
  mobile_sealed: string;
  mobile_hash: string;
  email_masked: string;
  email_sealed: string;
}

/** A contact as the API receives it, before it is sealed. */
export interface ContactInput {
  name: string;
  mobile: string;
  email: string;
}

/**
 * The ID number itself is never kept: masked for people, keyed hash for matching. The name is
 * sealed for the merchant beside its masked form, as the contact's are.
 */
export interface LegalRepresentative {
  name_masked: string;
  name_sealed: string;
  id_number_masked: string;
  id_number_hash: string;
}

/**
 * The personal fields an admin may reveal (an audited action, never cached): what is sealed.
 * The ID number is not among them: only its hash and masked form are kept.
 */
export const REVEALABLE_FIELDS = [
  'contact.name',
  'contact.mobile',
  'contact.email',
  'legal_representative.name',
  'settlement_account.account_number',
  'settlement_account.account_name',
] as const;
export type RevealableField = (typeof REVEALABLE_FIELDS)[number];

/** The sealed value behind each revealable field, or null when the merchant has none yet. */
export function sealedValueOf(merchant: ApplicationFields, field: RevealableField): string | null {
  switch (field) {
    case 'contact.name':
      return merchant.contact?.name_sealed ?? null;
    case 'contact.mobile':
      return merchant.contact?.mobile_sealed ?? null;
    case 'contact.email':
      return merchant.contact?.email_sealed ?? null;
    case 'legal_representative.name':
      return merchant.legal_representative?.name_sealed ?? null;
    case 'settlement_account.account_number':
      return merchant.settlement_account?.account_number_sealed ?? null;
    case 'settlement_account.account_name':
      // A personal account's holder only: a corporate account's is the public legal name.
      return merchant.settlement_account?.account_name_sealed ?? null;
  }
}

export interface SettlementAccount {
  account_type: 'corporate' | 'personal';
  /** A corporate account's holder (the legal name) as given; a personal account's masked (maskPersonName). */
  account_name: string;
  /** A personal account's holder sealed for the merchant (v2); absent for a corporate account, or once erased. */
  account_name_sealed?: string;
  /** A personal account's holder, keyed hash: tells a changed holder whose masked form is the same. */
  account_name_hash?: string;
  account_number_masked: string;
  account_number_last4: string;
  account_number_sealed: string;
  account_number_hash: string;
  bank_name: string;
  branch_code: string;
}

export interface Outlet {
  outlet_id: string;
  name: string;
  address: string;
}

/** Fields whose change on an approved merchant needs a new review. */
export const REVIEWED_FIELDS = [
  'legal_name',
  'credit_code',
  'legal_representative',
  'category',
  'mcc',
  'settlement_account',
] as const;
export type ReviewedField = (typeof REVIEWED_FIELDS)[number];

export interface ApplicationFields {
  legal_name: string;
  display_name: string | null;
  credit_code: string | null;
  category: MerchantCategory | null;
  mcc: string | null;
  region_code: string | null;
  address: string | null;
  contact: Contact | null;
  legal_representative: LegalRepresentative | null;
  settlement_account: SettlementAccount | null;
  outlets: Outlet[];
}

export type PendingChange = Partial<Pick<ApplicationFields, ReviewedField>> & {
  requested_at: string;
  requested_by: string;
};

/** Names of this service's maker–checker actions (libs/dual-control). */
export const APPROVAL_ACTIONS = {
  /** Approving an application: the merchant goes live and is announced. */
  application: 'merchant_approval',
  /** Approving a pending change of a live merchant's reviewed fields (its settlement account…). */
  change: 'merchant_change',
} as const;
export type MerchantApprovalAction = (typeof APPROVAL_ACTIONS)[keyof typeof APPROVAL_ACTIONS];

/** An approval request waiting for a second person, as the merchant shows it. */
export interface PendingApproval {
  approval_request_id: string;
  action: MerchantApprovalAction;
  /** The requester's account id (token subject): they cannot approve it. */
  requested_by: string;
  requested_at: string;
}

export interface Merchant extends ApplicationFields {
  merchant_id: string;
  status: MerchantStatus;
  pending_change: PendingChange | null;
  status_reason: string | null;
  created_at: string;
  updated_at: string;
  submitted_at: string | null;
  decided_at: string | null;
  decided_by: string | null;
  /** When an approved change last altered the settlement account (null: the one approved with the application). */
  settlement_account_changed_at: string | null;
  /** Read with the merchant from the approval requests, never written with it. */
  pending_approval: PendingApproval | null;
}

/** What an application still lacks before it can be submitted, in form order. */
export function requirementsOf(fields: ApplicationFields): string[] {
  const missing: string[] = [];
  const required: Array<keyof ApplicationFields> = [
    'display_name',
    'credit_code',
    'category',
    'mcc',
    'region_code',
    'address',
    'contact',
    'legal_representative',
    'settlement_account',
  ];
  for (const field of required) if (fields[field] === null) missing.push(field);
  if (fields.outlets.length === 0) missing.push('outlets');
  return missing;
}

/** A corporate account must be in the merchant's legal name (who is paid is who signed). */
export function accountNameProblem(
  fields: Pick<ApplicationFields, 'legal_name' | 'settlement_account'>,
): string | null {
  const account = fields.settlement_account;
  if (account === null || account.account_type !== 'corporate') return null;
  return account.account_name.trim() === fields.legal_name.trim()
    ? null
    : 'must equal the legal name for a corporate account';
}

export type LifecycleAction =
  'submit' | 'start_review' | 'approve' | 'reject' | 'suspend' | 'reinstate' | 'terminate';

export const LIFECYCLE: Record<LifecycleAction, { from: readonly MerchantStatus[]; to: MerchantStatus }> = {
  submit: { from: ['draft', 'rejected'], to: 'submitted' },
  start_review: { from: ['submitted'], to: 'in_review' },
  approve: { from: ['in_review'], to: 'active' },
  reject: { from: ['in_review'], to: 'rejected' },
  suspend: { from: ['active'], to: 'suspended' },
  reinstate: { from: ['suspended'], to: 'active' },
  terminate: {
    from: ['draft', 'submitted', 'in_review', 'rejected', 'active', 'suspended'],
    to: 'terminated',
  },
};

export class IllegalTransition extends Conflict {
  constructor(action: string, current: MerchantStatus) {
    super('illegal_transition', `Cannot ${action.replace('_', ' ')} a merchant that is ${current}.`, {
      current_status: current,
    });
  }
}

export class RequirementsMissing extends Unprocessable {
  constructor(requirements: string[]) {
    super('requirements_missing', `The application still needs: ${requirements.join(', ')}.`, {
      requirements,
    });
  }
}

/** Asked while a request on the same merchant waits for its second person. */
export class ApprovalPending extends Conflict {
  constructor(pending: PendingApproval) {
    super(
      'approval_pending',
      'A request on this merchant is waiting for a second person: approve or reject it first.',
      { approval_request_id: pending.approval_request_id, pending_action: pending.action },
    );
  }
}

/**
 * Whether an approved change redirects payouts: another account number, holder, type, bank or
 * branch (the sealed number, and a personal holder, differ on every sealing, so their hashes are
 * compared instead: a personal holder's masked form hides a change of given name).
 */
export function settlementAccountAltered(
  before: SettlementAccount | null,
  after: SettlementAccount | null,
): boolean {
  if (before === null || after === null) return before !== after;
  const identity = (account: SettlementAccount) =>
    [
      account.account_type,
      account.account_name_hash ?? account.account_name,
      account.account_number_hash,
      account.bank_name,
      account.branch_code,
    ].join('\u0000');
  return identity(before) !== identity(after);
}

/** Whether approve/reject act on a pending change rather than on an application. */
export function decidesPendingChange(merchant: Merchant, action: LifecycleAction): boolean {
  return (action === 'approve' || action === 'reject') && merchant.pending_change !== null;
}

/** The status after `action`, or IllegalTransition naming the current one. */
export function nextStatus(merchant: Merchant, action: LifecycleAction): MerchantStatus {
  if (decidesPendingChange(merchant, action)) return merchant.status;
  const transition = LIFECYCLE[action];
  if (!transition.from.includes(merchant.status)) throw new IllegalTransition(action, merchant.status);
  if (action === 'submit') {
    const missing = requirementsOf(merchant);
    if (missing.length > 0) throw new RequirementsMissing(missing);
  }
  return transition.to;
}

/** Applies a pending change to the merchant's fields. */
export function withPendingChangeApplied(merchant: Merchant): Merchant {
  if (merchant.pending_change === null) return merchant;
  const { requested_at: _requestedAt, requested_by: _requestedBy, ...change } = merchant.pending_change;
  return { ...merchant, ...change, pending_change: null };
}

/** Statuses in which the merchant exists for checkouts (replicas know it). */
export function isLive(status: MerchantStatus): boolean {
  return status === 'active' || status === 'suspended';
}
