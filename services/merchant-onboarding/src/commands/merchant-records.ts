/**
 * What the merchant commands share: the locked read, the audit entry, the replicas' snapshot
 * and the masked views a checker and the events are shown.
 */
import assert from 'node:assert/strict';
import type { MerchantSnapshot } from '@puhui/contracts';
import type { ApprovalRequestView } from '@puhui/dual-control';
import { Conflict, Forbidden, NotFound, ValidationFailed } from '@puhui/errors';
import type { PoolClient } from '@puhui/postgres';
import { accountNameProblem } from '../domain/merchant';
import type { ApplicationFields, Merchant, PendingApproval, SettlementAccount } from '../domain/merchant';
import { maskedSettlementAccount, merchantView } from '../views/merchant';
import { appendAudit } from '../store/audit';
import { lockMerchant } from '../store/merchants';
import type { Actor, CommandContext } from './context';

export function assertAccountName(
  fields: Pick<ApplicationFields, 'legal_name' | 'settlement_account'>,
): void {
  const problem = accountNameProblem(fields);
  if (problem !== null)
    throw new ValidationFailed([{ name: 'settlement_account.account_name', reason: problem }]);
}

export async function lockOrNotFound(client: PoolClient, merchantId: string): Promise<Merchant> {
  const merchant = await lockMerchant(client, merchantId);
  if (merchant === undefined) throw new NotFound(`Merchant ${merchantId}`);
  return merchant;
}

export async function audit(
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

export function rethrowDuplicateCreditCode(error: unknown): never {
  if ((error as { constraint?: string }).constraint === 'merchants_credit_code_live') {
    throw new Conflict('duplicate_credit_code', 'A live merchant already has this credit code.');
  }
  throw error;
}

/** The person acting; a merchant key never records or decides a request. */
export function operatorOf(context: CommandContext) {
  if (context.operator === null) throw new Forbidden('Only an admin asks for this.');
  return context.operator;
}

/** What the checker is shown of a merchant: the API's view (personal fields masked). */
export function shownToChecker(merchant: Merchant): Record<string, unknown> {
  const { requirements: _requirements, pending_approval: _pending, ...view } = merchantView(merchant);
  return view;
}

export function pendingApprovalOf(
  request: ApprovalRequestView,
  action: PendingApproval['action'],
): PendingApproval {
  return {
    approval_request_id: request.id,
    action,
    requested_by: request.requested_by,
    requested_at: request.requested_at,
  };
}

export function maskedAccount(account: SettlementAccount | null) {
  assert.ok(account !== null, 'a live merchant has a settlement account');
  return maskedSettlementAccount(account);
}

/** The replicas' view of a merchant that has been approved (every field present). */
export function snapshotOf(merchant: Merchant): MerchantSnapshot {
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
      ...(account.account_name_sealed === undefined
        ? {}
        : { account_name_sealed: account.account_name_sealed }),
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
