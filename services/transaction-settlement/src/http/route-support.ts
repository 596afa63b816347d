/**
 * What each resource's routes (one file per resource) are mounted with, and the checks of who
 * calls they share (the money-moving POSTs use @puhui/http's idempotentPost).
 */
import type { Request, Router } from 'express';
import { Unprocessable } from '@puhui/errors';
import type { Pool } from '@puhui/postgres';
import { actorOf, requireActingOperator, requireOperator } from '@puhui/security';
import type { OperatorRole, Principal } from '@puhui/security';
import type { TransactionSettlementConfig } from '../config';
import type { SettlementContext } from '../commands/context';
import type { Requester } from '../commands/requester';
import { addDays } from '../domain/business-day';
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

/** The caller, who must hold one of `roles` itself: an auditor is refused (requireActingOperator). */
export function actingOperatorWith(auth: SettlementAuth, ...roles: OperatorRole[]) {
  return callerChecked(auth, (principal) => requireActingOperator(principal, ...roles));
}

/** The caller: a merchant (which sees only its own), or an operator with one of `roles`. */
export function merchantOrOperatorWith(auth: SettlementAuth, ...roles: OperatorRole[]) {
  return callerChecked(auth, (principal) => {
    if (principal.kind !== 'merchant') requireOperator(principal, ...roles);
  });
}

/** The operator asking for something a second person approves. */
export function requesterOf(principal: Principal): Requester {
  if (principal.kind !== 'operator') throw new Error('a requester is an operator (checked before)');
  return { subject: principal.subject, actor: actorOf(principal) };
}

/**
 * A period of days a read covers (`from`..`to`, both included), refused when it runs backwards or
 * spans more than `daysMax`: 422 `<name>_period_reversed` / `<name>_period_too_long`.
 */
export function refuseBadPeriod(name: string, period: { from: string; to: string }, daysMax: number): void {
  const { from, to } = period;
  if (from > to)
    throw new Unprocessable(`${name}_period_reversed`, `The period starts (${from}) after it ends (${to}).`);
  if (addDays(from, daysMax) <= to) {
    throw new Unprocessable(
      `${name}_period_too_long`,
      `A period spans at most ${daysMax} days: ask from ${addDays(to, 1 - daysMax)} to ${to}.`,
    );
  }
}
