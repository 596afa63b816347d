/**
 * The session behind a request, and the CSRF defence (decision 0013). Ahead of the body parser on
 * /console/v1 and /api, sessionLoader reads the `puhui_session` cookie, finds the live session by
 * the secret's SHA-256, moves last_seen_at on, and puts `person:<id>` in the request's log lines. A state-changing request must carry the console's own Origin and, when it has a
 * session, the session's CSRF token in X-CSRF-Token (sign-in and accepting an invitation have
 * no session yet: the Origin alone).
 */
import type { NextFunction, Request, RequestHandler, Response, Router } from 'express';
import { Forbidden } from '@puhui/errors';
import { requestIdOf } from '@puhui/http';
import { withLogContext } from '@puhui/logging';
import type { Pool } from '@puhui/postgres';
import type { ConsoleConfig } from '../config';
import { allowedOrigins } from '../config';
import type { Origin } from '../commands/context';
import { personActor } from '../commands/context';
import type { Account, OperatorRole } from '../domain/account';
import { BadOrigin, CsrfTokenInvalid, NotSignedIn } from '../domain/errors';
import { LAST_SEEN_WRITE_SECONDS, SESSION_COOKIE, sameToken, sha256 } from '../domain/session';
import { findLiveSession, touchSession } from '../store/sessions';
import type { LiveSession, SessionRow } from '../store/sessions';

const STATE_CHANGING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
/** Reached without a session: the Origin check only. */
const WITHOUT_SESSION = new Set(['POST /console/v1/session', 'POST /console/v1/invitations/accept']);
const COOKIE_VALUE = /^[A-Za-z0-9_-]{43}$/u;

/** The value of cookie `name` in a Cookie header, when it has a session secret's shape. */
export function cookieValue(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const [key, ...rest] = part.trim().split('=');
    const value = rest.join('=');
    if (key === name && COOKIE_VALUE.test(value)) return value;
  }
  return undefined;
}

function cookieAttributes(config: ConsoleConfig): string {
  const secure = config.CONSOLE_PUBLIC_ORIGIN.startsWith('https:') ? '; Secure' : '';
  return `Path=/; HttpOnly; SameSite=Strict${secure}`;
}

export function setSessionCookie(
  response: Response,
  config: ConsoleConfig,
  secret: string,
  session: SessionRow,
): void {
  const maxAgeSeconds = Math.max(0, Math.floor((session.expires_at.getTime() - Date.now()) / 1000));
  response.append(
    'Set-Cookie',
    `${SESSION_COOKIE}=${secret}; Max-Age=${maxAgeSeconds}; ${cookieAttributes(config)}`,
  );
}

export function clearSessionCookie(response: Response, config: ConsoleConfig): void {
  response.append('Set-Cookie', `${SESSION_COOKIE}=; Max-Age=0; ${cookieAttributes(config)}`);
}

export function originOf(request: Request, response: Response): Origin {
  return {
    ip: request.socket.remoteAddress ?? null,
    userAgent: request.header('user-agent')?.slice(0, 300) ?? null,
    requestId: requestIdOf(response),
  };
}

/** The live session of the request, in any stage, or undefined. */
export function sessionOf(response: Response): LiveSession | undefined {
  return response.locals.session as LiveSession | undefined;
}

/** The live session, in any stage of sign-in; else 401 not_signed_in. */
export function anySession(response: Response): LiveSession {
  const live = sessionOf(response);
  if (live === undefined) throw new NotSignedIn();
  return live;
}

/** The live session of someone who passed every step of sign-in; else 401 not_signed_in. */
export function signedIn(response: Response): LiveSession {
  const live = sessionOf(response);
  if (live?.session.stage !== 'signed_in')
    throw new NotSignedIn(
      live === undefined ? 'Sign in first.' : 'Finish signing in: the second factor is missing.',
    );
  return live;
}

/** The signed-in person, who must hold one of `roles`; else 403. */
export function signedInWith(response: Response, ...roles: OperatorRole[]): Account {
  const { account } = signedIn(response);
  if (!roles.some((role) => account.roles.includes(role)))
    throw new Forbidden(`This needs the ${roles.join(' or ')} role.`);
  return account;
}

function checkCsrf(request: Request, config: ConsoleConfig, live: LiveSession | undefined): void {
  if (!STATE_CHANGING.has(request.method)) return;
  const origin = request.header('origin');
  if (origin === undefined || !allowedOrigins(config).includes(origin)) throw new BadOrigin();
  const route = `${request.method} ${request.originalUrl.split('?')[0]?.replace(/\/+$/u, '')}`;
  if (live === undefined || WITHOUT_SESSION.has(route)) return;
  const offered = request.header('x-csrf-token');
  if (offered === undefined || !sameToken(offered, live.session.csrf_token)) throw new CsrfTokenInvalid();
}

/** Finds the request's live session (if any), moves last_seen_at on, and names the person in the logs. */
export function sessionLoader(pool: Pool, config: ConsoleConfig): RequestHandler {
  return async (request: Request, response: Response, next: NextFunction) => {
    const secret = cookieValue(request.headers.cookie, SESSION_COOKIE);
    const live =
      secret === undefined
        ? undefined
        : await findLiveSession(pool, sha256(secret), config.CONSOLE_SESSION_IDLE_SECONDS);
    if (secret !== undefined && live === undefined) clearSessionCookie(response, config);
    if (live === undefined) {
      next();
      return;
    }
    const seen = await touchSession(pool, live.session.id, LAST_SEEN_WRITE_SECONDS);
    if (seen !== undefined) live.session.last_seen_at = seen;
    response.locals.session = live;
    response.locals.principal = personActor(live.account.id);
    withLogContext({ principal: personActor(live.account.id) }, () => next());
  };
}

/** The Origin and CSRF token checks of a state-changing request (after sessionLoader). */
export function csrfGuard(config: ConsoleConfig): RequestHandler {
  return (request: Request, response: Response, next: NextFunction) => {
    checkCsrf(request, config, sessionOf(response));
    next();
  };
}

/**
 * Ahead of the body parser: the session of /console/v1 and /api, and the CSRF checks of /api
 * (the proxy streams bodies, so nothing parses them first). /console/v1 is checked first in the
 * console's routes (consoleCsrfGuard), also before a body is read (each route parses its own
 * body, decision 0018): a state-changing request from elsewhere is 403 unread, as a stranger's
 * body to a service is 401 unread.
 */
export function mountSessionGuard(router: Router, pool: Pool, config: ConsoleConfig): void {
  router.use(['/console/v1', '/api'], sessionLoader(pool, config));
  router.use('/api', csrfGuard(config));
}

/** The CSRF checks of /console/v1, first in the console's routes. */
export function mountConsoleCsrfGuard(router: Router, config: ConsoleConfig): void {
  router.use('/console/v1', csrfGuard(config));
}
