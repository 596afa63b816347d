/**
 * How a merchant is shown: to the API and to the audit trail. Secrets never appear: no ID
 * number, no account number (masked only), no hashes.
 */
import type { Merchant, PendingChange, SettlementAccount } from '../domain/merchant';
import { requirementsOf } from '../domain/merchant';

/** A settlement account as anyone is shown it (a view, an approval request, an event): the number masked. */
export function maskedSettlementAccount(account: SettlementAccount) {
  return {
    account_type: account.account_type,
    account_name: account.account_name,
    account_number_masked: account.account_number_masked,
    bank_name: account.bank_name,
    branch_code: account.branch_code,
  };
}

function showAccount(account: SettlementAccount | null | undefined) {
  if (account === null || account === undefined) return account;
  return maskedSettlementAccount(account);
}

function showLegalRepresentative(representative: Merchant['legal_representative'] | undefined) {
  if (representative === null || representative === undefined) return representative;
  return { name: representative.name, id_number_masked: representative.id_number_masked };
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
    contact: merchant.contact,
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
