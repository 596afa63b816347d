/** The steps both the demo data and the walk-through take, each through a public API. */
import { idempotencyKey, ok } from '@puhui/api-clients';
import type { JsonBody, Schemas } from '@puhui/api-clients';
import type { PuhuiApi } from './api';
import { eventually } from './api';
import { applicationOf } from './programme';
import type { DemoMerchant, RuleBody } from './programme';

export interface Tokens {
  admin: string;
  finance: string;
  /** A second admin and finance person: they approve what `admin` and `finance` ask for (dual control). */
  admin2: string;
  finance2: string;
}

type Merchant = Schemas<'merchant-onboarding'>['Merchant'];

/** Every item of a cursor-paginated list (`{ data, has_more }`): `page` reads the one after a cursor. */
export async function listAll<Item>(
  page: (startingAfter: string | undefined) => Promise<{ data: Item[]; has_more: boolean }>,
  idOf: (item: Item) => string,
): Promise<Item[]> {
  const items: Item[] = [];
  let after: string | undefined;
  for (;;) {
    const { data, has_more: hasMore } = await page(after);
    items.push(...data);
    const last = data[data.length - 1];
    if (!hasMore || last === undefined) return items;
    after = idOf(last);
  }
}

const LIFECYCLE = {
  draft: '/v1/merchants/{id}/submit',
  submitted: '/v1/merchants/{id}/start_review',
  in_review: '/v1/merchants/{id}/approve',
} as const;

function nextStep(merchant: Merchant) {
  return merchant.status in LIFECYCLE ? LIFECYCLE[merchant.status as keyof typeof LIFECYCLE] : undefined;
}

/** The services whose money-moving steps wait for a second person (dual control, issue 16). */
export type DualControlService = 'merchant-onboarding' | 'discount-rules' | 'transaction-settlement';

/**
 * Approves an approval request at `service` as the second person `checker` (a token), unless it
 * was decided already (a second load finds it decided).
 */
export async function approveIfPending(
  api: PuhuiApi,
  checker: string,
  service: DualControlService,
  requestId: string,
): Promise<void> {
  const clients = api.as(checker);
  const path = { params: { path: { id: requestId } } };
  const body = { ...path, body: {} };
  if (service === 'merchant-onboarding') {
    const client = clients['merchant-onboarding'];
    if ((await ok(client.GET('/v1/approval_requests/{id}', path))).status === 'pending')
      await ok(client.POST('/v1/approval_requests/{id}/approve', body));
  } else if (service === 'discount-rules') {
    const client = clients['discount-rules'];
    if ((await ok(client.GET('/v1/approval_requests/{id}', path))).status === 'pending')
      await ok(client.POST('/v1/approval_requests/{id}/approve', body));
  } else {
    const client = clients['transaction-settlement'];
    if ((await ok(client.GET('/v1/approval_requests/{id}', path))).status === 'pending')
      await ok(client.POST('/v1/approval_requests/{id}/approve', body));
  }
}

/** Asks for an application's approval (202): the request a second admin approves. */
async function requestApproval(api: PuhuiApi, tokens: Tokens, id: { params: { path: { id: string } } }) {
  const asked = await ok(api.as(tokens.admin)['merchant-onboarding'].POST(LIFECYCLE.in_review, id));
  if (!('approval_request' in asked)) throw new Error(`merchant ${asked.id} answered no approval request`);
  return asked.approval_request.id;
}

/**
 * Takes a merchant from wherever its application stands to active; returns its view. `admin`
 * asks for the approval and `admin2` approves it (or the request an earlier load left waiting).
 */
export async function approve(api: PuhuiApi, tokens: Tokens, merchant: Merchant): Promise<Merchant> {
  const onboarding = api.as(tokens.admin)['merchant-onboarding'];
  const id = { params: { path: { id: merchant.id } } };
  let current = merchant;
  for (let step = nextStep(current); step !== undefined; step = nextStep(current)) {
    if (step === LIFECYCLE.in_review) {
      const requestId =
        current.pending_approval?.approval_request_id ?? (await requestApproval(api, tokens, id));
      await approveIfPending(api, tokens.admin2, 'merchant-onboarding', requestId);
      current = await ok(onboarding.GET('/v1/merchants/{id}', id));
      if (current.status === 'in_review') throw new Error(`merchant ${current.id} was not approved`);
    } else {
      current = await ok(onboarding.POST(step, id));
    }
  }
  return current;
}

