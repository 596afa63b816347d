/**
 * Merchant rows. One SQL statement per function; callers pass the transaction client.
 */
import { pageOf, pageRowsLimit } from '@puhui/postgres';
import type { Page, PageRequest, PoolClient, Queryable } from '@puhui/postgres';
import type { MerchantCategory, MerchantStatus } from '@puhui/contracts';
import type { Merchant, PendingApproval } from '../domain/merchant';

/** The row as pg returns it: the domain merchant with Dates where it has ISO strings. */
type MerchantRow = Omit<
  Merchant,
  'created_at' | 'updated_at' | 'submitted_at' | 'decided_at' | 'settlement_account_changed_at'
> & {
  pending_approval: PendingApproval | null;
  created_at: Date;
  updated_at: Date;
  submitted_at: Date | null;
  decided_at: Date | null;
  settlement_account_changed_at: Date | null;
};

const iso = (value: Date | null): string | null => (value === null ? null : value.toISOString());

function toMerchant(row: MerchantRow): Merchant {
  return {
    ...row,
    created_at: row.created_at.toISOString(),
    updated_at: row.updated_at.toISOString(),
    submitted_at: iso(row.submitted_at),
    decided_at: iso(row.decided_at),
    settlement_account_changed_at: iso(row.settlement_account_changed_at),
    pending_approval:
      row.pending_approval === null
        ? null
        : {
            ...row.pending_approval,
            requested_at: new Date(row.pending_approval.requested_at).toISOString(),
          },
  };
}

const COLUMNS = `merchant_id, status, legal_name, display_name, credit_code, category, mcc, region_code, address,
  contact, legal_representative, settlement_account, outlets, pending_change, status_reason,
  created_at, updated_at, submitted_at, decided_at, decided_by, settlement_account_changed_at`;

/**
 * The request on the merchant still waiting for a second person (libs/dual-control's table, in
 * this database), read with every merchant so that no write can forget it. At most one waits:
 * the commands that record one refuse a second under the merchant's row lock.
 */
const PENDING_APPROVAL = `(SELECT jsonb_build_object('approval_request_id', a.id, 'action', a.action,
    'requested_by', a.requested_by, 'requested_at', a.requested_at)
  FROM approval_requests a
  WHERE a.target_type = 'merchant' AND a.target_id = merchants.merchant_id AND a.status = 'pending'
  ORDER BY a.sequence LIMIT 1) AS pending_approval`;

function values(merchant: Merchant): unknown[] {
  const json = (value: unknown) => (value === null ? null : JSON.stringify(value));
  return [
    merchant.merchant_id,
    merchant.status,
    merchant.legal_name,
    merchant.display_name,
    merchant.credit_code,
    merchant.category,
    merchant.mcc,
    merchant.region_code,
    merchant.address,
    json(merchant.contact),
    json(merchant.legal_representative),
    json(merchant.settlement_account),
    JSON.stringify(merchant.outlets),
    json(merchant.pending_change),
    merchant.status_reason,
    merchant.created_at,
    merchant.updated_at,
    merchant.submitted_at,
    merchant.decided_at,
    merchant.decided_by,
    merchant.settlement_account_changed_at,
  ];
}

export async function insertMerchant(client: Queryable, merchant: Merchant): Promise<void> {
  await client.query(
    `INSERT INTO merchants (${COLUMNS})
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21)`,
    values(merchant),
  );
}

/** Writes every column of an existing merchant (the caller holds its row lock). */
export async function saveMerchant(client: Queryable, merchant: Merchant): Promise<void> {
  await client.query(
    `UPDATE merchants SET status = $2, legal_name = $3, display_name = $4, credit_code = $5, category = $6,
       mcc = $7, region_code = $8, address = $9, contact = $10, legal_representative = $11,
       settlement_account = $12, outlets = $13, pending_change = $14, status_reason = $15,
       created_at = $16, updated_at = $17, submitted_at = $18, decided_at = $19, decided_by = $20,
       settlement_account_changed_at = $21
     WHERE merchant_id = $1`,
    values(merchant),
  );
}

export async function findMerchant(client: Queryable, merchantId: string): Promise<Merchant | undefined> {
  const { rows } = await client.query<MerchantRow>(
    `SELECT ${COLUMNS}, ${PENDING_APPROVAL} FROM merchants WHERE merchant_id = $1`,
    [merchantId],
  );
  return rows[0] === undefined ? undefined : toMerchant(rows[0]);
}

/**
 * Locks the merchant's row for the rest of the transaction: two operators deciding at the
 * same moment are serialised here, and the second sees the first one's outcome.
 */
export async function lockMerchant(client: PoolClient, merchantId: string): Promise<Merchant | undefined> {
  const { rows } = await client.query<MerchantRow>(
    `SELECT ${COLUMNS}, ${PENDING_APPROVAL} FROM merchants WHERE merchant_id = $1 FOR UPDATE OF merchants`,
    [merchantId],
  );
  return rows[0] === undefined ? undefined : toMerchant(rows[0]);
}

