/**
 * A settlement service on its own database, topic prefix and Redis prefix, with the other
 * services played by what they publish: merchant and budget events on Kafka, rate sheets in
 * Redis, and a stand-in discount-rules HTTP server for read-through.
 */
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Kafka, Partitioners, logLevel } from 'kafkajs';
import type { Producer } from 'kafkajs';
import { Client } from 'pg';
import Redis from 'ioredis';
import { closeRedis, signCacheValue } from '@puhui/cache';
import {
  TOPICS,
  TOPIC_PRODUCERS,
  apiKeyCreated,
  formatSequence,
  merchantApproved,
  merchantSuspended,
  newId,
} from '@puhui/contracts';
import type { EventDefinition, MerchantCategory, TopicName } from '@puhui/contracts';
import { RULESET_VERSION_KEY, budgetCreated, rateSheetKey } from '@puhui/discount';
import { PLATFORM_OPERATIONS, assertDocumentedResponse } from '@puhui/http';
import type { CardFacts, DiscountRule, RateSheet } from '@puhui/discount';
import {
  DEVELOPMENT_CARD_TOKEN_KEY,
  DEVELOPMENT_FIELD_KEY,
  DEVELOPMENT_RATE_SHEET_SIGNING_KEY,
  generateApiKey,
  sealField,
} from '@puhui/security';
import { tokenizePan, lastFour, generateTestPan } from '@puhui/cards';
import { startService } from '@puhui/service';
import {
  captureLogger,
  operatorToken,
  startTestService,
  testKafkaBrokers,
  testPostgresUrl,
  testRedisUrl,
  testSubject,
  waitFor,
} from '@puhui/testing';
import { loadTransactionSettlementConfig } from '../src/config';
import { transactionSettlementApi } from '../src/http/api';
import { transactionSettlementService } from '../src/service';

/** Every answer a test gets is checked against the OpenAPI document (see libs/http conformance). */
const DOCUMENTED_OPERATIONS = [...PLATFORM_OPERATIONS, ...transactionSettlementApi.operations];

export function expectDocumented(
  method: string,
  path: string,
  answer: { status: number; body: unknown; headers: Headers },
): void {
  assertDocumentedResponse(DOCUMENTED_OPERATIONS, {
    method,
    path,
    status: answer.status,
    contentType: answer.headers.get('content-type'),
    body: answer.body,
  });
}

/** The harness's people: audit trails name `operator:<FINANCE>`. */
export const FINANCE = testSubject('finance.chen');
export const ADMIN = testSubject('admin.zhang');
/** The second people who approve what the harness's admin and finance ask for (dual control). */
export const ADMIN_CHECKER = testSubject('admin.li');
export const FINANCE_CHECKER = testSubject('finance.wang');

/** What `captureSale` calls its one line. */
export const SALE_DESCRIPTION = '会员日 牛奶 2 箱';

export interface ApiResponse {
  status: number;
  /** The parsed JSON of a JSON answer; `{}` for an empty one or a file (read `text`). */
  body: Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  headers: Headers;
  text: string;
}

export interface CallOptions {
  token?: string;
  body?: unknown;
  idempotencyKey?: string;
}

/** A stand-in for discount-rules' rate sheet endpoint: answers from `sheets`, or fails on demand. */
class FakeDiscountRules {
  readonly sheets = new Map<string, RateSheet>();
  mode: 'up' | 'down' = 'up';
  calls = 0;
  /** The Authorization header of the last call (settlement's service credential). */
  lastAuthorization: string | undefined;
  private server: Server | undefined;
  url = '';

  async start(): Promise<void> {
    this.server = createServer((request, response) => {
      this.calls += 1;
      this.lastAuthorization = request.headers.authorization;
      const token = /\/v1\/cards\/([^/]+)\/rate_sheet$/u.exec(request.url ?? '')?.[1];
      if (this.mode === 'down') {
        response.writeHead(503).end();
        return;
      }
      const sheet = token === undefined ? undefined : this.sheets.get(decodeURIComponent(token));
      response.writeHead(sheet === undefined ? 404 : 200, { 'content-type': 'application/json' });
      response.end(JSON.stringify(sheet ?? { code: 'not_found' }));
    });
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server?.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    await new Promise((resolve) => this.server?.close(resolve));
  }
}

export interface TestMerchant {
  merchant_id: string;
  secret: string;
}

export interface TestCard extends CardFacts {
  card_number: string;
}

/** Starts `harness` before the file's tests, then runs `setup` (their merchants, cards, budgets); closes it after them. */
export function useHarness(harness: SettlementHarness, setup?: () => Promise<void>): void {
  beforeAll(async () => {
    await harness.start();
    await setup?.();
  });
  afterAll(async () => {
    await harness.close();
  });
}

