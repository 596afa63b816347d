import type { Queryable } from '@puhui/postgres';
import type { ApiKeyRecord } from '../domain/api-key';

interface ApiKeyRow extends Omit<ApiKeyRecord, 'created_at' | 'expires_at' | 'revoked_at'> {
  created_at: Date;
  expires_at: Date | null;
  revoked_at: Date | null;
}

function toRecord(row: ApiKeyRow): ApiKeyRecord {
  return {
    ...row,
    created_at: row.created_at.toISOString(),
    expires_at: row.expires_at?.toISOString() ?? null,
    revoked_at: row.revoked_at?.toISOString() ?? null,
  };
}

const COLUMNS =
  'key_id, merchant_id, prefix, key_hash, created_at, created_by, expires_at, revoked_at, scopes';

export async function insertApiKey(client: Queryable, key: ApiKeyRecord): Promise<void> {
  await client.query(
    `INSERT INTO merchant_api_keys (${COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
    [
      key.key_id,
      key.merchant_id,
      key.prefix,
      key.key_hash,
      key.created_at,
      key.created_by,
      key.expires_at,
      key.revoked_at,
      key.scopes,
    ],
  );
}

export async function listApiKeys(client: Queryable, merchantId: string): Promise<ApiKeyRecord[]> {
  const { rows } = await client.query<ApiKeyRow>(
    `SELECT ${COLUMNS} FROM merchant_api_keys WHERE merchant_id = $1 ORDER BY created_at, key_id`,
    [merchantId],
  );
  return rows.map(toRecord);
}

/** Keys that still work now (not revoked, or revoked with an overlap not yet over). */
export async function countWorkingApiKeys(client: Queryable, merchantId: string): Promise<number> {
  const { rows } = await client.query<{ count: number }>(
    `SELECT count(*)::int AS count FROM merchant_api_keys
     WHERE merchant_id = $1 AND (expires_at IS NULL OR expires_at > now())`,
    [merchantId],
  );
  return rows[0]?.count ?? 0;
}

/** The key with this hash while it still works, with its merchant's status. */
export async function findWorkingApiKeyByHash(
  client: Queryable,
  keyHash: string,
): Promise<(ApiKeyRecord & { merchant_status: string }) | undefined> {
  const { rows } = await client.query<ApiKeyRow & { merchant_status: string }>(
    `SELECT k.key_id, k.merchant_id, k.prefix, k.key_hash, k.created_at, k.created_by, k.expires_at, k.revoked_at,
            k.scopes, m.status AS merchant_status
     FROM merchant_api_keys k JOIN merchants m USING (merchant_id)
     WHERE k.key_hash = $1 AND (k.expires_at IS NULL OR k.expires_at > now())`,
    [keyHash],
  );
  const row = rows[0];
  return row === undefined ? undefined : { ...toRecord(row), merchant_status: row.merchant_status };
}

/**
 * Revokes a key that still works, letting it work until `expiresAt` at the latest (never
 * later than an earlier revocation allowed); returns it, or undefined if it no longer works.
 */
export async function revokeApiKey(
  client: Queryable,
  merchantId: string,
  keyId: string,
  expiresAt: string,
): Promise<ApiKeyRecord | undefined> {
  const { rows } = await client.query<ApiKeyRow>(
    `UPDATE merchant_api_keys
     SET revoked_at = COALESCE(revoked_at, now()),
         expires_at = LEAST(COALESCE(expires_at, 'infinity'), GREATEST(now(), $3::timestamptz))
     WHERE merchant_id = $1 AND key_id = $2 AND (expires_at IS NULL OR expires_at > now())
     RETURNING ${COLUMNS}`,
    [merchantId, keyId, expiresAt],
  );
  return rows[0] === undefined ? undefined : toRecord(rows[0]);
}

export async function findApiKey(
  client: Queryable,
  merchantId: string,
  keyId: string,
): Promise<ApiKeyRecord | undefined> {
  const { rows } = await client.query<ApiKeyRow>(
    `SELECT ${COLUMNS} FROM merchant_api_keys WHERE merchant_id = $1 AND key_id = $2`,
    [merchantId, keyId],
  );
  return rows[0] === undefined ? undefined : toRecord(rows[0]);
}
