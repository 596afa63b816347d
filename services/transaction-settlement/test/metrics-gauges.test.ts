/**
 * Settlement's business gauges (issue 20) read against the API's own numbers on the real
 * database: a funded budget drawn on by captures, a voided capture and a refund, the open day
 * closed and settled, a statement that leaves exceptions, and the held subsidy they decide.
 * The collectors are registered on a registry of the test's own (every reading fresh) over a
 * pool on the harness service's database.
 *
 * One rule on the card: 10% off (1000 bps), 60% of it from the union's budget. A sale of G fen
 * gets G/10 off, union 0.6 × G/10, merchant the rest.
 */
import { randomUUID } from 'node:crypto';
import { createRedis } from '@puhui/cache';
import { Registry, parseMetricsText, sampleValue } from '@puhui/metrics';
import type { Sample } from '@puhui/metrics';
import { createPool } from '@puhui/postgres';
import { DEVELOPMENT_RATE_SHEET_SIGNING_KEY } from '@puhui/security';
import type { Pool } from '@puhui/postgres';
import { captureLogger, waitFor } from '@puhui/testing';
import { transactionSettlementMetrics } from '../src/metrics';
import { RateSheets } from '../src/rates/rate-sheets';
import { SettlementHarness, unionFundedRule, useHarness } from './support';
import type { TestCard, TestMerchant } from './support';
import { allItems, statementCsv, uploadStatement } from './reconciliation-support';
import type { JsonObject } from './reconciliation-support';

const harness = new SettlementHarness();
const logs = captureLogger('metrics-test', 'warn');
const FUNDED_MINOR = 100_000;
let budgetId: string;
let card: TestCard;
let shop: TestMerchant;
let pool: Pool;
let registry: Registry;

useHarness(harness, async () => {
  budgetId = await harness.fundedBudget('职工疗休养', FUNDED_MINOR);
  card = await harness.addCard(8300, [unionFundedRule(budgetId, 1000, 6000)]);
  shop = await harness.addMerchant('supermarket');
  pool = createPool({
    connectionString: harness.databaseUrl,
    connectionsMax: 2,
    applicationName: 'metrics-test',
  });
  registry = new Registry();
  // The harness runs on the default cut-off, 23:00; every scrape reads afresh.
  transactionSettlementMetrics(
    { pool, logger: logs.logger, config: { BUSINESS_DAY_CUTOFF: '23:00', METRICS_COLLECT_MAX_AGE_MS: 0 } },
    registry,
  );
});

afterAll(async () => {
  await pool.end();
});

const scrape = async (): Promise<Sample[]> => parseMetricsText(await registry.metrics());

async function capture(amountMinor: number): Promise<JsonObject> {
  const answer = await harness.captureLines(shop.secret, card.card_number, [
    { category: 'general', amount_minor: amountMinor },
  ]);
  expect(answer.status).toBe(201);
  return answer.body;
}

async function balance(code: string): Promise<number> {
  const account = await harness.call('GET', `/v1/ledger/accounts/${code}`, { token: harness.finance });
  expect(account.status).toBe(200);
  return account.body.balance_minor as number;
}

async function openDay(): Promise<string> {
  const day = await harness.call('GET', '/v1/business_days/current', { token: harness.finance });
  expect(day.status).toBe(200);
  return day.body.business_date as string;
}

