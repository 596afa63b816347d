/**
 * The one way the web app talks to the console: same-origin cookies, the CSRF token on every
 * state-changing call, problem+json answers turned into ApiProblem, and a 401 not_signed_in sending
 * the person back to sign-in from wherever it happens (an expired session).
 */

export interface InvalidParam {
  name: string;
  reason: string;
}

export class ApiProblem extends Error {
  readonly status: number;
  readonly code: string;
  readonly detail: string | undefined;
  readonly invalidParams: InvalidParam[];
  readonly retryAfterSeconds: number | undefined;
  readonly body: Record<string, unknown>;

  constructor(status: number, body: Record<string, unknown>, retryAfterSeconds: number | undefined) {
    const code = typeof body.code === 'string' ? body.code : `http_${status}`;
    super(typeof body.detail === 'string' ? body.detail : code);
    this.name = 'ApiProblem';
    this.status = status;
    this.code = code;
    this.detail = typeof body.detail === 'string' ? body.detail : undefined;
    this.invalidParams = Array.isArray(body.invalid_params) ? (body.invalid_params as InvalidParam[]) : [];
    this.retryAfterSeconds = retryAfterSeconds;
    this.body = body;
  }
}

const STATE_CHANGING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

let csrfToken: string | null = null;
let notSignedInHandler: (() => void) | null = null;

/** Set from every session answer (sign-in, TOTP, GET /console/v1/session). */
export function setCsrfToken(token: string | null): void {
  csrfToken = token;
}

export function onNotSignedIn(handler: () => void): void {
  notSignedInHandler = handler;
}

export interface RequestOptions {
  body?: unknown;
  /** For the session probe and sign-in pages: a 401 there is an answer, not an expiry. */
  signedOutIsExpected?: boolean;
}

function retryAfter(response: Response): number | undefined {
  const header = response.headers.get('Retry-After');
  if (header === null) return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds)) return seconds;
  const at = Date.parse(header);
  return Number.isNaN(at) ? undefined : Math.max(0, (at - Date.now()) / 1000);
}

async function problemBody(response: Response): Promise<Record<string, unknown>> {
  try {
    const body: unknown = await response.json();
    return typeof body === 'object' && body !== null ? (body as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

export async function request<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
  const headers: Record<string, string> = { Accept: 'application/json' };
  if (options.body !== undefined) headers['Content-Type'] = 'application/json';
  if (STATE_CHANGING.has(method) && csrfToken !== null) headers['X-CSRF-Token'] = csrfToken;
  const response = await fetch(path, {
    method,
    headers,
    credentials: 'same-origin',
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
  });
  if (!response.ok) {
    const problem = new ApiProblem(response.status, await problemBody(response), retryAfter(response));
    if (problem.status === 401 && problem.code === 'not_signed_in' && !options.signedOutIsExpected) {
      csrfToken = null;
      notSignedInHandler?.();
    }
    throw problem;
  }
  if (response.status === 204 || response.status === 202) {
    const text = await response.text();
    return (text === '' ? undefined : JSON.parse(text)) as T;
  }
  return (await response.json()) as T;
}

export const get = <T>(path: string, options?: RequestOptions) => request<T>('GET', path, options);
export const post = <T>(path: string, body: unknown = {}, options?: RequestOptions) =>
  request<T>('POST', path, { ...options, body });
export const patch = <T>(path: string, body: unknown) => request<T>('PATCH', path, { body });
export const remove = <T>(path: string) => request<T>('DELETE', path);
