/**
 * The services' public HTTP APIs through their typed clients (libs/api-clients), as a
 * merchant's POS, a finance tool or an admin script would call them. Nothing here reads a
 * database or Kafka.
 */
import { puhuiClients } from '@puhui/api-clients';
import type { PuhuiClients } from '@puhui/api-clients';
import { SERVICE_NAMES, defaultUrl, urlVariable } from '@puhui/config';
import type { ServiceName } from '@puhui/config';
import { signOperatorToken, toolSigningKey } from '@puhui/security';
import type { OperatorRole } from '@puhui/security';

export type ServiceUrls = Readonly<Record<ServiceName, string>>;

/** A reconciliation upload of a day's statement may take a while; nothing else comes near. */
const REQUEST_TIMEOUT_MS = 60_000;

/** The services' URLs: `PUHUI_<SERVICE>_URL` if set, else 127.0.0.1 on the registry's default ports. */
export function serviceUrls(environment: Record<string, string | undefined> = process.env): ServiceUrls {
  return Object.fromEntries(
    SERVICE_NAMES.map((name) => [name, environment[`PUHUI_${urlVariable(name)}`] ?? defaultUrl(name)]),
  ) as Record<ServiceName, string>;
}

/** The services operator tokens are for (every one but the console, which issues them). */
const AUDIENCE = SERVICE_NAMES.filter((name) => name !== 'console');

/** The demo's people (account ids): the audit trails name them. */
export const DEMO_SUBJECTS = {
  admin: '00000000-0000-4000-8000-00000000de01',
  finance: '00000000-0000-4000-8000-00000000de02',
  // The second admin and finance person, who approve what the first ask for (dual control).
  admin2: '00000000-0000-4000-8000-00000000de03',
  finance2: '00000000-0000-4000-8000-00000000de04',
} as const;

/**
 * A fresh operator token (5 minutes), signed like `npm run token` signs it: the first of
 * CONSOLE_SIGNING_KEYS when set, else the development key.
 */
export function operatorToken(
  roles: OperatorRole[],
  subject: string,
  environment: Record<string, string | undefined> = process.env,
  merchantId?: string,
): string {
  return signOperatorToken(
    { subject, roles, audience: AUDIENCE, ...(merchantId === undefined ? {} : { merchantId }) },
    toolSigningKey(environment).key,
  );
}

/** Gives the bearer credential for the next request. */
export type TokenProvider = () => string;

/**
 * A provider for `credential`: an operator token is signed again, for the same person and roles,
 * for each request — one lasts 5 minutes and a walk-through, a load or a test run may last longer;
 * an API key (or anything that is not a token) is sent as it is.
 */
export function renewingToken(
  credential: string | TokenProvider,
  environment: Record<string, string | undefined> = process.env,
): TokenProvider {
  if (typeof credential === 'function') return credential;
  if (!/^eyJ[\w-]*\.[\w-]+\.[\w-]+$/u.test(credential)) return () => credential;
  let claims: { sub?: unknown; roles?: unknown; merchant_id?: unknown };
  try {
    claims = JSON.parse(
      Buffer.from(credential.split('.')[1] ?? '', 'base64url').toString('utf8'),
    ) as typeof claims;
  } catch {
    return () => credential;
  }
  const { sub, roles, merchant_id: merchantId } = claims;
  if (typeof sub !== 'string' || !Array.isArray(roles)) return () => credential;
  return () =>
    operatorToken(
      roles as OperatorRole[],
      sub,
      environment,
      typeof merchantId === 'string' ? merchantId : undefined,
    );
}

/** The demo's admin and finance tokens: each read gives a fresh one. */
export function demoTokens(environment: Record<string, string | undefined> = process.env) {
  return {
    get admin(): string {
      return operatorToken(['admin'], DEMO_SUBJECTS.admin, environment);
    },
    get finance(): string {
      return operatorToken(['finance'], DEMO_SUBJECTS.finance, environment);
    },
    get admin2(): string {
      return operatorToken(['admin'], DEMO_SUBJECTS.admin2, environment);
    },
    get finance2(): string {
      return operatorToken(['finance'], DEMO_SUBJECTS.finance2, environment);
    },
  };
}

/** Sends a request: the end-to-end tests pass one that checks every answer against the called service's document. */
export type Transport = (request: Request) => Promise<Response>;

/** The services as a merchant's POS, a finance tool or an admin script calls them: typed clients per credential. */
export class PuhuiApi {
  constructor(
    readonly urls: ServiceUrls = serviceUrls(),
    private readonly transport: Transport = (request) => fetch(request),
  ) {}

  /**
   * The services' typed clients (libs/api-clients), sending `token` as the bearer credential — an
   * operator token signed afresh for each request (renewingToken).
   */
  as(token: string | TokenProvider): PuhuiClients {
    return puhuiClients(this.urls, {
      token: renewingToken(token),
      fetch: this.transport,
      timeoutMs: REQUEST_TIMEOUT_MS,
    });
  }

  /** True when every registered service answers /readyz with 200. */
  async ready(): Promise<boolean> {
    const answers = await Promise.all(
      Object.values(this.urls).map((url) =>
        this.transport(new Request(`${url}/readyz`)).then(
          (response) => response.status === 200,
          () => false,
        ),
      ),
    );
    return answers.every(Boolean);
  }
}

/** Polls `probe` until it returns a value (not undefined) or the deadline passes. */
export async function eventually<T>(
  description: string,
  probe: () => Promise<T | undefined>,
  { timeoutMs = 30_000, intervalMs = 100 } = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `${description}: not within ${timeoutMs} ms${lastError === undefined ? '' : ` (last error: ${String(lastError)})`}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
