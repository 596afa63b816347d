/**
 * Seeds a fresh Puhui through its public APIs only: hundreds of approved merchants with
 * secret keys, the standing offers as rules plus a union-funded stackable subsidy with a
 * funded budget, and 10,000+ member cards imported as one CSV. Then waits until settlement's
 * replicas (fed through Kafka) know every merchant key and the budget.
 */
import { csvBody, idempotencyKey, ok, puhuiClients } from '@puhui/api-clients';
import type { JsonBody, PuhuiClients } from '@puhui/api-clients';
import { generateTestPan } from '@puhui/cards';
import { DEFAULT_MCC } from '@puhui/contracts';
import type { MerchantCategory } from '@puhui/contracts';
import { makeCreditCode, makeResidentId } from '@puhui/kyc';
import { signOperatorToken, toolSigningKey } from '@puhui/security';
import { SERVICE_NAMES } from './system';
import type { ServiceName, System } from './system';

/** A card import of tens of thousands of lines takes a while on a busy machine. */
const REQUEST_TIMEOUT_MS = 120_000;

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Json = Record<string, any>;

/** The bench's operator tokens: each read signs a fresh one (one lasts 5 minutes, a run an hour). */
export interface Tokens {
  readonly admin: string;
  readonly finance: string;
  /** A second admin, who approves what `admin` asks for (dual control). */
  readonly admin2: string;
}

/** The bench's people (account ids), as the audit trails name them. */
const BENCH_SUBJECTS = {
  admin: '00000000-0000-4000-8000-00000000be01',
  finance: '00000000-0000-4000-8000-00000000be02',
  admin2: '00000000-0000-4000-8000-00000000be03',
} as const;

export function operatorTokens(): Tokens {
  const { key } = toolSigningKey();
  const audience = SERVICE_NAMES.filter((name) => (name as string) !== 'console');
  const mint = (role: 'admin' | 'finance', person: keyof typeof BENCH_SUBJECTS = role) =>
    signOperatorToken({ subject: BENCH_SUBJECTS[person], roles: [role], audience }, key);
  return {
    get admin() {
      return mint('admin');
    },
    get finance() {
      return mint('finance');
    },
    get admin2() {
      return mint('admin', 'admin2');
    },
  };
}

/** The services' typed clients (libs/api-clients) for a credential, on the bench's system. */
export class Api {
  constructor(private readonly system: System) {}

  url(service: ServiceName): string {
    return this.system.services[service].url;
  }

  /** `token`: a credential, or a provider of a fresh one for each request (`() => tokens.admin`). */
  as(token: string | (() => string)): PuhuiClients {
    const urls = Object.fromEntries(SERVICE_NAMES.map((name) => [name, this.url(name)]));
    return puhuiClients(urls as Record<ServiceName, string>, { token, timeoutMs: REQUEST_TIMEOUT_MS });
  }
}

export async function eventually<T>(
  description: string,
  probe: () => Promise<T | undefined>,
  timeoutMs = 60_000,
  intervalMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${description}: not within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** Runs `work` over `items` with at most `concurrency` at once. */
export async function inParallel<T, R>(
  items: readonly T[],
  concurrency: number,
  work: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array<R>(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, items.length) }, async () => {
      while (next < items.length) {
        const index = next;
        next += 1;
        results[index] = await work(items[index] as T, index);
      }
    }),
  );
  return results;
}

export const CATEGORIES: MerchantCategory[] = [
  'supermarket',
  'pharmacy',
  'hospital',
  'hotel',
  'scenic_spot',
  'restaurant',
];
/** Standing offers (DESIGN §1) in bps off; the restaurant's is the bench's own. */
const OFFER_BPS: Record<string, number> = {
  supermarket: 500,
  pharmacy: 1500,
  hospital: 2000,
  hotel: 2200,
  scenic_spot: 5000,
  restaurant: 1000,
};
const REGION_CODE = '361100';
const CARD_PREFIX = '6217992';
const CARD_LENGTH = 19;
const MERCHANT_SERIAL_BASE = 4_700_000;

