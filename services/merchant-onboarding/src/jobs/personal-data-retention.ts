/**
 * The retention job (decision 0017, PIPL art. 19 and 47): a terminated merchant's personal data
 * is kept PERSONAL_DATA_RETENTION_DAYS after its termination (disputes, late refunds and
 * reconciliation exceptions may still need its contact), then erased. What is erased:
 *
 * - the contact's sealed name, mobile and e-mail, and the mobile's keyed hash (beside the masked
 *   mobile, the hash would give the number back to anyone with the key in 10^4 guesses);
 * - the legal representative's sealed name;
 * - a personal settlement account's sealed number (a person's bank account), its holder's name
 *   masked; a corporate account is the company's, not personal data, and stays.
 *
 * What is kept: the masked forms (the same the append-only audit trail already holds), the ID
 * number's keyed hash (to recognise the representative of a merchant terminated for cause who
 * applies again) and the account number's masked form, last 4 and hash (a bank return or a
 * dispute about a past payout names the account). The ledger, batches and payouts are financial
 * records, kept for the accounting period in settlement.
 *
 * Each erasure is one transaction with its audit entry (`personal_data_erased`): the entry is
 * also what marks the merchant done, so a pass after a crash picks up where it stopped and
 * never erases twice. A leader job: one instance at a time.
 */
import { DAY_MS, MINUTE_MS } from '@puhui/config';
import type { Logger } from '@puhui/logging';
import { withTransaction } from '@puhui/postgres';
import type { Pool } from '@puhui/postgres';
import { maskPersonName } from '@puhui/security';
import type { Job } from '@puhui/service';
import { appendAudit } from '../store/audit';
import { findMerchant, lockMerchant } from '../store/merchants';
import {
  PERSONAL_DATA_ERASED_ACTION,
  erasePersonalFields,
  merchantsDueForErasure,
  personalDataErased,
} from '../store/retention';
import type { ErasureDue, ErasureKeys } from '../store/retention';
import { merchantView } from '../views/merchant';

/**
 * The keys erased from each personal column: the sealed values and the hashes not needed for
 * matching (see the module comment), and the plaintext keys of a row stored before decision
 * 0016 that its boot step has not sealed yet (erasing must not depend on it: the retention job
 * runs after it, but a row it failed on would otherwise keep its plaintext and fail the
 * database's guard). The one place to change when the stored shape changes.
 */
export const ERASED_KEYS: ErasureKeys = {
  contact: ['name', 'mobile', 'email', 'name_sealed', 'mobile_sealed', 'mobile_hash', 'email_sealed'],
  legal_representative: ['name', 'name_sealed'],
  personal_settlement_account: ['account_number_sealed', 'account_name_sealed', 'account_name_hash'],
};

/** Merchants erased per pass, each its own transaction; more wait for the next pass (an hour later by default). */
export const ERASURES_PER_PASS_MAX = 500;
/** 500 erasures of a few statements each take seconds; a pass still running after 5 min is stuck. */
const PASS_TIMEOUT_MS = 5 * MINUTE_MS;
const RETENTION_ACTOR = 'service:merchant-onboarding';

export interface RetentionSettings {
  retentionDays: number;
  /** "Now", a parameter so that a test can be years later without waiting for them. */
  now?: () => Date;
}

/** Erases one due merchant's personal data with its audit entry; false when there was nothing left to do. */
async function eraseOne(pool: Pool, due: ErasureDue, retentionDays: number, now: Date): Promise<boolean> {
  return withTransaction(pool, async (client) => {
    const before = await lockMerchant(client, due.merchant_id);
    // Under the row lock: a pass abandoned on timeout may still be finishing this merchant.
    if (before?.status !== 'terminated' || (await personalDataErased(client, due.merchant_id))) return false;
    const account = before.settlement_account;
    const maskedHolder = account?.account_type === 'personal' ? maskPersonName(account.account_name) : null;
    const erasedAt = now.toISOString();
    await erasePersonalFields(client, due.merchant_id, ERASED_KEYS, erasedAt, maskedHolder);
    const after = await findMerchant(client, due.merchant_id);
    if (after === undefined) throw new Error(`merchant ${due.merchant_id} vanished inside its own lock`);
    await appendAudit(client, {
      merchant_id: due.merchant_id,
      action: PERSONAL_DATA_ERASED_ACTION,
      actor: RETENTION_ACTOR,
      request_id: null,
      before: merchantView(before),
      after: {
        ...merchantView(after),
        personal_data_erased: {
          reason: 'retention',
          terminated_at: due.terminated_at,
          retention_days: retentionDays,
          erased_keys: ERASED_KEYS,
        },
      },
    });
    return true;
  });
}

/** One pass: erases what is due (at most ERASURES_PER_PASS_MAX); answers the merchants erased. */
export async function erasePersonalDataDue(
  pool: Pool,
  settings: RetentionSettings,
  signal?: AbortSignal,
): Promise<string[]> {
  const now = settings.now?.() ?? new Date();
  const cutoff = new Date(now.getTime() - settings.retentionDays * DAY_MS);
  const erased: string[] = [];
  for (const due of await merchantsDueForErasure(pool, cutoff, ERASURES_PER_PASS_MAX)) {
    if (signal?.aborted === true) break;
    if (await eraseOne(pool, due, settings.retentionDays, now)) erased.push(due.merchant_id);
  }
  return erased;
}

export function personalDataRetentionJob(
  pool: Pool,
  logger: Logger,
  settings: RetentionSettings & { intervalMs: number },
): Job {
  return {
    name: 'personal data retention',
    intervalMs: settings.intervalMs,
    timeoutMs: PASS_TIMEOUT_MS,
    leader: true,
    run: async (signal) => {
      const erased = await erasePersonalDataDue(pool, settings, signal);
      for (const merchantId of erased) {
        logger.info(
          { merchant_id: merchantId, retention_days: settings.retentionDays },
          'personal data erased (retention)',
        );
      }
    },
  };
}