/** A `merchant.approved` payload, as merchant-onboarding announces an approval. */
export function merchantApproval(
  merchantId: string,
  category: MerchantCategory,
  displayName = `测试商户 ${category}`,
) {
  return {
    merchant: {
      merchant_id: merchantId,
      status: 'active',
      legal_name: `测试商户 ${merchantId}`,
      display_name: displayName,
      category,
      mcc: '5411',
      region_code: '361100',
      settlement_account: {
        account_type: 'corporate',
        account_name: `测试商户 ${merchantId}`,
        account_number_masked: '**** **** 0123',
        account_number_last4: '0123',
        account_number_sealed: sealField('6222021234567890123', DEVELOPMENT_FIELD_KEY, merchantId),
        bank_name: '中国工商银行',
        branch_code: '102431000015',
      },
      outlets: [],
    },
    approved_at: new Date().toISOString(),
    approved_by: 'operator:test',
  };
}

export class SettlementHarness {
  url = '';
  databaseUrl = '';
  /** A fresh finance token each time it is read (tokens live 5 minutes). */
  get finance(): string {
    return operatorToken(['finance'], { subject: FINANCE });
  }
  get admin(): string {
    return operatorToken(['admin'], { subject: ADMIN });
  }
  get adminChecker(): string {
    return operatorToken(['admin'], { subject: ADMIN_CHECKER });
  }
  get financeChecker(): string {
    return operatorToken(['finance'], { subject: FINANCE_CHECKER });
  }
  readonly rules = new FakeDiscountRules();
  private topicPrefix = '';
  private redisPrefix = '';
  private redis: Redis | undefined;
  private producer: Producer | undefined;
  private closeService: (() => Promise<void>) | undefined;
  private rulesetVersion = 1;
  /** The service's warnings and errors, as it logged them. */
  readonly logs = captureLogger('transaction-settlement', 'warn');

  async start(): Promise<void> {
    await this.rules.start();
    const running = await startTestService(
      (environment) =>
        startService(transactionSettlementService(loadTransactionSettlementConfig(environment)), {
          logger: this.logs.logger,
        }),
      { DISCOUNT_RULES_URL: this.rules.url, RATE_SHEET_TIMEOUT_MS: '300', POSTGRES_POOL_SIZE_MAX: '12' },
    );
    this.url = running.url;
    this.topicPrefix = running.topicPrefix;
    this.redisPrefix = running.environment.REDIS_KEY_PREFIX ?? '';
    const databaseUrl = new URL(testPostgresUrl());
    databaseUrl.pathname = `/${running.environment.DATABASE_NAME ?? ''}`;
    this.databaseUrl = databaseUrl.toString();
    this.closeService = running.close;
    this.redis = new Redis(testRedisUrl(), { keyPrefix: this.redisPrefix });
    await this.redis.set(RULESET_VERSION_KEY, String(this.rulesetVersion));
    const kafka = new Kafka({
      clientId: 'settlement-test',
      brokers: testKafkaBrokers(),
      logLevel: logLevel.NOTHING,
    });
    this.producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
    await this.producer.connect();
    await waitFor(async () => (await this.call('GET', '/readyz')).status === 200, {
      description: 'settlement ready',
    });
  }

  async close(): Promise<void> {
    await this.producer?.disconnect();
    if (this.redis !== undefined) await closeRedis(this.redis);
    await this.closeService?.();
    await this.rules.stop();
  }

  async call(method: string, path: string, options: CallOptions = {}): Promise<ApiResponse> {
    const response = await fetch(`${this.url}${path}`, {
      method,
      headers: {
        ...(options.token === undefined ? {} : { authorization: `Bearer ${options.token}` }),
        ...(options.body === undefined ? {} : { 'content-type': 'application/json' }),
        ...(options.idempotencyKey === undefined ? {} : { 'idempotency-key': options.idempotencyKey }),
      },
      ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
    });
    const text = await response.text();
    // A JSON answer must parse; a CSV file is handed over as text, its content type checked.
    const json = /[/+]json\b/u.test(response.headers.get('content-type') ?? '');
    const answer = {
      status: response.status,
      body: text === '' || !json ? {} : JSON.parse(text),
      headers: response.headers,
      text,
    };
    expectDocumented(method, path, answer);
    return answer;
  }

  /**
   * Publishes an event as its owning service would (the topic's producer as `source`, unless
   * another is named), into this test's topics.
   */
  async publish<Definition extends EventDefinition>(
    definition: Definition,
    subject: string,
    data: unknown,
    sequence = 1,
    source = TOPIC_PRODUCERS[definition.topic as TopicName],
  ): Promise<void> {
    const envelope = {
      specversion: '1.0',
      id: randomUUID(),
      source,
      type: definition.type,
      subject,
      time: new Date().toISOString(),
      datacontenttype: 'application/json',
      sequence: formatSequence(sequence),
      data: definition.data.parse(data),
    };
    await this.producer?.send({
      topic: `${this.topicPrefix}${definition.topic}`,
      acks: -1,
      messages: [{ key: subject, value: JSON.stringify(envelope) }],
    });
  }

