/**
 * Typed HTTP clients of the Puhui services: openapi-fetch over the `paths` types that `npm run
 * docs` generates with openapi-typescript from the committed docs/api/<service>.openapi.json
 * (libs/api-clients/generated/), so a call's path, parameters, body and answer are checked
 * against the documents at compile time. Each client sends its bearer credential and gives
 * every request a timeout.
 */
import { randomUUID } from 'node:crypto';
import createClient from 'openapi-fetch';
import type { Client } from 'openapi-fetch';
import type { components as DiscountRules, paths as DiscountRulesPaths } from '../generated/discount-rules';
import type {
  components as MerchantOnboarding,
  paths as MerchantOnboardingPaths,
} from '../generated/merchant-onboarding';
import type {
  components as TransactionSettlement,
  paths as TransactionSettlementPaths,
} from '../generated/transaction-settlement';

export type { DiscountRulesPaths, MerchantOnboardingPaths, TransactionSettlementPaths };
/** The documents' named schemas (`MerchantOnboardingSchemas['Merchant']`, …). */
export type MerchantOnboardingSchemas = MerchantOnboarding['schemas'];
export type DiscountRulesSchemas = DiscountRules['schemas'];
export type TransactionSettlementSchemas = TransactionSettlement['schemas'];

/** The JSON body an operation takes, e.g. `JsonBody<DiscountRulesPaths, '/v1/rules', 'post'>`. */
export type JsonBody<
  Paths,
  Path extends keyof Paths,
  Method extends keyof Paths[Path],
> = Paths[Path][Method] extends {
  requestBody?: { content: { 'application/json': infer Body } };
}
  ? Body
  : never;
export type MerchantOnboardingClient = Client<MerchantOnboardingPaths>;
export type DiscountRulesClient = Client<DiscountRulesPaths>;
export type TransactionSettlementClient = Client<TransactionSettlementPaths>;

/** One client per service, keyed by the service's name. */
export interface PuhuiClients {
  'merchant-onboarding': MerchantOnboardingClient;
  'discount-rules': DiscountRulesClient;
  'transaction-settlement': TransactionSettlementClient;
}
export type PuhuiServiceName = keyof PuhuiClients;

export interface ClientOptions {
  /** The bearer credential (an operator token or a merchant's secret key), or a function giving the current one. */
  token?: string | (() => string);
  /** How long one request may take before it is aborted (default 10 s). */
  timeoutMs?: number;
  /** Sends the requests (default: the global fetch), e.g. one that checks every answer against the document. */
  fetch?: (request: Request) => Promise<Response>;
}

const DEFAULT_TIMEOUT_MS = 10_000;

function typedClient<Paths extends object>(baseUrl: string, options: ClientOptions): Client<Paths> {
  const send = options.fetch ?? ((request: Request) => fetch(request));
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const client = createClient<Paths>({
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

export function merchantOnboardingClient(
  baseUrl: string,
  options: ClientOptions = {},
): MerchantOnboardingClient {
  return typedClient<MerchantOnboardingPaths>(baseUrl, options);
}

export function discountRulesClient(baseUrl: string, options: ClientOptions = {}): DiscountRulesClient {
  return typedClient<DiscountRulesPaths>(baseUrl, options);
}

export function transactionSettlementClient(
  baseUrl: string,
  options: ClientOptions = {},
): TransactionSettlementClient {
  return typedClient<TransactionSettlementPaths>(baseUrl, options);
}

/** The three services' clients, one credential for all. */
export function puhuiClients(
  urls: Record<PuhuiServiceName, string>,
  options: ClientOptions = {},
): PuhuiClients {
  return {
    'merchant-onboarding': merchantOnboardingClient(urls['merchant-onboarding'], options),
    'discount-rules': discountRulesClient(urls['discount-rules'], options),
    'transaction-settlement': transactionSettlementClient(urls['transaction-settlement'], options),
  };
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
