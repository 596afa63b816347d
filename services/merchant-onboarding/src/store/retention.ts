/**
 * The retention of terminated merchants' personal fields (decision 0017). One SQL statement per
 * function; callers pass the transaction client. Which keys of the personal JSON columns are
 * erased is the caller's list (jobs/personal-data-retention.ts), so that a change of what is
 * stored there changes that list only.
 */
import type { Queryable } from '@puhui/postgres';

/** The audit action of an erasure: also how a merchant already erased is told apart. */
export const PERSONAL_DATA_ERASED_ACTION = 'personal_data_erased';

export interface ErasureDue {
  merchant_id: string;
  terminated_at: string;
}

/**
 * When the merchant was terminated: its `terminate` audit entry (written in the termination's
 * own transaction), else — a row from before audits existed — its last update.
 */
const TERMINATED_AT = `coalesce(
  (SELECT max(a.occurred_at) FROM audit_events a WHERE a.merchant_id = m.merchant_id AND a.action = 'terminate'),
  m.updated_at)`;

/** Terminated merchants whose termination is older than `cutoff` and not erased yet, oldest first. */
export async function merchantsDueForErasure(
  client: Queryable,
  cutoff: Date,
  limit: number,
): Promise<ErasureDue[]> {
  const { rows } = await client.query<{ merchant_id: string; terminated_at: Date }>(
    `SELECT m.merchant_id, t.terminated_at
     FROM merchants m CROSS JOIN LATERAL (SELECT ${TERMINATED_AT} AS terminated_at) t
     WHERE m.status = 'terminated' AND t.terminated_at < $1
       AND NOT EXISTS (SELECT 1 FROM audit_events e WHERE e.merchant_id = m.merchant_id AND e.action = $2)
     ORDER BY t.terminated_at, m.merchant_id
     LIMIT $3`,
    [cutoff, PERSONAL_DATA_ERASED_ACTION, limit],
  );
  return rows.map((row) => ({
    merchant_id: row.merchant_id,
    terminated_at: row.terminated_at.toISOString(),
  }));
}

/** Whether the merchant's personal data was erased already (its erasure audit entry exists). */
export async function personalDataErased(client: Queryable, merchantId: string): Promise<boolean> {
  const { rows } = await client.query(
    'SELECT 1 FROM audit_events WHERE merchant_id = $1 AND action = $2 LIMIT 1',
    [merchantId, PERSONAL_DATA_ERASED_ACTION],
  );
  return rows.length > 0;
}

/** Which keys of each personal JSON column an erasure removes. */
export interface ErasureKeys {
  contact: readonly string[];
  legal_representative: readonly string[];
  /** Of a personal settlement account only (a person's account); a corporate one is the company's. */
  personal_settlement_account: readonly string[];
}

/**
 * Removes `keys` from a terminated merchant's personal columns and marks each column it touched
 * with `erased_at`; a personal account's holder is replaced by `personalAccountNameMasked`.
 * Answers whether the row was changed (false: not terminated, or gone).
 */
export async function erasePersonalFields(
  client: Queryable,
  merchantId: string,
  keys: ErasureKeys,
  erasedAt: string,
  personalAccountNameMasked: string | null,
): Promise<boolean> {
  const { rowCount } = await client.query(
    `UPDATE merchants SET
       contact = CASE WHEN contact IS NULL THEN NULL
         ELSE (contact - $2::text[]) || jsonb_build_object('erased_at', $5::text) END,
       legal_representative = CASE WHEN legal_representative IS NULL THEN NULL
         ELSE (legal_representative - $3::text[]) || jsonb_build_object('erased_at', $5::text) END,
       settlement_account = CASE WHEN settlement_account ->> 'account_type' = 'personal'
         THEN (settlement_account - $4::text[])
           || jsonb_build_object('account_name', coalesce($6::text, '*'), 'erased_at', $5::text)
         ELSE settlement_account END,
       updated_at = $5::timestamptz
     WHERE merchant_id = $1 AND status = 'terminated'`,
    [
      merchantId,
      keys.contact,
      keys.legal_representative,
      keys.personal_settlement_account,
      erasedAt,
      personalAccountNameMasked,
    ],
  );
  return rowCount === 1;
}
