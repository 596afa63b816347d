/**
 * Runs a money-moving command once per idempotency key (DESIGN §5, §10): the key, the request's
 * keyed hash and the response are written in the same transaction as the effect. A retry gets
 * the stored response; the same key with another request is refused with 422; a key whose
 * first request is still running makes the retry wait (bounded), then answers 409 — the
 * statuses of the IETF httpapi Idempotency-Key draft (draft-ietf-httpapi-idempotency-key-header §2.7).
 */
import { createHmac } from 'node:crypto';
import stableStringify from 'fast-json-stable-stringify';
import { Conflict, Unprocessable } from '@puhui/errors';
import { sqlState, withTransaction } from '@puhui/postgres';
import type { Pool, PoolClient } from '@puhui/postgres';
import { claimStatements, claimedNow, saveIdempotentResponse, storedResponse } from './store';

/** How long a retry waits for the first request with its key to finish, unless told otherwise. */
const IN_FLIGHT_WAIT_MS_DEFAULT = 5_000;

export interface IdempotencyContext {
  pool: Pool;
  /**
   * Keyed so that a stored request hash cannot be brute-forced back to, say, a card number. A
   * service's own secret for this one purpose, IDEMPOTENCY_REQUEST_HASH_KEY (decision 0020).
   */
  requestHashKey: string;
  /** Default IN_FLIGHT_WAIT_MS_DEFAULT. */
  inFlightWaitMs?: number;
}

export interface IdempotentRequest {
  /** Whose key space: the merchant id, or `operator:<subject>`. */
  scope: string;
  key: string;
  /** What identifies the request: method, path and body. */
  fingerprint: unknown;
}

export interface IdempotentOutcome<Body> {
  status: number;
  body: Body;
  /** The stored answer of an earlier request with the key (`Idempotent-Replayed: true`). */
  replayed: boolean;
}

/** What an effect may ask of the transaction it runs in. */
export interface IdempotentEffectTools {
  /**
   * Registers a step to run last, after the response is stored, just before commit: where a
   * command posts to rows every such command updates (the programme's shared ledger accounts),
   * so that their row locks are held for as short a time as possible.
   */
  beforeCommit: (step: (client: PoolClient) => Promise<void>) => void;
}

/** The request's HMAC-SHA-256 over its JSON with keys sorted, so that `{a,b}` and `{b,a}` hash alike. */
export function requestHash(requestHashKey: string, fingerprint: unknown): string {
  return createHmac('sha256', requestHashKey).update(stableStringify(fingerprint)).digest('hex');
}

export async function runIdempotently<Body>(
  context: IdempotencyContext,
  request: IdempotentRequest,
  status: number,
  effect: (client: PoolClient, tools: IdempotentEffectTools) => Promise<Body>,
): Promise<IdempotentOutcome<Body>> {
  const hash = requestHash(context.requestHashKey, request.fingerprint);
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
        const lastSteps: Array<(client: PoolClient) => Promise<void>> = [];
        const body = await effect(client, { beforeCommit: (step) => lastSteps.push(step) });
        await saveIdempotentResponse(client, request.scope, request.key, status, body);
        for (const step of lastSteps) await step(client);
        return { status, body, replayed: false };
      },
      // The key is claimed in the round trip that begins the transaction.
      {
        beginWith: claimStatements(
          request.scope,
          request.key,
          hash,
          `${context.inFlightWaitMs ?? IN_FLIGHT_WAIT_MS_DEFAULT}ms`,
        ),
      },
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
