/**
 * The test harness: the service on its own database, topic prefix and Redis key prefix,
 * recorders on the topics it writes, a producer for the merchant events it consumes, and
 * direct Postgres and Redis clients for what HTTP does not show.
 */
import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { createRedis } from '@puhui/cache';
import type { Redis } from '@puhui/cache';
import {
  TOPICS,
  TOPIC_PRODUCERS,
  formatSequence,
  merchantApproved,
  merchantTerminated,
  newId,
} from '@puhui/contracts';
import type { MerchantCategory } from '@puhui/contracts';
import { createKafka, ensureTopics } from '@puhui/events';
import { PLATFORM_OPERATIONS, assertDocumentedResponse } from '@puhui/http';
import { startService } from '@puhui/service';
import type { Logger } from '@puhui/logging';
import { createLogger } from '@puhui/logging';
import {
  operatorToken,
  readAnswer,
  recordTopic,
  sendJson,
  startTestService,
  testKafkaBrokers,
  testPostgresUrl,
  testRedisUrl,
  testSubject,
  uniqueSuffix,
  waitFor,
} from '@puhui/testing';
import type { JsonAnswer, TopicRecorder } from '@puhui/testing';

/** The harness's people: audit trails name `operator:<ADMIN>`. */
export const ADMIN = testSubject('admin.zhang');
export const FINANCE = testSubject('finance.zhang');
import { loadDiscountRulesConfig } from '../src/config';
import type { DiscountRulesConfig } from '../src/config';
import { discountRulesApi } from '../src/http/api';
import { discountRulesService } from '../src/service';

/** Every answer a test gets is checked against the OpenAPI document (see libs/http conformance). */
const DOCUMENTED_OPERATIONS = [...PLATFORM_OPERATIONS, ...discountRulesApi.operations];

export type ApiResponse = JsonAnswer;

type Call = (
  method: string,
  path: string,
  options?: { token?: string; body?: unknown },
) => Promise<ApiResponse>;

export interface Harness {
  url: string;
  config: DiscountRulesConfig;
  topicPrefix: string;
  redisPrefix: string;
  rules: TopicRecorder;
  cards: TopicRecorder;
  /** Fresh tokens each time they are read (tokens live 5 minutes). */
  readonly admin: string;
  readonly finance: string;
  call: Call;
  /** Posts a CSV body, streamed when given an iterable. */
  upload: (
    body: string | AsyncIterable<string>,
    options?: { token?: string; contentType?: string; contentEncoding?: string; signal?: AbortSignal },
  ) => Promise<ApiResponse>;
  /** Connected to the service's database. */
  db: Client;
  /** Keys carry the service's prefix, as the service's client does. */
  redis: Redis;
  approveMerchant: (category?: MerchantCategory) => Promise<string>;
  /**
   * Puts a merchant event straight onto puhui.merchants.v1 (the next sequence of the merchant),
   * as `source` (merchant-onboarding by default); does not wait for the replica.
   */
  publishMerchant: (merchantId: string, type: string, data: unknown, source?: string) => Promise<void>;
  terminateMerchant: (merchantId: string) => Promise<void>;
  close: () => Promise<void>;
}

async function parseResponse(response: Response, method: string, path: string): Promise<ApiResponse> {
  const answer = await readAnswer(response);
  assertDocumentedResponse(DOCUMENTED_OPERATIONS, { method, path, ...answer });
  return answer;
}

export function merchantSnapshot(merchantId: string, category: MerchantCategory) {
  return {
    merchant_id: merchantId,
    status: 'active' as const,
    legal_name: `上饶市测试商户${merchantId.slice(-4)}有限公司`,
    display_name: `测试商户 ${merchantId.slice(-4)}`,
    category,
    mcc: '5411',
    region_code: '361100',
    settlement_account: {
      account_type: 'corporate' as const,
      account_name: '上饶市测试商户有限公司',
      account_number_masked: '6222 **** **** 0123',
      account_number_last4: '0123',
      account_number_sealed: 'sealed',
      bank_name: '中国工商银行上饶分行',
      branch_code: '102431000015',
    },
    settlement_account_changed_at: null,
    outlets: [],
  };
}

