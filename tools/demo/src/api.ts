/**
 * The services' public HTTP APIs through their typed clients (libs/api-clients), as a
 * merchant's POS, a finance tool or an admin script would call them. Nothing here reads a
 * database or Kafka.
 */
import { puhuiClients } from '@puhui/api-clients';
import type { PuhuiClients } from '@puhui/api-clients';
import { SERVICE_NAMES, defaultUrl, urlVariable } from '@puhui/config';
import type { ServiceName } from '@puhui/config';
import { DEVELOPMENT_TOKEN_SECRET, mintOperatorToken } from '@puhui/security';
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

/** A local operator token, signed like `npm run token` signs it. */
export function operatorToken(
  roles: OperatorRole[],
  subject: string,
  environment: Record<string, string | undefined> = process.env,
): string {
  return mintOperatorToken(
    { subject, roles, ttlSeconds: 12 * 3600 },
    environment.OPERATOR_TOKEN_SECRET ?? DEVELOPMENT_TOKEN_SECRET,
  );
}

/** Sends a request: the end-to-end tests pass one that checks every answer against the called service's document. */
export type Transport = (request: Request) => Promise<Response>;

/** The services as a merchant's POS, a finance tool or an admin script calls them: typed clients per credential. */
export class PuhuiApi {
  constructor(
    readonly urls: ServiceUrls = serviceUrls(),
    private readonly transport: Transport = (request) => fetch(request),
  ) {}

  /** The services' typed clients (libs/api-clients), sending `token` as the bearer credential. */
  as(token: string): PuhuiClients {
    return puhuiClients(this.urls, { token, fetch: this.transport, timeoutMs: REQUEST_TIMEOUT_MS });
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
