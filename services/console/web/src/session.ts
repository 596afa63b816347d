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
    return session;
  } catch (error) {
    if (error instanceof ApiProblem && error.status === 401) {
      setCsrfToken(null);
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
  setCsrfToken(session.csrf_token);
  queryClient.setQueryData(SESSION_KEY, session);
}

/** After sign-out, or any 401 not_signed_in: forget the person and every answer fetched for them. */
export function forgetSession(queryClient: QueryClient): void {
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
}

export function wasSessionExpired(): boolean {
  return sessionExpired;
}

export function clearSessionExpired(): void {
  sessionExpired = false;
}