export async function startHarness(
  options: { logger?: Logger; environment?: Record<string, string> } = {},
): Promise<Harness> {
  const topicPrefix = `test.${uniqueSuffix()}.`;
  const redisPrefix = `test:${uniqueSuffix()}:`;
  const kafka = createKafka({
    brokers: testKafkaBrokers(),
    clientId: 'discount-rules-test',
    logger: createLogger({ service: 'test', level: 'silent' }),
  });
  // The service consumes merchant events; in production merchant-onboarding creates the topic.
  await ensureTopics(kafka, [TOPICS.merchants], { partitions: 1, replicationFactor: 1, prefix: topicPrefix });
  const running = await startTestService(
    (environment) =>
      startService(
        discountRulesService(loadDiscountRulesConfig(environment)),
        options.logger === undefined ? {} : { logger: options.logger },
      ),
    { KAFKA_TOPIC_PREFIX: topicPrefix, REDIS_KEY_PREFIX: redisPrefix, ...options.environment },
  );
  const config = running.service.dependencies.config;
  const [rules, cards] = await Promise.all([
    recordTopic(`${topicPrefix}${TOPICS.rules}`),
    recordTopic(`${topicPrefix}${TOPICS.cards}`),
  ]);
  const producer = kafka.producer();
  await producer.connect();
  const db = new Client({ connectionString: `${testPostgresUrl()}/${config.DATABASE_NAME}` });
  await db.connect();
  const redis = await readyRedis(redisPrefix);
  // Fresh tokens for each request: they live 5 minutes.
  const admin = () => operatorToken(['admin'], { subject: ADMIN });
  const finance = () => operatorToken(['finance'], { subject: FINANCE });

  const call: Call = async (method, path, callOptions = {}) => {
    const sent = { token: callOptions.token ?? admin(), body: callOptions.body };
    return parseResponse(await sendJson(`${running.url}${path}`, method, sent), method, path);
  };

  const upload: Harness['upload'] = async (body, uploadOptions = {}) => {
    const response = await fetch(`${running.url}/v1/cards/imports`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${uploadOptions.token ?? admin()}`,
        'content-type': uploadOptions.contentType ?? 'text/csv',
        ...(uploadOptions.contentEncoding === undefined
          ? {}
          : { 'content-encoding': uploadOptions.contentEncoding }),
      },
      body: typeof body === 'string' ? body : ReadableStream.from(body),
      ...(uploadOptions.signal === undefined ? {} : { signal: uploadOptions.signal }),
      ...(typeof body === 'string' ? {} : { duplex: 'half' }),
    } as RequestInit);
    return parseResponse(response, 'POST', '/v1/cards/imports');
  };

  const merchantSequences = new Map<string, number>();
  const publishMerchant: Harness['publishMerchant'] = async (
    merchantId,
    type,
    data,
    source = TOPIC_PRODUCERS[TOPICS.merchants],
  ) => {
    const sequence = (merchantSequences.get(merchantId) ?? 0) + 1;
    merchantSequences.set(merchantId, sequence);
    const envelope = {
      specversion: '1.0',
      id: randomUUID(),
      source,
      type,
      subject: merchantId,
      time: new Date().toISOString(),
      datacontenttype: 'application/json',
      sequence: formatSequence(sequence),
      data,
    };
    await producer.send({
      topic: `${topicPrefix}${TOPICS.merchants}`,
      acks: -1,
      messages: [{ key: merchantId, value: JSON.stringify(envelope) }],
    });
  };
  const merchantStatus = async (merchantId: string) =>
    (await db.query<{ status: string }>('SELECT status FROM merchants WHERE merchant_id = $1', [merchantId]))
      .rows[0]?.status;

  return {
    url: running.url,
    config,
    topicPrefix,
    redisPrefix,
    rules,
    cards,
    get admin() {
      return admin();
    },
    get finance() {
      return finance();
    },
    call,
    upload,
    db,
    redis,
    publishMerchant,
    approveMerchant: async (category = 'supermarket') => {
      const merchantId = newId('mer');
      const data = {
        merchant: merchantSnapshot(merchantId, category),
        approved_at: new Date().toISOString(),
        approved_by: 'operator:admin.li',
      };
      await publishMerchant(merchantId, merchantApproved.type, merchantApproved.data.parse(data));
      await waitFor(() => merchantStatus(merchantId), { description: `merchant ${merchantId} replicated` });
      return merchantId;
    },
    terminateMerchant: async (merchantId) => {
      const data = {
        merchant_id: merchantId,
        status: 'terminated',
        reason: 'closed',
        occurred_at: new Date().toISOString(),
      };
      await publishMerchant(merchantId, merchantTerminated.type, merchantTerminated.data.parse(data));
      await waitFor(async () => (await merchantStatus(merchantId)) === 'terminated', {
        description: `merchant ${merchantId} terminated`,
      });
    },
    close: async () => {
      await Promise.all([rules.stop(), cards.stop(), producer.disconnect()]);
      await db.end();
      await running.close();
      redis.disconnect();
      await deleteKeys(redisPrefix);
    },
  };
}

/** The client queues no commands while connecting (as in the service), so wait until it is ready. */
async function readyRedis(keyPrefix = ''): Promise<Redis> {
  const redis = createRedis({ url: testRedisUrl(), keyPrefix });
  if (redis.status !== 'ready') await new Promise((resolve) => redis.once('ready', resolve));
  return redis;
}

/** Removes the test's Redis keys (the prefix keeps them apart from everyone else's). */
async function deleteKeys(prefix: string): Promise<void> {
  const plain = await readyRedis();
  try {
    let cursor = '0';
    do {
      const [next, keys] = await plain.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      if (keys.length > 0) await plain.del(...keys);
      cursor = next;
    } while (cursor !== '0');
  } finally {
    plain.disconnect();
  }
}

/** A valid rule body: 9.5折 at supermarkets, merchant-funded, from 2025 on. */
export function supermarketRule(overrides: Record<string, unknown> = {}) {
  return {
    name: '超市9.5折',
    scope: { merchant_categories: ['supermarket'] },
    benefit: { type: 'percent_off', bps: 500 },
    schedule: { valid_from: '2025-01-01T00:00:00+08:00' },
    ...overrides,
  };
}

/** A CSV of `count` cards from `serialBase` on, tiers and unions mixed. */
export function cardsCsv(serialBase: number, count: number, pan: (serial: number) => string): string {
  const tiers = ['standard', 'model_worker', 'hardship'];
  const rows = Array.from(
    { length: count },
    (_, index) => `${pan(serialBase + index)},M${serialBase + index},union-${index % 4},${tiers[index % 3]}`,
  );
  return `card_number,member_id,union_id,tier\n${rows.join('\n')}\n`;
}