  /** An approved merchant with a working API key, once settlement's replica knows both. */
  async addMerchant(category: MerchantCategory): Promise<TestMerchant> {
    const merchantId = newId('mer');
    await this.publish(merchantApproved, merchantId, merchantApproval(merchantId, category));
    return { merchant_id: merchantId, secret: await this.addKey(merchantId, 2) };
  }

  /**
   * A new API key of the merchant, announced with the merchant's event `sequence`, once
   * settlement's replica knows it; answers its secret.
   */
  async addKey(merchantId: string, sequence: number): Promise<string> {
    const key = generateApiKey();
    await this.publish(
      apiKeyCreated,
      merchantId,
      {
        merchant_id: merchantId,
        key_id: newId('key'),
        prefix: key.prefix,
        key_hash: key.hash,
        created_at: new Date().toISOString(),
        expires_at: null,
      },
      sequence,
    );
    await waitFor(
      async () => (await this.call('GET', '/v1/checkouts', { token: key.secret })).status === 200,
      { description: `the key of merchant ${merchantId} replicated` },
    );
    return key.secret;
  }

  async suspendMerchant(merchantId: string): Promise<void> {
    await this.publish(
      merchantSuspended,
      merchantId,
      { merchant_id: merchantId, status: 'suspended', reason: 'test', occurred_at: new Date().toISOString() },
      3,
    );
  }

  async addBudget(name: string): Promise<string> {
    const budgetId = newId('bud');
    await this.publish(budgetCreated, budgetId, {
      budget_id: budgetId,
      name,
      union_id: 'union_sr_01',
      currency: 'CNY',
      created_at: new Date().toISOString(),
    });
    await waitFor(
      async () => (await this.call('GET', `/v1/budgets/${budgetId}`, { token: this.finance })).status === 200,
      {
        description: `budget ${budgetId} replicated`,
      },
    );
    return budgetId;
  }

  /** A budget, replicated, and funded with `amountMinor` fen by an admin's top-up. */
  async fundedBudget(name: string, amountMinor: number): Promise<string> {
    const budgetId = await this.addBudget(name);
    expect((await this.topUp(budgetId, amountMinor)).status).toBe(200);
    return budgetId;
  }

  /**
   * A capture of `lines` in CNY by the caller with `token`, the card present, with a fresh key and
   * reference; `overrides` replace fields of the body.
   */
  captureLines(
    token: string,
    cardNumber: string,
    lines: unknown[],
    overrides: Record<string, unknown> = {},
  ): Promise<ApiResponse> {
    return this.call('POST', '/v1/checkouts', {
      token,
      idempotencyKey: randomUUID(),
      body: { card_number: cardNumber, currency: 'CNY', reference: `R-${randomUUID()}`, lines, ...overrides },
    });
  }

  /** A one-line sale of `amountMinor` fen (described as SALE_DESCRIPTION), the card present, with a fresh key and reference. */
  captureSale(merchant: TestMerchant, card: TestCard, amountMinor: number): Promise<ApiResponse> {
    return this.captureLines(merchant.secret, card.card_number, [
      { category: 'general', amount_minor: amountMinor, description: SALE_DESCRIPTION },
    ]);
  }

  /** A refund of `amountMinor` fen of the merchant's checkout, with a fresh key. */
  refundSale(merchant: TestMerchant, checkoutId: string, amountMinor: number): Promise<ApiResponse> {
    return this.call('POST', `/v1/checkouts/${checkoutId}/refunds`, {
      token: merchant.secret,
      idempotencyKey: randomUUID(),
      body: { amount_minor: amountMinor },
    });
  }

  /** Decides an approval request as `token`'s person: `approve`, or `reject` with a reason. */
  decide(
    approvalRequestId: string,
    token: string,
    decision: 'approve' | 'reject' = 'approve',
    body: Record<string, unknown> = decision === 'reject' ? { reason: 'not this one' } : {},
  ): Promise<ApiResponse> {
    return this.call('POST', `/v1/approval_requests/${approvalRequestId}/${decision}`, { token, body });
  }

  /**
   * Asks with `requested` (202, an approval request) and has `checker` approve it: answers the
   * approval's status (200) with its outcome as the body, or the refusal of either step.
   */
  private async approved(requested: ApiResponse, checker: string): Promise<ApiResponse> {
    if (requested.status !== 202) return requested;
    const approval = await this.decide(requested.body.approval_request.id, checker);
    return approval.status === 200 ? { ...approval, body: approval.body.outcome } : approval;
  }