function application(index: number, category: MerchantCategory) {
  const serial = MERCHANT_SERIAL_BASE + index;
  const digits = String(serial).padStart(7, '0');
  const name = `上饶基准测试商户${String(index).padStart(4, '0')}有限公司`;
  return {
    legal_name: name,
    display_name: `基准商户 ${index}`,
    credit_code: makeCreditCode(`91${REGION_CODE}MA${digits}`),
    category,
    mcc: DEFAULT_MCC[category],
    region_code: REGION_CODE,
    address: `江西省上饶市信州区测试路${index}号`,
    contact: {
      name: '王测试',
      mobile: `1390793${digits.slice(-4)}`,
      email: `bench${serial}@merchant.example.cn`,
    },
    legal_representative: {
      name: '李基准',
      id_number: makeResidentId(
        `3611021975${String(1 + (index % 12)).padStart(2, '0')}15${digits.slice(-3)}`,
      ),
    },
    settlement_account: {
      account_type: 'corporate' as const,
      account_name: name,
      account_number: `1506210009${digits}`,
      bank_name: '中国工商银行上饶分行',
      branch_code: '102431000015',
    },
    outlets: [{ name: '总店', address: `江西省上饶市信州区测试路${index}号` }],
  };
}

export interface BenchMerchant {
  merchant_id: string;
  category: string;
  secret: string;
}

export interface Seeded {
  merchants: BenchMerchant[];
  cardNumbers: string[];
  budgetId: string;
  ruleIds: string[];
}

export function cardNumber(serial: number): string {
  return generateTestPan(serial, { prefix: CARD_PREFIX, length: CARD_LENGTH });
}

function cardsCsv(count: number): string {
  const rows = ['card_number,member_id,union_id,tier'];
  for (let serial = 1; serial <= count; serial += 1) {
    const tier = serial % 10 === 3 ? 'model_worker' : 'standard';
    rows.push(
      `${cardNumber(serial)},BM${String(serial).padStart(8, '0')},bench-union-${serial % 40},${tier}`,
    );
  }
  return `${rows.join('\n')}\n`;
}

const SCHEDULE = {
  valid_from: '2026-01-01T00:00:00+08:00',
  valid_to: null,
  days_of_week: null,
  time_of_day: null,
};

export async function onboardMerchant(api: Api, tokens: Tokens, index: number): Promise<BenchMerchant> {
  const category = CATEGORIES[index % CATEGORIES.length] as MerchantCategory;
  const onboarding = api.as(() => tokens.admin)['merchant-onboarding'];
  const { id } = await ok(onboarding.POST('/v1/merchants', { body: application(index, category) }));
  const merchant = { params: { path: { id } } };
  for (const step of ['/v1/merchants/{id}/submit', '/v1/merchants/{id}/start_review'] as const) {
    await ok(onboarding.POST(step, merchant));
  }
  // The approval waits for a second admin (dual control).
  const asked = await ok(onboarding.POST('/v1/merchants/{id}/approve', merchant));
  if (!('approval_request' in asked)) throw new Error(`merchant ${id} answered no approval request`);
  await ok(
    api
      .as(() => tokens.admin2)
      ['merchant-onboarding'].POST('/v1/approval_requests/{id}/approve', {
        params: { path: { id: asked.approval_request.id } },
        body: {},
      }),
  );
  const key = await ok(onboarding.POST('/v1/merchants/{id}/api_keys', { ...merchant, body: {} }));
  return { merchant_id: id, category, secret: key.secret };
}

export async function awaitCheckoutAccess(api: Api, merchant: BenchMerchant): Promise<void> {
  await eventually(`settlement knows ${merchant.merchant_id}'s key`, async () => {
    const { response } = await api
      .as(merchant.secret)
      ['transaction-settlement'].GET('/v1/checkouts', { params: { query: { limit: 1 } } });
    return response.status === 200 ? true : undefined;
  });
}

