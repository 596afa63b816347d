/**
 * The three services, reached through the console's proxy (/api/<service>/…), which attaches this
 * person's short-lived token. Their types come from the services' own OpenAPI documents.
 */
import type {
  components as MerchantOnboarding,
  operations as MerchantOnboardingOperations,
} from '../../../../../docs/api/types/merchant-onboarding';
import type { components as TransactionSettlement } from '../../../../../docs/api/types/transaction-settlement';
import type { ApprovalRequest, ServiceName } from './console';
import { get, post } from './http';

export type Merchant = MerchantOnboarding['schemas']['Merchant'];
export type RevealedPersonalData = MerchantOnboarding['schemas']['RevealedPersonalData'];
/** A field the service may reveal, as its document names them: a field it drops fails the typecheck here. */
export type RevealableField =
  MerchantOnboardingOperations['revealMerchantPersonalData']['requestBody']['content']['application/json']['fields'][number];
/** What an admin may see in full (decision 0016), in the order the dialog offers them. */
export const REVEALABLE_FIELDS = [
  'contact.name',
  'contact.mobile',
  'contact.email',
  'legal_representative.name',
  'settlement_account.account_number',
] as const satisfies readonly RevealableField[];
export type MerchantStatus = Merchant['status'];
export type SettlementBatch = TransactionSettlement['schemas']['SettlementBatch'];
export type BatchStatus = SettlementBatch['status'];

export interface Page<T> {
  data: T[];
  has_more: boolean;
}

function query(parameters: Record<string, string | number | undefined>): string {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(parameters)) {
    if (value !== undefined && value !== '') search.set(name, String(value));
  }
  const text = search.toString();
  return text === '' ? '' : `?${text}`;
}

export interface ListFilter<S> {
  status?: S;
  starting_after?: string;
  limit?: number;
}

export const servicesApi = {
  merchants: (filter: ListFilter<MerchantStatus>) =>
    get<Page<Merchant>>(`/api/merchant-onboarding/v1/merchants${query({ ...filter })}`),
  merchant: (id: string) => get<Merchant>(`/api/merchant-onboarding/v1/merchants/${encodeURIComponent(id)}`),
  /** The plaintext of `fields`, audited with `reason`; never cached (the answer is no-store, and no query keeps it). */
  revealPersonalData: (id: string, fields: readonly RevealableField[], reason: string) =>
    post<RevealedPersonalData>(
      `/api/merchant-onboarding/v1/merchants/${encodeURIComponent(id)}/personal_data/reveal`,
      { fields, reason },
    ),
  settlementBatches: (filter: ListFilter<BatchStatus>) =>
    get<Page<SettlementBatch>>(`/api/transaction-settlement/v1/settlement_batches${query({ ...filter })}`),
  decide: (service: ServiceName, id: string, decision: 'approve' | 'reject', reason: string | undefined) =>
    post<ApprovalRequest>(
      `/api/${service}/v1/approval_requests/${encodeURIComponent(id)}/${decision}`,
      reason === undefined || reason === '' ? {} : { reason },
    ),
};
