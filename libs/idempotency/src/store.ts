/** The idempotency_keys table (migrations/0001_idempotency_keys.sql), one SQL operation a function. */
import { escapeLiteral } from '@puhui/postgres';
import type { PoolClient } from '@puhui/postgres';

export interface StoredResponse {
  request_hash: string;
  response_status: number;
  response_body: unknown;
}

/**
 * The claim of a key, as simple-protocol SQL (values escaped by the driver) for the caller to
 * send with its BEGIN in one round trip: the wait bound, the claim, and the bound's removal,
 * since only the claim may wait that briefly; later locks wait as long as they need. A
 * concurrent request with the same key waits in the INSERT until the first commits (then
 * finds its response) or rolls back (then claims it), at most `inFlightWait` (then 55P03,
 * lock_not_available).
 */
export function claimStatements(
  scope: string,
  key: string,
  requestHash: string,
  inFlightWait: string,
): string {
  return `SET LOCAL lock_timeout = ${escapeLiteral(inFlightWait)};
     INSERT INTO idempotency_keys (scope, idempotency_key, request_hash, response_status, response_body)
     VALUES (${escapeLiteral(scope)}, ${escapeLiteral(key)}, ${escapeLiteral(requestHash)}, 0, 'null')
     ON CONFLICT DO NOTHING;
     SET LOCAL lock_timeout = 0`;
}

/** Whether the statements of `claimStatements` (their results, in order) claimed the key just now. */
export function claimedNow(results: ReadonlyArray<{ rowCount: number | null }>): boolean {
  return results[1]?.rowCount === 1;
}

/** The response stored with a key that was used before. */
export async function storedResponse(
  client: PoolClient,
  scope: string,
  key: string,
): Promise<StoredResponse | undefined> {
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
    name: 'idempotency-save-response',
    text: 'UPDATE idempotency_keys SET response_status = $3, response_body = $4 WHERE scope = $1 AND idempotency_key = $2',
    values: [scope, key, status, JSON.stringify(body)],
  });
}
