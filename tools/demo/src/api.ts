/**
 * A small client for the three services' public HTTP APIs, as a merchant's POS, a finance
 * tool or an admin script would call them. Nothing here reads a database or Kafka.
 */
import { randomUUID } from 'node:crypto';
import { SERVICE_NAMES, defaultUrl, urlVariable } from '@puhui/config';
import type { ServiceName } from '@puhui/config';
import { DEVELOPMENT_TOKEN_SECRET, mintOperatorToken } from '@puhui/security';
import type { OperatorRole } from '@puhui/security';

export type ServiceUrls = Readonly<Record<ServiceName, string>>;

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

export interface CallOptions {
  token: string;
  body?: unknown;
  /** A string body sent as is (e.g. CSV) with this content type. */
  raw?: { contentType: string; text: string };
  /** Money-moving POSTs carry one; `true` makes a fresh one. */
  idempotencyKey?: string | true;
  /** Statuses that are an answer, not a failure (default: 2xx). */
  accept?: readonly number[];
}

export interface ApiResponse<Body = Record<string, unknown>> {
  status: number;
  body: Body;
  text: string;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly problem: Record<string, unknown> | undefined,
    message: string,
  ) {
    super(message);
  }
}

export class PuhuiApi {
  constructor(
    readonly urls: ServiceUrls = serviceUrls(),
    /**
     * Sends the requests; the end-to-end tests pass one that checks every answer against the
     * called service's OpenAPI document.
     */
    private readonly transport: typeof fetch = fetch,
  ) {}

  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  async call<Body = Record<string, any>>(
    service: ServiceName,
    method: string,
    path: string,
    options: CallOptions,
  ): Promise<ApiResponse<Body>> {
    const headers: Record<string, string> = { authorization: `Bearer ${options.token}` };
    let body: string | undefined;
    if (options.raw !== undefined) {
      headers['content-type'] = options.raw.contentType;
      body = options.raw.text;
    } else if (options.body !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(options.body);
    }
    if (options.idempotencyKey !== undefined) {
      headers['idempotency-key'] = options.idempotencyKey === true ? randomUUID() : options.idempotencyKey;
    }
    const response = await this.transport(`${this.urls[service]}${path}`, { method, headers, body });
    const text = await response.text();
    const parsed =
      text.length > 0 && /json/u.test(response.headers.get('content-type') ?? '') ? JSON.parse(text) : {};
    const accepted = options.accept ?? [];
    if (!accepted.includes(response.status) && (response.status < 200 || response.status >= 300)) {
      const problem = parsed as Record<string, unknown>;
      throw new ApiError(
        response.status,
        problem,
        `${method} ${service}${path} → ${response.status} ${String(problem.code ?? '')}: ${String(problem.detail ?? problem.title ?? text)}`,
      );
    }
    return { status: response.status, body: parsed as Body, text };
  }

  /** True when every service answers /readyz with 200. */
  async ready(): Promise<boolean> {
    const answers = await Promise.all(
      Object.values(this.urls).map((url) =>
        this.transport(`${url}/readyz`).then(
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
