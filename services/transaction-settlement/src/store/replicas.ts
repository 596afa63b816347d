/** Local replicas of other services' facts, written only by event consumers. */
import type { Queryable } from '@puhui/postgres';
import type { MerchantKeyScope, MerchantSnapshot } from '@puhui/contracts';
import type { MerchantReplica } from '../domain/merchant';

/** The merchant as announced, unless the row reflects a later event; false when nothing changed. */
export async function upsertMerchant(
  client: Queryable,
  merchant: MerchantSnapshot,
  sequence: bigint,
): Promise<boolean> {
  const result = await client.query(
    `INSERT INTO merchants (merchant_id, status, category, display_name, legal_name, settlement_account,
       settlement_account_changed_at, last_sequence, updated_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, now())
     ON CONFLICT (merchant_id) DO UPDATE SET status = EXCLUDED.status, category = EXCLUDED.category,
       display_name = EXCLUDED.display_name, legal_name = EXCLUDED.legal_name,
       settlement_account = EXCLUDED.settlement_account,
       settlement_account_changed_at = EXCLUDED.settlement_account_changed_at,
       last_sequence = EXCLUDED.last_sequence, updated_at = now()
     WHERE merchants.last_sequence < EXCLUDED.last_sequence`,
    [
      merchant.merchant_id,
      merchant.status,
      merchant.category,
      merchant.display_name,
      merchant.legal_name,
      JSON.stringify(merchant.settlement_account),
      merchant.settlement_account_changed_at ?? null,
      sequence.toString(),
    ],
  );
  return (result.rowCount ?? 0) > 0;
}

export async function findMerchant(
  client: Queryable,
  merchantId: string,
): Promise<MerchantReplica | undefined> {
  const { rows } = await client.query<MerchantReplica>(
    'SELECT merchant_id, status, category, display_name FROM merchants WHERE merchant_id = $1',
    [merchantId],
  );
  return rows[0];
}

/**
 * A key as announced. A revocation carries no scopes (`scopes` undefined): it changes only
 * when the key stops working, and a key first seen through its revocation gets the column's
 * default, which it can no longer use beyond `works_until` anyway.
 */
export async function upsertApiKey(
  client: Queryable,
  key: {
    key_hash: string;
    key_id: string;
    merchant_id: string;
    prefix: string;
    works_until: string | null;
    scopes?: readonly MerchantKeyScope[];
  },
): Promise<void> {
  await client.query(
    `INSERT INTO merchant_api_keys (key_hash, key_id, merchant_id, prefix, works_until, scopes)
     VALUES ($1, $2, $3, $4, $5, COALESCE($6::text[], '{checkout,keys}'))
     ON CONFLICT (key_hash) DO UPDATE SET works_until = EXCLUDED.works_until,
       scopes = COALESCE($6::text[], merchant_api_keys.scopes)`,
    [key.key_hash, key.key_id, key.merchant_id, key.prefix, key.works_until, key.scopes ?? null],
  );
}

/** The merchant of a key that works now. */
export async function findWorkingKey(
  client: Queryable,
  keyHash: string,
): Promise<{ merchant_id: string; key_id: string; scopes: MerchantKeyScope[] } | undefined> {
  const { rows } = await client.query<{ merchant_id: string; key_id: string; scopes: MerchantKeyScope[] }>(
    `SELECT merchant_id, key_id, scopes FROM merchant_api_keys
     WHERE key_hash = $1 AND (works_until IS NULL OR works_until > now())`,
    [keyHash],
  );
  return rows[0];
}

/**
 * The merchant of a key that works now, with the merchant itself: a merchant's request is
 * authenticated and its merchant read in one round trip.
 */
export async function findWorkingKeyWithMerchant(
  client: Queryable,
  keyHash: string,
): Promise<
  { merchant_id: string; key_id: string; scopes: MerchantKeyScope[]; merchant: MerchantReplica } | undefined
> {
  const { rows } = await client.query<{ key_id: string; scopes: MerchantKeyScope[] } & MerchantReplica>({
    name: 'settlement-working-key-with-merchant',
    text: `SELECT k.key_id, k.scopes, m.merchant_id, m.status, m.category, m.display_name
     FROM merchant_api_keys k JOIN merchants m USING (merchant_id)
     WHERE k.key_hash = $1 AND (k.works_until IS NULL OR k.works_until > now())`,
    values: [keyHash],
  });
  const row = rows[0];
  if (row === undefined) return undefined;
  const { key_id: keyId, scopes, ...merchant } = row;
  return { merchant_id: merchant.merchant_id, key_id: keyId, scopes, merchant };
}

/** Whether the replica holds the key and its merchant, working or not (revoked, expired). */
export async function holdsKeyWithMerchant(client: Queryable, keyHash: string): Promise<boolean> {
  const { rows } = await client.query<{ holds: boolean }>(
    `SELECT EXISTS (SELECT 1 FROM merchant_api_keys k JOIN merchants m USING (merchant_id) WHERE k.key_hash = $1) AS holds`,
    [keyHash],
  );
  return rows[0]?.holds === true;
}

export async function insertBudget(
  client: Queryable,
  budget: { budget_id: string; name: string; union_id: string; account_code: string },
): Promise<void> {
  await client.query(
    `INSERT INTO budgets (budget_id, name, union_id, account_code) VALUES ($1, $2, $3, $4)
     ON CONFLICT (budget_id) DO NOTHING`,
    [budget.budget_id, budget.name, budget.union_id, budget.account_code],
  );
}

export async function findBudget(
  client: Queryable,
  budgetId: string,
): Promise<{ budget_id: string; account_code: string; name: string; union_id: string } | undefined> {
  const { rows } = await client.query<{
    budget_id: string;
    account_code: string;
    name: string;
    union_id: string;
  }>('SELECT budget_id, account_code, name, union_id FROM budgets WHERE budget_id = $1', [budgetId]);
  return rows[0];
}

/**
 * Who a merchant's payouts go to: its legal name and (sealed) settlement account, and when that
 * account last changed (the payment file's cooling-off starts then).
 */
export interface Payee {
  legal_name: string;
  settlement_account: Record<string, string>;
  settlement_account_changed_at: Date | null;
}

export async function findPayee(client: Queryable, merchantId: string): Promise<Payee | undefined> {
  const { rows } = await client.query<Payee>(
    'SELECT legal_name, settlement_account, settlement_account_changed_at FROM merchants WHERE merchant_id = $1',
    [merchantId],
  );
  return rows[0];
}
