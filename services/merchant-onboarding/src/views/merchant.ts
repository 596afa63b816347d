/**
 * How a merchant is shown: to the API (admins and the merchant itself), the audit trail, the
 * approval requests and the events. Personal fields appear masked only (decision 0016): the
 * contact's name, mobile and e-mail, the legal representative's name and ID number, the account
 * number and a personal account's holder; no sealed value, no hash. An admin reads a plaintext
 * through the audited reveal (commands/personal-data.ts).
 */
import { maskPersonName } from '@puhui/security';
import type { Contact, Merchant, PendingChange, SettlementAccount } from '../domain/merchant';
import { requirementsOf } from '../domain/merchant';

/**
 * A settlement account as anyone is shown it (a view, an approval request, an event): the number
 * masked, and a personal account's holder (a person's name) masked too; a corporate account is in
 * the merchant's legal name, which is public.
 */
export function maskedSettlementAccount(account: SettlementAccount) {
  return {
    account_type: account.account_type,
    account_name:
      account.account_type === 'personal' ? maskPersonName(account.account_name) : account.account_name,
    account_number_masked: account.account_number_masked,
    bank_name: account.bank_name,
    branch_code: account.branch_code,
  };
}

/** The contact as shown: masked forms only. */
export function maskedContact(contact: Contact) {
  return {
    name_masked: contact.name_masked,
    mobile_masked: contact.mobile_masked,
    email_masked: contact.email_masked,
  };
}

function showAccount(account: SettlementAccount | null | undefined) {
  if (account === null || account === undefined) return account;
  return maskedSettlementAccount(account);
}

function showLegalRepresentative(representative: Merchant['legal_representative'] | undefined) {
  if (representative === null || representative === undefined) return representative;
  return { name_masked: representative.name_masked, id_number_masked: representative.id_number_masked };
}

function showPendingChange(change: PendingChange | null) {
  if (change === null) return null;
  return {
    ...change,
    ...(change.settlement_account === undefined
      ? {}
      : { settlement_account: showAccount(change.settlement_account) }),
    ...(change.legal_representative === undefined
      ? {}
      : { legal_representative: showLegalRepresentative(change.legal_representative) }),
  };
}

export type MerchantView = ReturnType<typeof merchantView>;

export function merchantView(merchant: Merchant) {
  return {
    id: merchant.merchant_id,
    status: merchant.status,
    legal_name: merchant.legal_name,
    display_name: merchant.display_name,
    credit_code: merchant.credit_code,
    category: merchant.category,
    mcc: merchant.mcc,
    region_code: merchant.region_code,
    address: merchant.address,
    contact: merchant.contact === null ? null : maskedContact(merchant.contact),
    legal_representative: showLegalRepresentative(merchant.legal_representative) ?? null,
    settlement_account: showAccount(merchant.settlement_account) ?? null,
    outlets: merchant.outlets,
    requirements: requirementsOf(merchant),
    pending_change: showPendingChange(merchant.pending_change),
    pending_approval: merchant.pending_approval,
    settlement_account_changed_at: merchant.settlement_account_changed_at,
    status_reason: merchant.status_reason,
    created_at: merchant.created_at,
    updated_at: merchant.updated_at,
    submitted_at: merchant.submitted_at,
    decided_at: merchant.decided_at,
  };
}
