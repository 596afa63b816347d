/**
 * What people do with Puhui, through the services' public HTTP APIs only: admins onboard
 * merchants and hand out API keys (merchant-onboarding), register cards, define budgets and
 * publish rules (discount-rules); merchants capture checkouts with their secret key and
 * finance reads the ledger (transaction-settlement).
 */
import { randomUUID } from 'node:crypto';
import { idempotencyKey } from '@puhui/api-clients';
import type { JsonBody } from '@puhui/api-clients';
import { generateTestPan } from '@puhui/cards';
import type { MerchantCategory } from '@puhui/contracts';
import { makeCreditCode, makeResidentId } from '@puhui/kyc';
import { operatorToken, testSubject, waitFor } from '@puhui/testing';
import { looseAnswer } from './system';
import type { ApiResponse, Json, PuhuiSystem } from './system';

function expectStatus(response: ApiResponse, status: number, what: string): ApiResponse {
  if (response.status !== status) {
    throw new Error(`${what}: expected ${status}, got ${response.status} ${JSON.stringify(response.body)}`);
  }
  return response;
}

let applications = 0;
/** A complete merchant application with a credit code of its own. */
export function merchantApplication(category: string) {
  applications += 1;
  const serial = String(Math.floor(Math.random() * 9_000_000) + 1_000_000 + applications).slice(-7);
  const legalName = `上饶市普惠端到端测试商户${serial}有限公司`;
  return {
    legal_name: legalName,
    display_name: `普惠测试 ${serial}`,
    credit_code: makeCreditCode(`91361100MA${serial}`),
    category: category as MerchantCategory,
    region_code: '361100',
    address: '江西省上饶市信州区中山路1号',
    contact: { name: '王芳', mobile: '13800138000', email: 'wang.fang@example.cn' },
    legal_representative: { name: '李强', id_number: makeResidentId('36110219800101123') },
    settlement_account: {
      account_type: 'corporate' as const,
      account_name: legalName,
      account_number: '6222021234567890123',
      bank_name: '中国工商银行上饶分行',
      branch_code: '102431000015',
    },
    outlets: [{ name: '中山路店', address: '江西省上饶市信州区中山路1号' }],
  };
}

export interface Merchant {
  merchant_id: string;
  key_id: string;
  /** The secret API key merchant-onboarding showed once. */
  secret: string;
}

/** Application → submit → review → approve → API key, all at merchant-onboarding. */
export async function onboardMerchant(system: PuhuiSystem, category = 'supermarket'): Promise<Merchant> {
  const onboarding = system.clients(system.admin)['merchant-onboarding'];
  const created = expectStatus(
    looseAnswer(await onboarding.POST('/v1/merchants', { body: merchantApplication(category) })),
    201,
    'application',
  );
  const merchantId = created.body.id as string;
  const id = { params: { path: { id: merchantId } } };
  for (const step of ['/v1/merchants/{id}/submit', '/v1/merchants/{id}/start_review'] as const) {
    expectStatus(looseAnswer(await onboarding.POST(step, id)), 200, step);
  }
  // Dual control: one admin asks for the approval, a second admin approves it.
  const asked = expectStatus(
    looseAnswer(await onboarding.POST('/v1/merchants/{id}/approve', id)),
    202,
    'approval request',
  );
  await approveAsChecker(system, 'merchant-onboarding', asked.body.approval_request.id as string, 'approval');
  const key = expectStatus(
    looseAnswer(await onboarding.POST('/v1/merchants/{id}/api_keys', { ...id, body: {} })),
    201,
    'API key',
  );
  return { merchant_id: merchantId, key_id: key.body.id as string, secret: key.body.secret as string };
}

/** Settlement knows a merchant and its key once its replica consumed them: its key then reads checkouts. */
export async function waitUntilSettlementAccepts(system: PuhuiSystem, merchant: Merchant): Promise<number> {
  const startedAt = Date.now();
  const settlement = system.clients(merchant.secret)['transaction-settlement'];
  await waitFor(
    async () =>
      (await settlement.GET('/v1/checkouts', { params: { query: { limit: 1 } } })).response.status === 200,
    { timeoutMs: 20_000, intervalMs: 100, description: `settlement knows merchant ${merchant.merchant_id}` },
  );
  return Date.now() - startedAt;
}

