import type { PoolClient } from 'pg';

export interface StoredResponse {
  request_hash: string;
  response_status: number;
  response_body: unknown;
}

/**
 * Claims the key inside the caller's transaction. A concurrent request with the same key
 * waits here until the first commits (then finds its response) or rolls back (then claims
 * it), at most `inFlightWait` (then 55P03, lock_not_available). Returns the stored response
 * when the key was used before.
 *
 * One round trip for the usual case: the wait bound, the claim and the bound's removal go
 * as one simple-protocol query (values escaped by the driver), since only the claim may wait
 * that briefly; later locks of the transaction wait as long as they need.
 */
export async function claimIdempotencyKey(
  client: PoolClient,
  scope: string,
  key: string,
  requestHash: string,
  inFlightWait: string,
): Promise<StoredResponse | undefined> {
  const results = (await client.query(
    `SET LOCAL lock_timeout = ${client.escapeLiteral(inFlightWait)};
     INSERT INTO idempotency_keys (scope, idempotency_key, request_hash, response_status, response_body)
     VALUES (${client.escapeLiteral(scope)}, ${client.escapeLiteral(key)}, ${client.escapeLiteral(requestHash)}, 0, 'null')
     ON CONFLICT DO NOTHING;
     SET LOCAL lock_timeout = 0`,
  )) as unknown as Array<{ rowCount: number | null }>;
  if (results[1]?.rowCount === 1) return undefined;
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
  await client.query({
    name: 'settlement-save-idempotent-response',
    text: 'UPDATE idempotency_keys SET response_status = $3, response_body = $4 WHERE scope = $1 AND idempotency_key = $2',
    values: [scope, key, status, JSON.stringify(body)],
  });
}