export async function seed(
  api: Api,
  tokens: Tokens,
  counts: { merchants: number; cards: number },
  log: (line: string) => void,
): Promise<Seeded> {
  const merchants = await inParallel(
    Array.from({ length: counts.merchants }, (_, index) => index),
    6,
    (index) => onboardMerchant(api, tokens, index),
  );
  log(`  ${merchants.length} merchants approved with keys`);

  const admin = api.as(() => tokens.admin);
  const rules = admin['discount-rules'];
  const budget = await ok(
    rules.POST('/v1/budgets', {
      body: { name: 'bench model-worker subsidy', union_id: 'bench-federation', currency: 'CNY' },
    }),
  );
  const budgetId = budget.budget_id;
  const funding = await eventually('settlement knows the budget', async () => {
    const funded = await admin['transaction-settlement'].POST('/v1/budgets/{id}/top_ups', {
      params: { path: { id: budgetId }, header: idempotencyKey(`bench-fund-${budgetId}`) },
      body: { amount_minor: 100_000_000_000, reference: 'BENCH-FUND' },
    });
    // 503 not_yet_available until the budget's event reaches settlement.
    return funded.response.status === 503 ? undefined : ok(funded);
  });
  // The top-up waits for a second admin (dual control).
  const checker = api.as(() => tokens.admin2)['transaction-settlement'];
  await ok(
    checker.POST('/v1/approval_requests/{id}/approve', {
      params: { path: { id: funding.approval_request.id } },
      body: {},
    }),
  );

  const ruleIds: string[] = [];
  const publish = async (body: RuleBody) => {
    const rule = await ok(rules.POST('/v1/rules', { body }));
    const published = await ok(
      rules.POST('/v1/rules/{id}/publish', { params: { path: { id: rule.rule_id } }, body: {} }),
    );
    // A union-funded rule waits for a second admin (dual control).
    if ('approval_request' in published) {
      await ok(
        api
          .as(() => tokens.admin2)
          ['discount-rules'].POST('/v1/approval_requests/{id}/approve', {
            params: { path: { id: published.approval_request.id } },
            body: {},
          }),
      );
    }
    ruleIds.push(rule.rule_id);
  };
  for (const category of CATEGORIES) {
    const bps = OFFER_BPS[category] as number;
    await publish({
      name: `bench ${category} ${bps} bps`,
      scope: { merchant_categories: [category], merchant_ids: null },
      item_categories: null,
      benefit: { type: 'percent_off', bps },
      merchant_share_bps: 10_000,
      schedule: SCHEDULE,
    });
  }
  await publish({
    name: 'bench model workers: a further 10% off, union-funded',
    scope: { merchant_categories: CATEGORIES, merchant_ids: null },
    item_categories: null,
    eligibility: { card_tiers: ['model_worker'], union_ids: null },
    benefit: { type: 'percent_off', bps: 1_000 },
    caps: { per_transaction_minor: null, per_card_day_minor: null, per_card_month_minor: 500_000 },
    union_share_bps: 10_000,
    budget_id: budgetId,
    schedule: SCHEDULE,
    priority: 10,
    stacking: 'stackable',
  });
  log(`  ${ruleIds.length} rules published, budget funded`);

  const imported = await ok(rules.POST('/v1/cards/imports', csvBody(cardsCsv(counts.cards))));
  log(`  cards imported: ${JSON.stringify({ inserted: imported.inserted, rejected: imported.rejected })}`);

  await inParallel(merchants, 8, (merchant) => awaitCheckoutAccess(api, merchant));
  log('  settlement replicas know every merchant key');
  const cardNumbers = Array.from({ length: counts.cards }, (_, index) => cardNumber(index + 1));
  return { merchants, cardNumbers, budgetId, ruleIds };
}

/** A rule body for POST /v1/rules. */
export type RuleBody = JsonBody<'discount-rules', '/v1/rules', 'post'>;

export function checkoutBody(card: string, reference: string, amountMinor: number) {
  return {
    card_number: card,
    currency: 'CNY' as const,
    reference,
    lines: [{ category: 'general' as const, amount_minor: amountMinor, quantity: 1 }],
  };
}