export interface MerchantFilter extends PageRequest {
  status?: MerchantStatus;
  category?: MerchantCategory;
  region_code?: string;
  /** Matches legal or display name, case-insensitively, anywhere. */
  name?: string;
}

/** One page in id order (ids sort by creation time); fetches one extra row to tell has_more. */
export async function listMerchants(client: Queryable, filter: MerchantFilter): Promise<Page<Merchant>> {
  const pattern = filter.name === undefined ? null : `%${filter.name.replace(/[\\%_]/gu, (c) => `\\${c}`)}%`;
  const { rows } = await client.query<MerchantRow>(
    `SELECT ${COLUMNS}, ${PENDING_APPROVAL} FROM merchants
     WHERE ($1::text IS NULL OR status = $1)
       AND ($2::text IS NULL OR category = $2)
       AND ($3::text IS NULL OR region_code = $3)
       AND ($4::text IS NULL OR legal_name ILIKE $4 OR display_name ILIKE $4)
       AND ($5::text IS NULL OR merchant_id > $5)
     ORDER BY merchant_id
     LIMIT $6`,
    [
      filter.status ?? null,
      filter.category ?? null,
      filter.region_code ?? null,
      pattern,
      filter.starting_after ?? null,
      pageRowsLimit(filter),
    ],
  );
  return pageOf(rows.map(toMerchant), filter);
}

/**
 * A merchant row as stored before decision 0016 might still have it: the personal columns as
 * raw JSON (a plaintext contact or representative name, a v1 sealed account number).
 */
export interface StoredPersonalColumns {
  merchant_id: string;
  status: MerchantStatus;
  contact: Record<string, unknown> | null;
  legal_representative: Record<string, unknown> | null;
  settlement_account: Record<string, unknown> | null;
  pending_change: Record<string, unknown> | null;
}

/** Rows migrations 0004's and 0005's guards would refuse: plaintext personal fields (a personal holder too) or v1 seals. */
const STORED_BEFORE_SEALING = `contact ?| ARRAY['name', 'mobile', 'email']
  OR legal_representative ? 'name'
  OR pending_change -> 'legal_representative' ? 'name'
  OR settlement_account ->> 'account_number_sealed' LIKE 'v1.%'
  OR pending_change -> 'settlement_account' ->> 'account_number_sealed' LIKE 'v1.%'
  OR (settlement_account ->> 'account_type' = 'personal'
      AND NOT settlement_account ?| ARRAY['account_name_sealed', 'erased_at'])
  OR (pending_change -> 'settlement_account' ->> 'account_type' = 'personal'
      AND NOT pending_change -> 'settlement_account' ?| ARRAY['account_name_sealed', 'erased_at'])`;

/** Locks up to `limit` rows still stored before sealing, in id order. */
export async function lockRowsStoredBeforeSealing(
  client: PoolClient,
  limit: number,
): Promise<StoredPersonalColumns[]> {
  const { rows } = await client.query<StoredPersonalColumns>(
    `SELECT merchant_id, status, contact, legal_representative, settlement_account, pending_change
     FROM merchants WHERE ${STORED_BEFORE_SEALING}
     ORDER BY merchant_id LIMIT $1 FOR UPDATE`,
    [limit],
  );
  return rows;
}

/** Writes a row's personal columns, sealed (the caller holds its row lock). */
export async function savePersonalColumns(client: Queryable, row: StoredPersonalColumns): Promise<void> {
  const json = (value: unknown) => (value === null ? null : JSON.stringify(value));
  await client.query(
    `UPDATE merchants SET contact = $2, legal_representative = $3, settlement_account = $4, pending_change = $5
     WHERE merchant_id = $1`,
    [
      row.merchant_id,
      json(row.contact),
      json(row.legal_representative),
      json(row.settlement_account),
      json(row.pending_change),
    ],
  );
}

/** Migrations 0004's and 0005's guards that are still NOT VALID (rows stored before sealing may remain). */
export async function unvalidatedSealingGuards(client: Queryable): Promise<string[]> {
  const { rows } = await client.query<{ name: string }>(
    `SELECT conname AS name FROM pg_constraint
     WHERE conrelid = 'merchants'::regclass AND NOT convalidated
       AND conname = ANY(ARRAY['merchants_contact_sealed', 'merchants_legal_representative_sealed',
                               'merchants_pending_legal_representative_sealed',
                               'merchants_settlement_account_sealed_v2',
                               'merchants_personal_account_holder_sealed',
                               'merchants_pending_personal_account_holder_sealed'])
     ORDER BY conname`,
  );
  return rows.map((row) => row.name);
}

/** Checks every row against a guard once, so that it is VALID from now on (no row is locked from writes). */
export async function validateSealingGuard(client: Queryable, name: string): Promise<void> {
  // The name comes from unvalidatedSealingGuards' fixed list, never from input.
  await client.query(`ALTER TABLE merchants VALIDATE CONSTRAINT ${name}`);
}
