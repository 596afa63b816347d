/**
 * The locks of a checkout's money transaction (capture, refund, void), taken in the one order
 * all of them use (decision 0004), so that two of them touching the same rows queue instead of
 * deadlocking: the card's usage rows for the rules (key order), then the merchant's and the
 * budgets' ledger accounts (code order). A refund or void has locked the checkout's row first.
 */
import type { PoolClient } from '@puhui/postgres';
import { usagePeriods } from '../domain/business-day';
import { accountCodes } from '../domain/ledger';
import type { AccountBalance } from '../domain/ledger';
import { lockAccounts } from '../store/ledger';
import { lockUsage } from '../store/usage';
import type { UsageKey } from '../store/usage';

export interface CheckoutLocks {
  card_token: string;
  merchant_id: string;
  /** The rules whose card usage is read or changed, in the day and month of `usage_at`. */
  rule_ids: readonly string[];
  usage_at: Date;
  budget_ids: readonly string[];
  /**
   * A capture puts subsidy in held; a reversal takes it from held or payable, wherever the
   * sale's is, so it locks the payable account too.
   */
  movement: 'capture' | 'reversal';
}

export interface LockedRows {
  /** Usage per `rule_id|period`. */
  usage: Map<string, number>;
  accounts: Map<string, AccountBalance>;
}

/** The usage rows of these rules in the day and month that hold `instant`'s usage. */
export function usageKeys(ruleIds: readonly string[], instant: Date): UsageKey[] {
  const periods = usagePeriods(instant);
  return ruleIds.flatMap((ruleId) => [
    { rule_id: ruleId, period: periods.day },
    { rule_id: ruleId, period: periods.month },
  ]);
}

function merchantAccountCodes(merchantId: string, movement: CheckoutLocks['movement']): string[] {
  const codes = [
    accountCodes.cardReceivable(merchantId),
    accountCodes.subsidyHeld(merchantId),
    accountCodes.discountGiven(merchantId),
  ];
  return movement === 'reversal' ? [...codes, accountCodes.subsidyPayable(merchantId)] : codes;
}

export async function lockCheckoutRows(client: PoolClient, locks: CheckoutLocks): Promise<LockedRows> {
  const usage = await lockUsage(client, locks.card_token, usageKeys(locks.rule_ids, locks.usage_at));
  const accounts = await lockAccounts(client, [
    ...merchantAccountCodes(locks.merchant_id, locks.movement),
    ...locks.budget_ids.map(accountCodes.budget),
  ]);
  return { usage, accounts };
}
