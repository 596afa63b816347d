import type { PoolClient } from 'pg';

export interface StoredResponse {
  request_hash: string;
  response_status: number;
  response_body: unknown;
}

/**
 * Claims the key inside the caller's transaction. A concurrent request with the same key
 * waits here until the first commits (then finds its response) or rolls back (then claims
 * it). Returns the stored response when the key was used before.
 */
export async function claimIdempotencyKey(
  client: PoolClient,
  scope: string,
  key: string,
  requestHash: string,
): Promise<StoredResponse | undefined> {
  const claimed = await client.query(
    `INSERT INTO idempotency_keys (scope, idempotency_key, request_hash, response_status, response_body)
     VALUES ($1, $2, $3, 0, 'null') ON CONFLICT DO NOTHING`,
    [scope, key, requestHash],
  );
  if (claimed.rowCount === 1) return undefined;
  const { rows } = await client.query<StoredResponse>(
    'SELECT request_hash, response_status, response_body FROM idempotency_keys WHERE scope = $1 AND idempotency_key = $2',
    [scope, key],
  );
  return rows[0];
}

export async function saveIdempotentResponse(
  client: PoolClient,
  scope: string,
  key: string,
  status: number,
  body: unknown,
): Promise<void> {
  await client.query(
    'UPDATE idempotency_keys SET response_status = $3, response_body = $4 WHERE scope = $1 AND idempotency_key = $2',
    [scope, key, status, JSON.stringify(body)],
  );
}