  /** A top-up asked for by the admin and approved by a second admin: 200 and the top-up. */
  async topUp(budgetId: string, amountMinor: number): Promise<ApiResponse> {
    const requested = await this.call('POST', `/v1/budgets/${budgetId}/top_ups`, {
      token: this.admin,
      idempotencyKey: randomUUID(),
      body: { amount_minor: amountMinor, reference: `top-up-${randomUUID()}` },
    });
    return this.approved(requested, this.adminChecker);
  }

  /** A payment of the batch asked for by finance and approved by a second finance person: 200 and the paid batch. */
  async markPaid(batchId: string, bankReference: string): Promise<ApiResponse> {
    const requested = await this.call('POST', `/v1/settlement_batches/${batchId}/mark_paid`, {
      token: this.finance,
      idempotencyKey: randomUUID(),
      body: { bank_reference: bankReference },
    });
    return this.approved(requested, this.financeChecker);
  }

  /** A registered card: its rate sheet in Redis (as discount-rules writes it) and at the fake service. */
  async addCard(
    serial: number,
    rules: DiscountRule[],
    overrides: Partial<CardFacts> = {},
    cached = true,
  ): Promise<TestCard> {
    const cardNumber = generateTestPan(serial, { length: 19 });
    const card: CardFacts = {
      card_token: tokenizePan(cardNumber, DEVELOPMENT_CARD_TOKEN_KEY),
      card_last4: lastFour(cardNumber),
      member_id: `member-${serial}`,
      union_id: 'union_sr_01',
      tier: 'standard',
      status: 'active',
      ...overrides,
    };
    const sheet: RateSheet = {
      card,
      ruleset_version: this.rulesetVersion,
      computed_at: new Date().toISOString(),
      rules: card.status === 'active' ? rules : [],
    };
    this.rules.sheets.set(card.card_token, sheet);
    if (cached) {
      const key = rateSheetKey(this.rulesetVersion, card.card_token);
      await this.redis?.set(
        key,
        signCacheValue(DEVELOPMENT_RATE_SHEET_SIGNING_KEY, key, JSON.stringify(sheet)),
      );
    }
    return { ...card, card_number: cardNumber };
  }

  /** What Redis holds under the card's rate sheet key, exactly as stored. */
  async storedSheet(cardToken: string): Promise<string | null> {
    return (await this.redis?.get(rateSheetKey(this.rulesetVersion, cardToken))) ?? null;
  }

  /** Writes `stored` under the card's rate sheet key as it is: no signature added. */
  async storeRawSheet(cardToken: string, stored: string): Promise<void> {
    await this.redis?.set(rateSheetKey(this.rulesetVersion, cardToken), stored);
  }

  async query<Row extends Record<string, unknown>>(sql: string, parameters: unknown[] = []): Promise<Row[]> {
    const client = new Client({ connectionString: this.databaseUrl });
    await client.connect();
    try {
      return (await client.query<Row>(sql, parameters)).rows;
    } finally {
      await client.end();
    }
  }

  topic(name: keyof typeof TOPICS): string {
    return `${this.topicPrefix}${TOPICS[name]}`;
  }
}

let ruleSerial = 0;
/** A published percent-off rule as discount-rules would put it on a rate sheet. */
/** `bps` off supermarket purchases, `unionShareBps` of the discount paid by the union from `budgetId`. */
export function unionFundedRule(budgetId: string, bps: number, unionShareBps: number): DiscountRule {
  return percentOffRule({
    category: 'supermarket',
    bps,
    union_share_bps: unionShareBps,
    budget_id: budgetId,
  });
}

export function percentOffRule(
  overrides: Partial<DiscountRule> & { bps: number; category: MerchantCategory; items?: string[] | null },
): DiscountRule {
  ruleSerial += 1;
  const { bps, category, items, ...rest } = overrides;
  return {
    rule_id: `rule_${String(ruleSerial).padStart(4, '0')}`,
    version: 1,
    name: `${category} ${bps} bps`,
    scope: { merchant_categories: [category], merchant_ids: null },
    item_categories: items ?? null,
    eligibility: { card_tiers: null, union_ids: null },
    benefit: { type: 'percent_off', bps },
    caps: { per_transaction_minor: null, per_card_day_minor: null, per_card_month_minor: null },
    union_share_bps: 0,
    budget_id: null,
    schedule: {
      valid_from: '2020-01-01T00:00:00+08:00',
      valid_to: null,
      days_of_week: null,
      time_of_day: null,
    },
    priority: 0,
    stacking: 'exclusive',
    ...rest,
  };
}