export interface Card {
  /** Test PAN from generateTestPan: never printed. */
  card_number: string;
  card_token: string;
  card_last4: string;
}

/** Registers a generated test card at discount-rules. */
export async function registerCard(
  system: PuhuiSystem,
  serial: number,
  holder: { tier?: CardTier; union_id?: string } = {},
): Promise<Card> {
  const cardNumber = generateTestPan(serial, { length: 19 });
  const response = expectStatus(
    looseAnswer(
      await system.clients(system.admin)['discount-rules'].POST('/v1/cards', {
        body: {
          card_number: cardNumber,
          member_id: `e2e-member-${serial}`,
          union_id: holder.union_id ?? 'union-e2e',
          tier: holder.tier ?? 'standard',
        },
      }),
    ),
    201,
    'card registration',
  );
  return {
    card_number: cardNumber,
    card_token: response.body.card_token as string,
    card_last4: response.body.card_last4 as string,
  };
}

/** A union budget defined at discount-rules and funded at settlement once settlement opened its account. */
export async function fundedBudget(system: PuhuiSystem, amountMinor: number): Promise<string> {
  const created = expectStatus(
    looseAnswer(
      await system.clients(system.admin)['discount-rules'].POST('/v1/budgets', {
        body: { name: '端到端测试补贴预算', union_id: 'union-e2e', currency: 'CNY' },
      }),
    ),
    201,
    'budget',
  );
  const budgetId = created.body.budget_id as string;
  const budget = { params: { path: { id: budgetId } } };
  await waitFor(
    async () =>
      (await system.clients(system.finance)['transaction-settlement'].GET('/v1/budgets/{id}', budget))
        .response.status === 200,
    { timeoutMs: 20_000, intervalMs: 100, description: `settlement opened budget ${budgetId}` },
  );
  // Dual control: one admin asks for the top-up, a second admin approves it.
  const requested = expectStatus(
    looseAnswer(
      await system.clients(system.admin)['transaction-settlement'].POST('/v1/budgets/{id}/top_ups', {
        params: { ...budget.params, header: idempotencyKey() },
        body: { amount_minor: amountMinor, reference: `e2e-top-up-${budgetId}` },
      }),
    ),
    202,
    'top-up request',
  );
  await approveAsChecker(
    system,
    'transaction-settlement',
    requested.body.approval_request.id as string,
    'top-up approval',
  );
  return budgetId;
}

/** The second admin of dual control (issue 16): approves what `system.admin` asked for. */
export const checkerToken = () => operatorToken(['admin'], { subject: testSubject('e2e-admin-checker') });

/** Approves the approval request `requestId` at `service` as the second admin (checkerToken). */
export async function approveAsChecker(
  system: PuhuiSystem,
  service: 'merchant-onboarding' | 'discount-rules' | 'transaction-settlement',
  requestId: string,
  what: string,
): Promise<ApiResponse> {
  const request = { params: { path: { id: requestId } }, body: {} };
  const clients = system.clients(checkerToken());
  const answer =
    service === 'merchant-onboarding'
      ? await clients['merchant-onboarding'].POST('/v1/approval_requests/{id}/approve', request)
      : service === 'discount-rules'
        ? await clients['discount-rules'].POST('/v1/approval_requests/{id}/approve', request)
        : await clients['transaction-settlement'].POST('/v1/approval_requests/{id}/approve', request);
  return expectStatus(looseAnswer(answer), 200, what);
}

/**
 * A draft rule at discount-rules. Rules may name only merchants discount-rules has heard of
 * (merchant.approved on Kafka), so this retries while the merchant is still unknown.
 */
