/**
 * The caller is known before a body is read (decision 0018). A service says once how its
 * callers are checked (`authenticateCallers`); every route it mounts with `route()` whose
 * operation has callers then runs that check ahead of the JSON parser and of a streaming
 * route's own reading, so that a stranger's 10 MB body is answered 401 without being read. An
 * operation without callers (`callers: []`: sign-in, the JWKS) reads its body as before.
 */
import type { Request, Response, Router } from 'express';

/**
 * Throws (401, 403, 503…) when the request's caller may not call this service; what it finds is
 * kept on the request by the check itself (`authenticate()` keeps the principal, so a handler
 * asking again does not verify twice).
 */
export type CallerCheck = (request: Request, response: Response) => Promise<unknown> | unknown;

const checks = new WeakMap<object, CallerCheck>();

/** Every route `router` mounts with callers is checked with `check` before its body is read. */
export function authenticateCallers(router: Pick<Router, 'route'>, check: CallerCheck): void {
  if (checks.has(router)) throw new Error('authenticateCallers: this router already has its caller check');
  checks.set(router, check);
}

/** The check registered for `router`, read at request time (so registration order does not matter). */
export function callerCheckOf(router: object): CallerCheck | undefined {
  return checks.get(router);
}
