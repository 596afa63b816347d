/**
 * The boot step that seals what was stored before decision 0016 (SQL has no key, so migration
 * 0004 could only add the guards, NOT VALID): plaintext contacts and legal representatives' names
 * are sealed for their merchant beside masked forms, v1 sealed account numbers (no owner) are
 * re-sealed as v2 for their merchant, and a personal account's plaintext holder (migration 0005)
 * is sealed beside its masked form. A live merchant whose account was re-sealed is announced
 * again (merchant.updated, the account unchanged but for its seal, settlement_account_changed_at
 * as it was: no cooling-off), so that settlement's replica holds the v2 values it can open and no
 * longer the holder in plaintext. Once no
 * such row is left, the guards are validated: from then on the database itself refuses plaintext.
 *
 * It runs before the service answers, on every instance: each batch takes one advisory lock, so
 * two instances starting together convert each row once and the second finds nothing left.
 */
import { MINUTE_MS } from '@puhui/config';
import { merchantUpdated } from '@puhui/contracts';
import { appendEvent } from '@puhui/events';
import type { Logger } from '@puhui/logging';
import { withTransaction } from '@puhui/postgres';
import type { Pool, PoolClient } from '@puhui/postgres';
import { isLegacySealedField, maskPersonName, resealLegacyField, sealField } from '@puhui/security';
import type { Job } from '@puhui/service';
import { isLive } from '../domain/merchant';
import type { ContactInput } from '../domain/merchant';
import { appendAudit } from '../store/audit';
import {
  findMerchant,
  lockRowsStoredBeforeSealing,
  savePersonalColumns,
  unvalidatedSealingGuards,
  validateSealingGuard,
} from '../store/merchants';
import type { StoredPersonalColumns } from '../store/merchants';
import { EVENT_SOURCE } from './context';
import type { Secrets } from './context';
import { snapshotOf } from './merchant-records';
import { sealContact, sealHolder } from './personal-data';

/** Rows per transaction: each is sealed (about 20 µs a field) and maybe announced; 200 keep a batch under a second. */
const SEALING_BATCH_ROWS = 200;
/** Bound of batches per pass: 200 × 5,000 = a million merchants, far more than a union signs. */
const SEALING_BATCHES_MAX = 5_000;
const SEALING_LOCK = 'merchant-onboarding:personal-data-sealing';

type Row = Record<string, unknown>;

/** What one row's conversion changed, for its audit entry and announcement. */
interface Sealed {
  row: StoredPersonalColumns;
  fields: string[];
}

function sealedRepresentative(value: Row, secrets: Secrets, merchantId: string): Row {
  if (typeof value.name !== 'string') return value;
  const { name, ...rest } = value;
  return {
    ...rest,
    name_masked: maskPersonName(name),
    name_sealed: sealField(name, secrets.fieldKey, merchantId),
  };
}

/** Whether a stored account is personal with its holder still in plaintext (not sealed, not erased). */
export function holderInPlaintext(value: Row): boolean {
  return (
    value.account_type === 'personal' &&
    typeof value.account_name === 'string' &&
    !('account_name_sealed' in value) &&
    !('erased_at' in value)
  );
}

function resealedAccount(value: Row, secrets: Secrets, merchantId: string): Row {
  let next = value;
  const sealed = value.account_number_sealed;
  if (typeof sealed === 'string' && isLegacySealedField(sealed))
    next = { ...next, account_number_sealed: resealLegacyField(sealed, secrets.fieldKey, merchantId) };
  if (holderInPlaintext(value))
    next = { ...next, ...sealHolder(value.account_name as string, secrets, merchantId) };
  return next;
}

/** The row with every plaintext personal field sealed and every v1 seal upgraded; the fields it changed. */
export function sealStoredRow(row: StoredPersonalColumns, secrets: Secrets): Sealed {
  const id = row.merchant_id;
  const fields: string[] = [];
  const next = { ...row };
  if (row.contact !== null && typeof row.contact.mobile === 'string') {
    next.contact = { ...sealContact(row.contact as unknown as ContactInput, secrets, id) } as Row;
    fields.push('contact');
  }
  if (row.legal_representative !== null && typeof row.legal_representative.name === 'string') {
    next.legal_representative = sealedRepresentative(row.legal_representative, secrets, id);
    fields.push('legal_representative');
  }
  if (row.settlement_account !== null) {
    next.settlement_account = resealedAccount(row.settlement_account, secrets, id);
    if (next.settlement_account !== row.settlement_account) fields.push('settlement_account');
  }
  if (row.pending_change !== null) {
    const change = { ...row.pending_change };
    if (change.legal_representative !== null && typeof change.legal_representative === 'object')
      change.legal_representative = sealedRepresentative(change.legal_representative as Row, secrets, id);
    if (change.settlement_account !== null && typeof change.settlement_account === 'object')
      change.settlement_account = resealedAccount(change.settlement_account as Row, secrets, id);
    if (JSON.stringify(change) !== JSON.stringify(row.pending_change)) {
      next.pending_change = change;
      fields.push('pending_change');
    }
  }
  return { row: next, fields };
}

async function sealBatch(client: PoolClient, secrets: Secrets): Promise<number> {
  await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [SEALING_LOCK]);
  const rows = await lockRowsStoredBeforeSealing(client, SEALING_BATCH_ROWS);
  for (const stored of rows) {
    const { row, fields } = sealStoredRow(stored, secrets);
    await savePersonalColumns(client, row);
    await appendAudit(client, {
      merchant_id: row.merchant_id,
      action: 'personal_data_sealed',
      actor: `service:${EVENT_SOURCE}`,
      request_id: null,
      before: null,
      after: { fields },
    });
    if (fields.includes('settlement_account') && isLive(row.status)) {
      const merchant = await findMerchant(client, row.merchant_id);
      if (merchant !== undefined)
        await appendEvent(client, EVENT_SOURCE, {
          definition: merchantUpdated,
          subject: row.merchant_id,
          data: {
            merchant: snapshotOf(merchant),
            changed_fields: ['settlement_account'],
            updated_at: merchant.updated_at,
          },
        });
    }
  }
  return rows.length;
}

/** Seals every row stored before sealing, then validates the guards; answers how many rows it sealed. */
export async function sealStoredPersonalData(
  pool: Pool,
  secrets: Secrets,
  signal?: AbortSignal,
): Promise<number> {
  if ((await unvalidatedSealingGuards(pool)).length === 0) return 0;
  let sealed = 0;
  for (let batch = 0; batch < SEALING_BATCHES_MAX && signal?.aborted !== true; batch += 1) {
    const count = await withTransaction(pool, (client) => sealBatch(client, secrets));
    sealed += count;
    if (count < SEALING_BATCH_ROWS) break;
  }
  if (signal?.aborted !== true)
    for (const guard of await unvalidatedSealingGuards(pool)) await validateSealingGuard(pool, guard);
  return sealed;
}

/**
 * The boot step as a job: its first pass runs before HTTP answers; later passes (every 10
 * minutes) find the guards valid and return at once, or finish what a failed first pass left.
 */
export function personalDataSealingJob(pool: Pool, secrets: Secrets, logger: Logger): Job {
  return {
    name: 'personal data sealing',
    intervalMs: 10 * MINUTE_MS,
    timeoutMs: 10 * MINUTE_MS,
    beforeStart: true,
    run: async (signal) => {
      const sealed = await sealStoredPersonalData(pool, secrets, signal);
      if (sealed > 0) logger.info({ merchants: sealed }, 'personal data stored before sealing sealed');
    },
  };
}