/** Applies (unless an application with this legal name exists) and approves. */
export async function onboard(
  api: PuhuiApi,
  tokens: Tokens,
  merchant: DemoMerchant,
  serial: number,
  existing: Merchant[],
): Promise<{ merchant: Merchant; created: boolean }> {
  const found = existing.find((candidate) => candidate.legal_name === merchant.legal_name);
  const application =
    found ??
    (await ok(
      api.as(tokens.admin)['merchant-onboarding'].POST('/v1/merchants', {
        body: applicationOf(merchant, serial),
      }),
    ));
  return { merchant: await approve(api, tokens, application), created: found === undefined };
}

/** A new secret key for a merchant (shown once). */
export async function createApiKey(api: PuhuiApi, tokens: Tokens, merchantId: string): Promise<string> {
  const key = await ok(
    api.as(tokens.admin)['merchant-onboarding'].POST('/v1/merchants/{id}/api_keys', {
      params: { path: { id: merchantId } },
      body: {},
    }),
  );
  return key.secret;
}

/** Waits until transaction-settlement knows the key (its replica is fed by merchant events). */
export async function awaitCheckoutAccess(api: PuhuiApi, secret: string): Promise<void> {
  const settlement = api.as(secret)['transaction-settlement'];
  await eventually('transaction-settlement accepts the merchant key', async () => {
    const { response } = await settlement.GET('/v1/checkouts', { params: { query: { limit: 1 } } });
    return response.status === 200 ? true : undefined;
  });
}

/** Creates the rule unless one with its name exists, and publishes it unless it is live. */
export async function publishRule(
  api: PuhuiApi,
  tokens: Tokens,
  body: RuleBody,
  existing: Array<{
    rule_id: string;
    name: string;
    status: string;
    pending_approval?: { approval_request_id: string } | null;
  }>,
): Promise<{ rule_id: string; created: boolean }> {
  const rules = api.as(tokens.admin)['discount-rules'];
  const found = existing.find((rule) => rule.name === body.name && rule.status !== 'retired');
  const rule = found ?? (await ok(rules.POST('/v1/rules', { body })));
  if (rule.status === 'published') return { rule_id: rule.rule_id, created: false };
  // A union-funded rule waits for a second admin (dual control), who approves it here.
  const requestId =
    rule.pending_approval?.approval_request_id ?? (await publishOrRequest(api, tokens, rule.rule_id));
  if (requestId !== null) await approveIfPending(api, tokens.admin2, 'discount-rules', requestId);
  return { rule_id: rule.rule_id, created: found === undefined };
}

/** Publishes the rule: null when it went live at once, else the approval request it waits in. */
async function publishOrRequest(api: PuhuiApi, tokens: Tokens, ruleId: string): Promise<string | null> {
  const published = await ok(
    api.as(tokens.admin)['discount-rules'].POST('/v1/rules/{id}/publish', {
      params: { path: { id: ruleId } },
      body: {},
    }),
  );
  return 'approval_request' in published ? published.approval_request.id : null;
}

type CheckoutLine = JsonBody<'transaction-settlement', '/v1/checkouts', 'post'>['lines'][number];

export interface CaptureRequest {
  card_number: string;
  reference: string;
  lines: Array<Pick<CheckoutLine, 'category' | 'amount_minor' | 'description'>>;
}

export function checkoutBody(request: CaptureRequest) {
  return {
    card_number: request.card_number,
    currency: 'CNY' as const,
    reference: request.reference,
    lines: request.lines,
  };
}

/** A capture with the merchant's key: a fresh Idempotency-Key unless one is given (a POS retry). */
export async function capture(
  api: PuhuiApi,
  secret: string,
  request: CaptureRequest,
  key?: string,
): Promise<Schemas<'transaction-settlement'>['Checkout']> {
  return ok(
    api.as(secret)['transaction-settlement'].POST('/v1/checkouts', {
      params: { header: idempotencyKey(key) },
      body: checkoutBody(request),
    }),
  );
}

/** ¥12.34 from 1234 fen. */
export function yuan(fen: number): string {
  const sign = fen < 0 ? '-' : '';
  const absolute = Math.abs(fen);
  return `${sign}¥${Math.floor(absolute / 100).toLocaleString('en-US')}.${String(absolute % 100).padStart(2, '0')}`;
}
