/**
 * Runs a money-moving command once per idempotency key (DESIGN §5): the key, the request's
 * hash and the response are written in the same transaction as the effect. A retry gets
 * the stored response; the same key with another request is refused; a key whose first
 * request is still running makes the retry wait (bounded), then answers 409.
 */
import { Conflict, Unprocessable } from '@puhui/errors';
import { sqlState, withTransaction } from '@puhui/postgres';
import type { PoolClient } from '@puhui/postgres';
import { claimStatements, claimedNow, saveIdempotentResponse, storedResponse } from '../store/idempotency';
import { requestHash } from './context';
import type { IdempotentRequest, SettlementContext } from './context';

/** How long a retry waits for the first request with its key to finish. */
const IN_FLIGHT_WAIT = '5s';

export interface IdempotentOutcome<Body> {
  status: number;
  body: Body;
  replayed: boolean;
}

export interface IdempotentOptions {
  /**
   * Runs last, after the response is stored, just before commit: where a command posts to
   * rows every such command updates (the programme's shared ledger accounts), so that their
   * row locks are held for as short a time as possible.
   */
  beforeCommit?: (client: PoolClient) => Promise<void>;
}

export async function runIdempotently<Body>(
  context: SettlementContext,
  request: IdempotentRequest,
  status: number,
  effect: (client: PoolClient) => Promise<Body>,
  options: IdempotentOptions = {},
): Promise<IdempotentOutcome<Body>> {
  const hash = requestHash(context, request.fingerprint);
  try {
    return await withTransaction(
      context.pool,
      async (client, begun) => {
        const stored = claimedNow(begun)
          ? undefined
          : await storedResponse(client, request.scope, request.key);
        if (stored !== undefined) {
          if (stored.request_hash !== hash) {
            throw new Unprocessable(
              'idempotency_key_reused',
              'This Idempotency-Key was used for a different request.',
            );
          }
          return { status: stored.response_status, body: stored.response_body as Body, replayed: true };
        }
        const body = await effect(client);
        await saveIdempotentResponse(client, request.scope, request.key, status, body);
        await options.beforeCommit?.(client);
        return { status, body, replayed: false };
      },
      // The key is claimed in the round trip that begins the transaction.
      { beginWith: claimStatements(request.scope, request.key, hash, IN_FLIGHT_WAIT) },
    );
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