describe('settlement business gauges', () => {
  let sales: JsonObject[] = [];
  let runId: string;
  let settledDay: string;

  it('shows a funded budget whole before anything is granted', async () => {
    const text = await scrape();
    const budget = await harness.call('GET', `/v1/budgets/${budgetId}`, { token: harness.finance });
    expect(budget.body.balance_minor).toBe(FUNDED_MINOR);
    expect(sampleValue(text, 'puhui_budget_remaining_fen', { budget: budgetId })).toBe(FUNDED_MINOR);
    expect(sampleValue(text, 'puhui_budget_limit_fen', { budget: budgetId })).toBe(FUNDED_MINOR);
    expect(sampleValue(text, 'puhui_budget_granted_fen', { budget: budgetId })).toBe(0);
    expect(sampleValue(text, 'puhui_business_day_captures')).toBe(0);
    expect(sampleValue(text, 'puhui_subsidy_held_fen')).toBe(0);
    expect(sampleValue(text, 'puhui_subsidy_payable_fen')).toBe(0);
    expect(sampleValue(text, 'puhui_reconciliation_exception_oldest_unresolved_age_seconds')).toBe(0);
    for (const category of ['amount_mismatch', 'missing_in_ledger', 'missing_in_statement', 'duplicate_line'])
      expect(sampleValue(text, 'puhui_reconciliation_exceptions_unresolved', { category })).toBe(0);
  });

  it('counts the open day’s captures as its batch will, and the budget as its ledger account', async () => {
    // 10 000: off 1 000 (union 600, merchant 400). 20 000: 2 000 (1 200, 800). 5 000, voided: 500 (300, 200).
    sales = [await capture(10_000), await capture(20_000)];
    const voided = await capture(5_000);
    const voiding = await harness.call('POST', `/v1/checkouts/${voided.id as string}/void`, {
      token: shop.secret,
      idempotencyKey: randomUUID(),
    });
    expect(voiding.status).toBe(200);
    // A refund of 2 000 of the 20 000 sale gives back round(1 200 × 2 000 / 20 000) = 120 of its subsidy.
    const refunded = await harness.refundSale(shop, sales[1]?.id as string, 2_000);
    expect(refunded.status).toBe(201);
    expect(refunded.body.union_reversed_minor).toBe(120);

    const text = await scrape();
    expect(sampleValue(text, 'puhui_business_day_captures')).toBe(2);
    expect(sampleValue(text, 'puhui_business_day_gross_fen')).toBe(30_000);
    expect(sampleValue(text, 'puhui_business_day_discount_fen', { funded_by: 'union' })).toBe(1_800);
    expect(sampleValue(text, 'puhui_business_day_discount_fen', { funded_by: 'merchant' })).toBe(1_200);

    // Remaining: the budget's balance, 100 000 − 600 − 1 200 + 120 (the void gave its 300 back).
    const remaining = await balance(`budget:${budgetId}`);
    expect(remaining).toBe(98_320);
    expect(sampleValue(text, 'puhui_budget_remaining_fen', { budget: budgetId })).toBe(remaining);
    expect(sampleValue(text, 'puhui_budget_limit_fen', { budget: budgetId })).toBe(FUNDED_MINOR);
    expect(sampleValue(text, 'puhui_budget_granted_fen', { budget: budgetId })).toBe(1_680);
    // Held: the merchant's held account, 600 + 1 200 − 120.
    const held = await balance(`merchant:${shop.merchant_id}:subsidy_held`);
    expect(held).toBe(1_680);
    expect(sampleValue(text, 'puhui_subsidy_held_fen')).toBe(held);
    expect(sampleValue(text, 'puhui_subsidy_payable_fen')).toBe(
      await balance(`merchant:${shop.merchant_id}:subsidy_payable`),
    );
  });

  it('agrees with the settled batch of the day once it is closed, and moves on to the next day', async () => {
    const before = await scrape();
    const day = await openDay();
    settledDay = day;
    expect(
      (await harness.call('POST', `/v1/business_days/${day}/close`, { token: harness.finance })).status,
    ).toBe(201);
    const run = await harness.call('POST', '/v1/settlement_runs', {
      token: harness.finance,
      body: { business_date: day },
    });
    expect(run.status).toBe(201);
    const batch = (run.body.batches as JsonObject[]).find((entry) => entry.merchant_id === shop.merchant_id);
    expect(batch).toBeDefined();
    expect(sampleValue(before, 'puhui_business_day_captures')).toBe(batch?.capture_count);
    expect(sampleValue(before, 'puhui_business_day_gross_fen')).toBe(batch?.gross_minor);
    expect(sampleValue(before, 'puhui_business_day_discount_fen', { funded_by: 'union' })).toBe(
      batch?.union_funded_minor,
    );
    expect(sampleValue(before, 'puhui_business_day_discount_fen', { funded_by: 'merchant' })).toBe(
      batch?.merchant_funded_minor,
    );

    const after = await scrape();
    expect(sampleValue(after, 'puhui_business_day_captures')).toBe(0);
    expect(sampleValue(after, 'puhui_business_day_gross_fen')).toBe(0);
    expect(sampleValue(after, 'puhui_subsidy_held_fen')).toBe(1_680);
  });

  it('counts unresolved exceptions as the run’s exceptions_open, aged from the run, and held subsidy as the ledger', async () => {
    const at = new Date().toISOString();
    const line = (reference: string, amountMinor: number) => ({
      settlement_date: settledDay,
      merchant_id: shop.merchant_id,
      card_last4: card.card_last4,
      transaction_time: at,
      amount_minor: amountMinor,
      reference,
      auth_code: `A${randomUUID().slice(0, 6)}`,
    });
    // The 10 000 sale matches at its net 9 000; the 20 000 sale is listed at 17 000 (ours 18 000):
    // an amount mismatch; its refund (−1 800) is not listed: missing in the statement; a line
    // with a reference we never captured: missing in the ledger.
    const uploaded = await uploadStatement(
      harness,
      statementCsv([
        line(sales[0]?.reference as string, 9_000),
        line(sales[1]?.reference as string, 17_000),
        line(`UNKNOWN-${randomUUID()}`, 3_000),
      ]),
    );
    expect(uploaded.status).toBe(201);
    runId = uploaded.body.id as string;
    expect(uploaded.body.exceptions_open).toBe(3);
    const before = Date.now();
    const samples = await scrape();
    const after = Date.now();
    const unresolved = (category: string) =>
      sampleValue(samples, 'puhui_reconciliation_exceptions_unresolved', { category });
    expect([
      unresolved('amount_mismatch'),
      unresolved('missing_in_statement'),
      unresolved('missing_in_ledger'),
      unresolved('duplicate_line'),
    ]).toEqual([1, 1, 1, 0]);
    const createdAt = Date.parse(uploaded.body.created_at as string);
    const age = sampleValue(
      samples,
      'puhui_reconciliation_exception_oldest_unresolved_age_seconds',
    ) as number;
    expect(age).toBeGreaterThanOrEqual((before - createdAt) / 1000 - 0.001);
    expect(age).toBeLessThanOrEqual((after - createdAt) / 1000 + 0.001);
    // The match made the 10 000 sale's 600 payable: held 1 680 − 600.
    const held = await balance(`merchant:${shop.merchant_id}:subsidy_held`);
    expect(held).toBe(1_080);
    expect(sampleValue(samples, 'puhui_subsidy_held_fen')).toBe(held);
    // ... and payable: confirmed by the match, not paid yet.
    const payable = await balance(`merchant:${shop.merchant_id}:subsidy_payable`);
    expect(payable).toBe(600);
    expect(sampleValue(samples, 'puhui_subsidy_payable_fen')).toBe(payable);
  });

  it('follows the resolutions: a cancelled subsidy goes back to the budget, and nothing is left unresolved', async () => {
    const items = await allItems(harness, runId);
    const exceptions = items.filter((item) => item.category !== 'matched');
    expect(exceptions).toHaveLength(3);
    for (const item of exceptions) {
      const capture = item.category === 'amount_mismatch';
      const resolved = await harness.call(
        'POST',
        `/v1/reconciliations/${runId}/items/${item.id as string}/resolve`,
        {
          token: harness.finance,
          body: capture ? { note: '金额不符，不予补贴', subsidy: 'cancel' } : { note: '已核实' },
        },
      );
      expect(resolved.status).toBe(200);
    }
    const run = await harness.call('GET', `/v1/reconciliations/${runId}`, { token: harness.finance });
    expect(run.body.exceptions_open).toBe(0);
    const samples = await scrape();
    for (const category of ['amount_mismatch', 'missing_in_ledger', 'missing_in_statement', 'duplicate_line'])
      expect(sampleValue(samples, 'puhui_reconciliation_exceptions_unresolved', { category })).toBe(0);
    expect(sampleValue(samples, 'puhui_reconciliation_exception_oldest_unresolved_age_seconds')).toBe(0);
    // The 20 000 sale's held 1 080 went back: remaining 98 320 + 1 080, granted 600.
    const remaining = await balance(`budget:${budgetId}`);
    expect(remaining).toBe(99_400);
    expect(sampleValue(samples, 'puhui_budget_remaining_fen', { budget: budgetId })).toBe(remaining);
    expect(sampleValue(samples, 'puhui_budget_granted_fen', { budget: budgetId })).toBe(600);
    expect(sampleValue(samples, 'puhui_subsidy_held_fen')).toBe(0);
    // The cancellation moved nothing payable: still the matched sale's 600.
    expect(sampleValue(samples, 'puhui_subsidy_payable_fen')).toBe(
      await balance(`merchant:${shop.merchant_id}:subsidy_payable`),
    );
    expect(sampleValue(samples, 'puhui_subsidy_payable_fen')).toBe(600);
  });
});

