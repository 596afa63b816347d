/**
 * The HTTP side of an `Idempotency-Key` (DESIGN §10; @puhui/idempotency stores the key): the
 * header every money-moving POST requires, what such an operation documents, and the handler
 * that sends its outcome. The statuses follow the IETF httpapi Idempotency-Key draft: 422 for a key
 * reused with another request, 409 while the first request with the key is still in flight.
 */
import type { Request, Response } from 'express';
import { z } from 'zod';
import type { ParsedBy } from './handlers';
import { defineOperation, documented } from './operations';
import type {
  DocumentedHandler,
  Operation,
  OperationRequest,
  OperationResponse,
  OperationSpec,
} from './operations';
import { parseRequest } from './validation';

/** The longest key taken (and the idempotency_keys table's CHECK). */
const IDEMPOTENCY_KEY_LENGTH_MAX = 255;

const idempotencyKeyHeaders = z.object({
  'idempotency-key': z
    .string('Idempotency-Key is required on this request')
    .min(1)
    .max(IDEMPOTENCY_KEY_LENGTH_MAX),
});

const IDEMPOTENT_REPLAY_HEADERS = {
  'Idempotent-Replayed': '`true` when the answer is the stored one for a repeated key.',
};

const IDEMPOTENCY_KEY_DESCRIPTION =
  'Send an `Idempotency-Key`: the same key with the same request answers the stored result (`Idempotent-Replayed: true`); with a different request, 422 `idempotency_key_reused`; while the first request with the key is still running, 409 `idempotency_key_in_flight`.';

/** An idempotent command's outcome, as @puhui/idempotency's runIdempotently answers it. */
export interface IdempotentAnswer<Body> {
  status: number;
  body: Body;
  replayed: boolean;
}

/** Sends an idempotent command's outcome: its first answer, or the stored one on a retry. */
function sendIdempotentOutcome<Responses extends Readonly<Record<number, OperationResponse>>, Body>(
  response: Response,
  operation: Operation<OperationRequest, Responses>,
  outcome: IdempotentAnswer<Body>,
): void {
  if (outcome.replayed) response.setHeader('Idempotent-Replayed', 'true');
  if (operation.responses[outcome.status] === undefined)
    throw new Error(`${operation.operationId} answered an undocumented ${outcome.status}`);
  response.status(outcome.status).json(outcome.body);
}

/** An operation's request schemas with the `Idempotency-Key` header. */
type Keyed<Schemas> = Schemas & { headers: typeof idempotencyKeyHeaders };

/**
 * An operation that moves money (DESIGN §10): it takes an `Idempotency-Key` (its description
 * ends saying how), and each answer says when it is the stored one for a repeated key.
 */
export function defineIdempotentOperation<
  const Schemas extends Omit<OperationRequest, 'headers'>,
  const Responses extends Readonly<Record<number, OperationResponse>>,
>(spec: OperationSpec<Schemas, Responses>): Operation<Keyed<Schemas>, Responses> {
  const request: Keyed<Schemas> = { ...(spec.request as Schemas), headers: idempotencyKeyHeaders };
  const responses = Object.fromEntries(
    Object.entries(spec.responses).map(([status, response]) => [
      status,
      { ...response, headers: IDEMPOTENT_REPLAY_HEADERS },
    ]),
  ) as unknown as Responses;
  return defineOperation<Keyed<Schemas>, Responses>({
    ...spec,
    description:
      spec.description === undefined
        ? IDEMPOTENCY_KEY_DESCRIPTION
        : `${spec.description} ${IDEMPOTENCY_KEY_DESCRIPTION}`,
    request,
    responses,
  });
}

/**
 * A POST that moves money (DESIGN §10): the caller is checked first, then the request is parsed
 * by the operation's schemas, and the command's outcome is sent (its first answer, or the stored
 * one for a repeated `Idempotency-Key`).
 */
export function idempotentPost<
  Schemas extends OperationRequest & { headers: typeof idempotencyKeyHeaders },
  Responses extends Readonly<Record<number, OperationResponse>>,
  Caller,
>(
  operation: Operation<Schemas, Responses>,
  callerOf: (request: Request) => Promise<Caller>,
  command: (
    caller: Caller,
    request: ParsedBy<Schemas>,
    idempotencyKey: string,
  ) => Promise<IdempotentAnswer<unknown>>,
): DocumentedHandler {
  return documented(operation, async (request, response) => {
    const caller = await callerOf(request);
    const parsed = parseRequest(request, operation.request) as ParsedBy<Schemas>;
    const { 'idempotency-key': idempotencyKey } = parsed.headers as { 'idempotency-key': string };
    sendIdempotentOutcome(response, operation, await command(caller, parsed, idempotencyKey));
  });
}
