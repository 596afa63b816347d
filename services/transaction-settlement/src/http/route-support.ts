/**
 * What each resource's routes (one file per resource) are mounted with, and the pieces they
 * share: the checks of who calls, and the money-moving POST that runs an idempotent command.
 */
import type { Request, Router } from 'express';
import {
  IDEMPOTENCY_KEY_DESCRIPTION,
  IDEMPOTENT_REPLAY_HEADERS,
  defineOperation,
  documented,
  idempotencyKeyHeaders,
  parseRequest,
  sendIdempotentOutcome,
} from '@puhui/http';
import type {
  DocumentedHandler,
  IdempotentAnswer,
  Operation,
  OperationRequest,
  OperationResponse,
  OperationSpec,
  ParsedBy,
} from '@puhui/http';
import type { Pool } from '@puhui/postgres';
import { requireOperator } from '@puhui/security';
import type { OperatorRole, Principal } from '@puhui/security';
import type { TransactionSettlementConfig } from '../config';
import type { SettlementContext } from '../commands/context';
import type { SettlementAuth } from './auth';

export interface SettlementRouting {
  router: Router;
  pool: Pool;
  config: TransactionSettlementConfig;
  context: SettlementContext;
  /** Who calls, one for every route (settlementAuth). */
  auth: SettlementAuth;
}

/** The caller, once `check` (which throws 403) lets it through. */
function callerChecked(
  auth: SettlementAuth,
  check: (principal: Principal) => void,
): (request: Request) => Promise<Principal> {
  return async (request) => {
    const principal = await auth.principalOf(request);
    check(principal);
    return principal;
  };
}

/** The caller, who must be an operator with one of `roles`. */
export function operatorWith(auth: SettlementAuth, ...roles: OperatorRole[]) {
  return callerChecked(auth, (principal) => requireOperator(principal, ...roles));
}

/** The caller: a merchant (which sees only its own), or an operator with one of `roles`. */
export function merchantOrOperatorWith(auth: SettlementAuth, ...roles: OperatorRole[]) {
  return callerChecked(auth, (principal) => {
    if (principal.kind === 'operator') requireOperator(principal, ...roles);
  });
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