describe('settlement metrics at GET /metrics', () => {
  it('serves the business families labelled with the service, the values the API shows', async () => {
    const scraped = async () => {
      const response = await fetch(`${harness.url}/metrics`);
      expect(response.status).toBe(200);
      return parseMetricsText(await response.text());
    };
    const remaining = await balance(`budget:${budgetId}`);
    // The service reads at most every 5 s: wait for a reading taken after the last change.
    const samples = await waitFor(
      async () => {
        const current = await scraped();
        return (
          sampleValue(current, 'puhui_budget_remaining_fen', { budget: budgetId }) === remaining && current
        );
      },
      { description: 'the budget gauge at the balance', timeoutMs: 15_000, intervalMs: 250 },
    );
    const service = { service: 'transaction-settlement' };
    expect(sampleValue(samples, 'puhui_budget_limit_fen', { ...service, budget: budgetId })).toBe(
      FUNDED_MINOR,
    );
    expect(sampleValue(samples, 'puhui_subsidy_held_fen', service)).toBe(0);
    expect(sampleValue(samples, 'puhui_business_day_captures', service)).toBe(0);
    expect(
      sampleValue(samples, 'puhui_rate_sheet_lookups_total', { ...service, result: 'hit' }),
    ).toBeGreaterThan(0);
    // A collector's error count shows once it failed (a child is made at the first error): none here.
    const errors = samples.filter((sample) => sample.name === 'puhui_metrics_collect_errors_total');
    expect(errors.every((sample) => sample.value === 0)).toBe(true);
  });
});

