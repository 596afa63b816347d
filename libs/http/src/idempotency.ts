/**
 * The HTTP side of an `Idempotency-Key` (DESIGN §10; @puhui/idempotency stores the key): the
 * header every money-moving POST requires, what such an operation documents, and how its
 * outcome is sent. The statuses follow the IETF httpapi Idempotency-Key draft: 422 for a key
 * reused with another request, 409 while the first request with the key is still in flight.
 */
import type { Response } from 'express';
import { z } from 'zod';
import type { Operation, OperationRequest, OperationResponse } from './operations';

/** The longest key taken (and the idempotency_keys table's CHECK). */
const IDEMPOTENCY_KEY_LENGTH_MAX = 255;

export const idempotencyKeyHeaders = z.object({
  'idempotency-key': z
    .string('Idempotency-Key is required on this request')
    .min(1)
    .max(IDEMPOTENCY_KEY_LENGTH_MAX),
});

export const IDEMPOTENT_REPLAY_HEADERS = {
  'Idempotent-Replayed': '`true` when the answer is the stored one for a repeated key.',
};

export const IDEMPOTENCY_KEY_DESCRIPTION =
  'Send an `Idempotency-Key`: the same key with the same request answers the stored result (`Idempotent-Replayed: true`); with a different request, 422 `idempotency_key_reused`; while the first request with the key is still running, 409 `idempotency_key_in_flight`.';

/** An idempotent command's outcome, as @puhui/idempotency's runIdempotently answers it. */
export interface IdempotentAnswer<Body> {
  status: number;
  body: Body;
  replayed: boolean;
}

/** Sends an idempotent command's outcome: its first answer, or the stored one on a retry. */
export function sendIdempotentOutcome<Responses extends Readonly<Record<number, OperationResponse>>, Body>(
  response: Response,
  operation: Operation<OperationRequest, Responses>,
  outcome: IdempotentAnswer<Body>,
): void {
  if (outcome.replayed) response.setHeader('Idempotent-Replayed', 'true');
  if (operation.responses[outcome.status] === undefined)
    throw new Error(`${operation.operationId} answered an undocumented ${outcome.status}`);
  response.status(outcome.status).json(outcome.body);
}
