/**
 * The signed-in person, as the console's GET /console/v1/session answers it, held in TanStack Query
 * under one key: sign-in, TOTP and sign-out write it, every guard reads it.
 */
import { useQuery, type QueryClient } from '@tanstack/react-query';
import { consoleApi, type SessionAnswer } from './api/console';
import { ApiProblem, setCsrfToken } from './api/http';

export const SESSION_KEY = ['session'] as const;

export async function loadSession(): Promise<SessionAnswer | null> {
  try {
    const session = await consoleApi.session();
    setCsrfToken(session.csrf_token);
    if (session.stage === 'signed_in') rememberTabSignedIn(true);
    return session;
  } catch (error) {
    if (error instanceof ApiProblem && error.status === 401) {
      setCsrfToken(null);
      // Someone was signed in in this tab and did not sign out: their session ended (timed out, or
      // ended from another device). The cookie is HttpOnly, so this tab's memory is what tells.
      if (tabWasSignedIn()) markSessionExpired();
      return null;
    }
    throw error;
  }
}

export function useSession() {
  return useQuery({ queryKey: SESSION_KEY, queryFn: loadSession, staleTime: 60_000, retry: false });
}

/** After sign-in or TOTP: the answer is the session (no second round trip). */
export function rememberSession(queryClient: QueryClient, session: SessionAnswer): void {
  clearSessionExpired();
  if (session.stage === 'signed_in') rememberTabSignedIn(true);
  setCsrfToken(session.csrf_token);
  queryClient.setQueryData(SESSION_KEY, session);
}

/** After sign-out, or any 401 not_signed_in: forget the person and every answer fetched for them. */
export function forgetSession(queryClient: QueryClient): void {
  rememberTabSignedIn(false);
  setCsrfToken(null);
  queryClient.removeQueries({ predicate: (query) => query.queryKey[0] !== SESSION_KEY[0] });
  queryClient.setQueryData(SESSION_KEY, null);
}

/**
 * Whether the last session ended under the person's feet (a 401 not_signed_in on some call: idle or
 * absolute timeout, ended elsewhere), so the sign-in page can say so whichever redirect got there first.
 */
let sessionExpired = false;

export function markSessionExpired(): void {
  sessionExpired = true;
  rememberTabSignedIn(false);
}

/** Where sign-in is, saying why the person is sent there when their session ended under them. */
export const EXPIRED_REASON = 'expired';
export function signInPath(): string {
  return sessionExpired ? `/sign-in?reason=${EXPIRED_REASON}` : '/sign-in';
}

/**
 * Whether this tab had a signed-in session (sessionStorage: per tab, kept across reloads and
 * typed-in URLs, gone with the tab). Set when a signed-in session is seen, cleared at sign-out.
 */
const TAB_SIGNED_IN_KEY = 'puhui.console.signedIn';

function rememberTabSignedIn(signedIn: boolean): void {
  try {
    if (signedIn) window.sessionStorage.setItem(TAB_SIGNED_IN_KEY, '1');
    else window.sessionStorage.removeItem(TAB_SIGNED_IN_KEY);
  } catch {
    // Storage refused (private window): the expiry notice then shows only without a reload.
  }
}

function tabWasSignedIn(): boolean {
  try {
    return window.sessionStorage.getItem(TAB_SIGNED_IN_KEY) === '1';
  } catch {
    return false;
  }
}

export function wasSessionExpired(): boolean {
  return sessionExpired;
}

export function clearSessionExpired(): void {
  sessionExpired = false;
}