export async function createRule(system: PuhuiSystem, body: RuleBody): Promise<ApiResponse> {
  const rules = system.clients(system.admin)['discount-rules'];
  return waitFor(
    async () => {
      const response = looseAnswer(await rules.POST('/v1/rules', { body }));
      if (response.status === 201) return response;
      const unknownMerchant = JSON.stringify(response.body).includes('scope.merchant_ids');
      if (!unknownMerchant)
        throw new Error(`rule refused: ${response.status} ${JSON.stringify(response.body)}`);
      return undefined;
    },
    { timeoutMs: 20_000, intervalMs: 100, description: 'discount-rules knows the merchant the rule names' },
  );
}

/** Publishes the rule; one the union funds part of waits for a second admin, who approves it here. */
export async function publishRule(system: PuhuiSystem, ruleId: string): Promise<ApiResponse> {
  const published = looseAnswer(
    await system
      .clients(system.admin)
      ['discount-rules'].POST('/v1/rules/{id}/publish', { params: { path: { id: ruleId } } }),
  );
  if (published.status !== 202) return expectStatus(published, 200, 'publish');
  return approveAsChecker(system, 'discount-rules', published.body.approval_request.id as string, 'publish');
}

export type CheckoutBody = JsonBody<'transaction-settlement', '/v1/checkouts', 'post'>;
export type CheckoutLine = Pick<CheckoutBody['lines'][number], 'category' | 'amount_minor' | 'quantity'>;
/** A rule body for POST /v1/rules. */
export type RuleBody = JsonBody<'discount-rules', '/v1/rules', 'post'>;
type CardTier = JsonBody<'discount-rules', '/v1/cards', 'post'>['tier'];

export function checkoutBody(card: Card, lines: CheckoutLine[], reference = `E2E-${randomUUID()}`) {
  return {
    card_number: card.card_number,
    currency: 'CNY' as const,
    reference,
    lines: lines.map((line) => ({ quantity: 1, ...line })),
  };
}

/** A capture with the merchant's secret key; a new Idempotency-Key unless given. */
export async function capture(
  system: PuhuiSystem,
  merchant: Merchant,
  body: CheckoutBody,
  key: string = randomUUID(),
): Promise<ApiResponse> {
  const settlement = system.clients(merchant.secret)['transaction-settlement'];
  return looseAnswer(
    await settlement.POST('/v1/checkouts', { params: { header: idempotencyKey(key) }, body }),
  );
}

/** Every checkout the merchant can see, all pages. */
export async function listCheckouts(system: PuhuiSystem, merchant: Merchant): Promise<Json[]> {
  const settlement = system.clients(merchant.secret)['transaction-settlement'];
  const all: Array<Record<string, unknown>> = [];
  let startingAfter: string | undefined;
  for (;;) {
    const page = expectStatus(
      looseAnswer(
        await settlement.GET('/v1/checkouts', {
          params: { query: { limit: 100, starting_after: startingAfter } },
        }),
      ),
      200,
      'list checkouts',
    );
    const data = page.body.data as Array<Record<string, unknown>>;
    all.push(...data);
    if (page.body.has_more !== true || data.length === 0) return all;
    startingAfter = data[data.length - 1]?.id as string;
  }
}

/**
 * Polls with fresh captures (a POS retrying a sale) until `accept` takes one; returns it and how
 * long that took. Captures before that count as what the merchant saw meanwhile.
 */
export async function captureUntil(
  system: PuhuiSystem,
  merchant: Merchant,
  makeBody: () => CheckoutBody,
  accept: (response: ApiResponse) => boolean,
  description: string,
  timeoutMs = 10_000,
): Promise<{ response: ApiResponse; elapsedMs: number; attempts: number }> {
  const startedAt = Date.now();
  let attempts = 0;
  const response = await waitFor(
    async () => {
      attempts += 1;
      const answer = await capture(system, merchant, makeBody());
      return accept(answer) ? answer : undefined;
    },
    { timeoutMs, intervalMs: 50, description },
  );
  return { response, elapsedMs: Date.now() - startedAt, attempts };
}