describe('rate sheet lookups', () => {
  const lookups = async (result: string) =>
    sampleValue(await scrape(), 'puhui_rate_sheet_lookups_total', { result }) as number;

  it('counts a signed sheet in Redis as a hit, none as a miss, a refused one as invalid', async () => {
    const [hits, misses, invalid] = [await lookups('hit'), await lookups('miss'), await lookups('invalid')];
    await capture(1_000);
    expect(await lookups('hit')).toBe(hits + 1);

    const uncached = await harness.addCard(8301, [unionFundedRule(budgetId, 1000, 6000)], {}, false);
    const readThrough = await harness.captureSale(shop, uncached, 1_000);
    expect(readThrough.status).toBe(201);
    expect(await lookups('miss')).toBe(misses + 1);

    await harness.storeRawSheet(card.card_token, JSON.stringify({ forged: true }));
    expect((await capture(1_000)).status).toBe('captured');
    expect(await lookups('invalid')).toBe(invalid + 1);
    expect(await lookups('hit')).toBe(hits + 1);
  });

  it('counts a Redis that does not answer as error, and reads the sheet through', async () => {
    // Nothing listens on port 1: with no offline queue every command fails at once.
    const unreachable = createRedis({ url: 'redis://127.0.0.1:1', logger: logs.logger });
    const sheets = new RateSheets({
      redis: unreachable,
      logger: logs.logger,
      discountRulesUrl: harness.rules.url,
      timeoutMs: 1000,
      serviceCredential: 'test-credential',
      signingKey: DEVELOPMENT_RATE_SHEET_SIGNING_KEY,
    });
    try {
      const errors = await lookups('error');
      const sheet = await sheets.forCard(card.card_token);
      expect(sheet.card.card_token).toBe(card.card_token);
      expect(await lookups('error')).toBe(errors + 1);
    } finally {
      sheets.shutdown();
      unreachable.disconnect();
    }
  });
});

describe('a reading that fails', () => {
  it('keeps the last values, counts the error under its collector and logs it', async () => {
    const failing = createPool({
      connectionString: harness.databaseUrl,
      connectionsMax: 1,
      applicationName: 'metrics-test-failing',
    });
    const own = new Registry();
    transactionSettlementMetrics(
      {
        pool: failing,
        logger: logs.logger,
        config: { BUSINESS_DAY_CUTOFF: '23:00', METRICS_COLLECT_MAX_AGE_MS: 0 },
      },
      own,
    );
    const first = parseMetricsText(await own.metrics());
    const remaining = sampleValue(first, 'puhui_budget_remaining_fen', { budget: budgetId });
    expect(remaining).toBe(await balance(`budget:${budgetId}`));
    await failing.end();
    const second = parseMetricsText(await own.metrics());
    expect(sampleValue(second, 'puhui_budget_remaining_fen', { budget: budgetId })).toBe(remaining);
    // The counter is written before the gauges' reads of the same scrape end: read it directly.
    const counted = await own.getSingleMetric('puhui_metrics_collect_errors_total')?.get();
    expect(
      Object.fromEntries((counted?.values ?? []).map((value) => [value.labels.collector, value.value])),
    ).toEqual({ budgets: 1, business_day: 1, reconciliation: 1, subsidy: 1 });
    expect(logs.lines.some((line) => line.message === 'metrics reading failed; last values kept')).toBe(true);
  });
});
