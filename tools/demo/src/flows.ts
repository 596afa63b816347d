/** The steps both the demo data and the walk-through take, each through a public API. */
import type { PuhuiApi } from './api';
import { eventually } from './api';
import { applicationOf } from './programme';
import type { DemoMerchant, RuleBody } from './programme';

export interface Tokens {
  admin: string;
  finance: string;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = Record<string, any>;

/** Every item of a cursor-paginated list (`{ data, has_more }`, `limit`, `starting_after`). */
export async function listAll(
  api: PuhuiApi,
  service: Parameters<PuhuiApi['call']>[0],
  path: string,
  token: string,
  idOf: (item: Json) => string = (item) => item.id as string,
): Promise<Json[]> {
  const items: Json[] = [];
  let after: string | undefined;
  for (;;) {
    const separator = path.includes('?') ? '&' : '?';
    const page = await api.call<{ data: Json[]; has_more: boolean }>(
      service,
      'GET',
      `${path}${separator}limit=100${after === undefined ? '' : `&starting_after=${after}`}`,
      { token },
    );
    items.push(...page.body.data);
    if (!page.body.has_more || page.body.data.length === 0) return items;
    after = idOf(page.body.data[page.body.data.length - 1] as Json);
  }
}

const LIFECYCLE: Record<string, string | undefined> = {
  draft: 'submit',
  submitted: 'start_review',
  in_review: 'approve',
};

/** Takes a merchant from wherever its application stands to active; returns its view. */
export async function approve(api: PuhuiApi, tokens: Tokens, merchant: Json): Promise<Json> {
  let current = merchant;
  for (let action = LIFECYCLE[current.status as string]; action !== undefined;) {
    current = (
      await api.call('merchant-onboarding', 'POST', `/v1/merchants/${current.id as string}/${action}`, {
        token: tokens.admin,
      })
    ).body;
    action = LIFECYCLE[current.status as string];
  }
  return current;
}

/** Applies (unless an application with this legal name exists) and approves. */
export async function onboard(
  api: PuhuiApi,
  tokens: Tokens,
  merchant: DemoMerchant,
  serial: number,
  existing: Json[],
): Promise<{ merchant: Json; created: boolean }> {
  const found = existing.find((candidate) => candidate.legal_name === merchant.legal_name);
  const application =
    found ??
    (
      await api.call('merchant-onboarding', 'POST', '/v1/merchants', {
        token: tokens.admin,
        body: applicationOf(merchant, serial),
      })
    ).body;
  return { merchant: await approve(api, tokens, application), created: found === undefined };
}

/** A new secret key for a merchant (shown once). */
export async function createApiKey(api: PuhuiApi, tokens: Tokens, merchantId: string): Promise<string> {
  const key = await api.call('merchant-onboarding', 'POST', `/v1/merchants/${merchantId}/api_keys`, {
    token: tokens.admin,
    body: {},
  });
  return key.body.secret as string;
}

/** Waits until transaction-settlement knows the key (its replica is fed by merchant events). */
export async function awaitCheckoutAccess(api: PuhuiApi, secret: string): Promise<void> {
  await eventually('transaction-settlement accepts the merchant key', async () => {
    const response = await api.call('transaction-settlement', 'GET', '/v1/checkouts?limit=1', {
      token: secret,
      accept: [401, 403, 404],
    });
    return response.status === 200 ? true : undefined;
  });
}

/** Creates the rule unless one with its name exists, and publishes it unless it is live. */
export async function publishRule(
  api: PuhuiApi,
  tokens: Tokens,
  body: RuleBody,
  existing: Json[],
): Promise<{ rule: Json; created: boolean }> {
  const found = existing.find((rule) => rule.name === body.name && rule.status !== 'retired');
  const rule =
    found ?? (await api.call('discount-rules', 'POST', '/v1/rules', { token: tokens.admin, body })).body;
  if (rule.status === 'published') return { rule, created: false };
  const published = await api.call('discount-rules', 'POST', `/v1/rules/${rule.rule_id as string}/publish`, {
    token: tokens.admin,
    body: {},
  });
  return { rule: published.body, created: found === undefined };
}

export interface CaptureRequest {
  card_number: string;
  reference: string;
  lines: Array<{ category: string; amount_minor: number; description?: string }>;
}

export function checkoutBody(request: CaptureRequest) {
  return {
    card_number: request.card_number,
    currency: 'CNY',
    reference: request.reference,
    lines: request.lines,
  };
}

export function capture(
  api: PuhuiApi,
  secret: string,
  request: CaptureRequest,
  idempotencyKey: string | true = true,
) {
  return api.call('transaction-settlement', 'POST', '/v1/checkouts', {
    token: secret,
    idempotencyKey,
    body: checkoutBody(request),
  });
}

/** ¥12.34 from 1234 fen. */
export function yuan(fen: number): string {
  const sign = fen < 0 ? '-' : '';
  const absolute = Math.abs(fen);
  return `${sign}¥${Math.floor(absolute / 100).toLocaleString('en-US')}.${String(absolute % 100).padStart(2, '0')}`;
}
