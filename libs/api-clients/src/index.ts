/**
 * Typed HTTP clients of the Puhui services: openapi-fetch over the `paths` types that `npm run
 * docs` generates with openapi-typescript from each registered service's OpenAPI document
 * (docs/api/types/), so a call's path, parameters, body and answer are checked
 * against the committed documents at compile time. Each client sends its bearer credential and
 * gives every request a timeout. A service added to the registry gets its client from the
 * generated index: nothing here names a service.
 */
import { randomUUID } from 'node:crypto';
import createClient from 'openapi-fetch';
import type { Client } from 'openapi-fetch';
import type { ServiceComponents, ServicePaths } from '../../../docs/api/types';

export type PuhuiServiceName = keyof ServicePaths;
/** A service's generated `paths` type, e.g. `Paths<'discount-rules'>`. */
export type Paths<Name extends PuhuiServiceName> = ServicePaths[Name];
/** A service's named schemas, e.g. `Schemas<'merchant-onboarding'>['Merchant']`. */
export type Schemas<Name extends PuhuiServiceName> = ServiceComponents[Name]['schemas'];
export type ServiceClient<Name extends PuhuiServiceName> = Client<ServicePaths[Name]>;
/** One client per service, keyed by the service's name. */
export type PuhuiClients = { [Name in PuhuiServiceName]: ServiceClient<Name> };

/** The JSON body an operation takes, e.g. `JsonBody<'discount-rules', '/v1/rules', 'post'>`. */
export type JsonBody<
  Name extends PuhuiServiceName,
  Path extends keyof Paths<Name>,
  Method extends keyof Paths<Name>[Path],
> = Paths<Name>[Path][Method] extends { requestBody?: { content: { 'application/json': infer Body } } }
  ? Body
  : never;

export interface ClientOptions {
  /** The bearer credential (an operator token or a merchant's secret key), or a function giving the current one. */
  token?: string | (() => string);
  /** How long one request may take before it is aborted (default 10 s). */
  timeoutMs?: number;
  /** Sends the requests (default: the global fetch), e.g. one that checks every answer against the document. */
  fetch?: (request: Request) => Promise<Response>;
}

const DEFAULT_TIMEOUT_MS = 10_000;

/** The typed client of the service `Name` at `baseUrl`, e.g. `serviceClient<'discount-rules'>(url, { token })`. */
export function serviceClient<Name extends PuhuiServiceName>(
  baseUrl: string,
  options: ClientOptions = {},
): ServiceClient<Name> {
  const send = options.fetch ?? ((request: Request) => fetch(request));
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const client = createClient<ServicePaths[Name]>({
    baseUrl,
    fetch: (request) =>
      send(
        new Request(request, { signal: AbortSignal.any([request.signal, AbortSignal.timeout(timeoutMs)]) }),
      ),
  });
  const { token } = options;
  if (token !== undefined) {
    client.use({
      onRequest: ({ request }) => {
        request.headers.set('authorization', `Bearer ${typeof token === 'function' ? token() : token}`);
        return request;
      },
    });
  }
  return client;
}

/** Every service's client, one credential for all. */
export function puhuiClients(
  urls: Readonly<Record<PuhuiServiceName, string>>,
  options: ClientOptions = {},
): PuhuiClients {
  return Object.fromEntries(
    Object.entries(urls).map(([name, url]) => [name, serviceClient(url, options)]),
  ) as PuhuiClients;
}

/** The `Idempotency-Key` header a money-moving POST requires: a fresh key unless one is given. */
export function idempotencyKey(key: string = randomUUID()): { 'Idempotency-Key': string } {
  return { 'Idempotency-Key': key };
}

/** Request options sending `text` as a text/csv body as it is (the default serializer sends JSON). */
export function csvBody(text: string) {
  return { body: text, bodySerializer: (body: string) => body, headers: { 'content-type': 'text/csv' } };
}

/** A request the service answered with a status that is not an answer for the caller. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly problem: unknown,
    message: string,
  ) {
    super(message);
  }
}

function problemText(problem: unknown): string {
  if (typeof problem !== 'object' || problem === null) return String(problem ?? '');
  const { code, detail, title } = problem as Record<string, unknown>;
  return `${String(code ?? '')}: ${String(detail ?? title ?? '')}`;
}

/** What a client's call resolves to (openapi-fetch's FetchResponse): data on 2xx, else the problem as error. */
export interface Answer<Data> {
  data?: Data;
  error?: unknown;
  response: Response;
}

/** The data of a 2xx answer; any other status throws an ApiError naming the request and the problem. */
export async function ok<Data>(pending: Answer<Data> | Promise<Answer<Data>>): Promise<Data> {
  const { data, error, response } = await pending;
  if (!response.ok) {
    throw new ApiError(response.status, error, `${response.url} → ${response.status} ${problemText(error)}`);
  }
  return data as Data;
}
