/**
 * Runs a money-moving command once per idempotency key (DESIGN §5): the key, the request's
 * hash and the response are written in the same transaction as the effect. A retry gets
 * the stored response; the same key with another request is refused; a key whose first
 * request is still running makes the retry wait (bounded), then answers 409.
 */
import { Conflict, Unprocessable } from '@puhui/errors';
import { sqlState, withTransaction } from '@puhui/postgres';
import type { PoolClient } from '@puhui/postgres';
import { claimIdempotencyKey, saveIdempotentResponse } from '../store/idempotency';
import { requestHash } from './context';
import type { IdempotentRequest, SettlementContext } from './context';

/** How long a retry waits for the first request with its key to finish. */
const IN_FLIGHT_WAIT = '5s';

export interface IdempotentOutcome<Body> {
  status: number;
  body: Body;
  replayed: boolean;
}

export async function runIdempotently<Body>(
  context: SettlementContext,
  request: IdempotentRequest,
  status: number,
  effect: (client: PoolClient) => Promise<Body>,
): Promise<IdempotentOutcome<Body>> {
  const hash = requestHash(context, request.fingerprint);
  try {
    return await withTransaction(context.pool, async (client) => {
      await client.query(`SET LOCAL lock_timeout = '${IN_FLIGHT_WAIT}'`);
      const stored = await claimIdempotencyKey(client, request.scope, request.key, hash);
      if (stored !== undefined) {
        if (stored.request_hash !== hash) {
          throw new Unprocessable(
            'idempotency_key_reused',
            'This Idempotency-Key was used for a different request.',
          );
        }
        return { status: stored.response_status, body: stored.response_body as Body, replayed: true };
      }
      await client.query('SET LOCAL lock_timeout = 0');
      const body = await effect(client);
      await saveIdempotentResponse(client, request.scope, request.key, status, body);
      return { status, body, replayed: false };
    });
  } catch (error) {
    if (sqlState(error) === '55P03') {
      throw new Conflict(
        'idempotency_key_in_flight',
        'A request with this Idempotency-Key is still being processed.',
      );
    }
    throw error;
  }
}
