/**
 * Every money-moving POST other than a capture (checkouts.test.ts covers captures), retried
 * with one Idempotency-Key: in sequence and five at once, it has one effect in the database
 * and the ledger, every answer is the first one (the repeats say `Idempotent-Replayed: true`),
 * and the same key with another request is refused with 422 `idempotency_key_reused`; while the
 * first request with a key is still in flight, a retry answers 409 `idempotency_key_in_flight`.
 */
import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { confirmCapturesOf } from './acquirer-confirmation';
import { SettlementHarness, unionFundedRule, useHarness } from './support';
import type { ApiResponse, TestCard, TestMerchant } from './support';

const harness = new SettlementHarness();
let budgetId: string;
let serial = 5000;

/** Five at once: enough for four requests to wait on the first one's claim of the key. */
const CONCURRENT_RETRIES = 5;

useHarness(harness, async () => {
  budgetId = await harness.fundedBudget('职工互助补贴', 1_000_000);
});

/** A card whose supermarket purchases get 10% off, half of it paid by the union from the budget. */
async function unionFundedCard(): Promise<TestCard> {
  serial += 1;
  return harness.addCard(serial, [unionFundedRule(budgetId, 1000, 5000)]);
}

/** A 10 000-fen sale: 1 000 off, 500 of it from the union budget, 9 000 charged to the card. */
async function captureSale(merchant: TestMerchant): Promise<string> {
  const card = await unionFundedCard();
  const captured = await harness.captureLines(
    merchant.secret,
    card.card_number,
    [{ category: 'general', amount_minor: 10_000 }],
    { reference: `IR-${randomUUID()}` },
  );
  expect(captured.status).toBe(201);
  expect(captured.body).toMatchObject({ discount_minor: 1_000, union_funded_minor: 500, net_minor: 9_000 });
  return captured.body.id as string;
}

async function balance(code: string): Promise<number> {
  const account = await harness.call('GET', `/v1/ledger/accounts/${code}`, { token: harness.finance });
  expect(account.status).toBe(200);
  return account.body.balance_minor as number;
}

const budgetBalance = () => balance(`budget:${budgetId}`);

async function countOf(sql: string, parameters: unknown[]): Promise<number> {
  const rows = await harness.query<{ count: number }>(sql, parameters);
  return rows[0]?.count ?? -1;
}

/** Sends the same request `times` times, one after the other or all at once. */
async function retried(
  send: () => Promise<ApiResponse>,
  times: number,
  mode: 'in sequence' | 'at once',
): Promise<ApiResponse[]> {
  if (mode === 'at once') return Promise.all(Array.from({ length: times }, send));
  const answers: ApiResponse[] = [];
  for (let attempt = 0; attempt < times; attempt += 1) answers.push(await send());
  return answers;
}

/**
 * The answers of one request and its retries: one status and one body for all, exactly one
 * of them the first (no replay header) and every other the stored one, marked as replayed.
 */
function expectOneAnswer(answers: readonly ApiResponse[], status: number): ApiResponse {
  expect(answers.map((answer) => answer.status)).toEqual(answers.map(() => status));
  expect(new Set(answers.map((answer) => JSON.stringify(answer.body))).size).toBe(1);
  const replayHeaders = answers.map((answer) => answer.headers.get('idempotent-replayed'));
  expect(replayHeaders.filter((header) => header === null)).toHaveLength(1);
  expect(replayHeaders.filter((header) => header === 'true')).toHaveLength(answers.length - 1);
  const first = answers.find((answer) => answer.headers.get('idempotent-replayed') === null);
  return first as ApiResponse;
}

function expectKeyReused(answer: ApiResponse): void {
  expect(answer.status).toBe(422);
  expect(answer.headers.get('content-type')).toMatch(/^application\/problem\+json/u);
  expect(answer.body.code).toBe('idempotency_key_reused');
}

describe('a refund retried with one Idempotency-Key', () => {
  let merchant: TestMerchant;
  beforeAll(async () => {
    merchant = await harness.addMerchant('supermarket');
  });

  const refund = (checkoutId: string, key: string, amountMinor: number) =>
    harness.call('POST', `/v1/checkouts/${checkoutId}/refunds`, {
      token: merchant.secret,
      idempotencyKey: key,
      body: { amount_minor: amountMinor, reason: '退货' },
    });

  it.each([
    ['in sequence', 2],
    ['at once', CONCURRENT_RETRIES],
  ] as const)(
    'refunds once when sent %s (%i times), answering every retry with the stored refund',
    async (mode, times) => {
      const checkoutId = await captureSale(merchant);
      const budgetBefore = await budgetBalance();
      const receivable = `merchant:${merchant.merchant_id}:card_receivable`;
      const receivableBefore = await balance(receivable);
      const key = randomUUID();
      const answers = await retried(() => refund(checkoutId, key, 2_500), times, mode);
      const first = expectOneAnswer(answers, 201);
      // A quarter of the sale back: a quarter of the 1 000 discount (250) and of the union's
      // 500 (125) reversed, so the card gets 2 500 − 250 = 2 250.
      expect(first.body).toMatchObject({
        amount_minor: 2_500,
        discount_reversed_minor: 250,
        union_reversed_minor: 125,
        member_refund_minor: 2_250,
        refunded_total_minor: 2_500,
        checkout_status: 'partially_refunded',
      });
      expect(
        await countOf('SELECT count(*)::int AS count FROM refunds WHERE checkout_id = $1', [checkoutId]),
      ).toBe(1);
      // One refund posts three transfers: card net, union subsidy and the merchant-funded memo.
      expect(
        await countOf('SELECT count(*)::int AS count FROM ledger_transfers WHERE refund_id = $1', [
          first.body.id,
        ]),
      ).toBe(3);
      expect(await budgetBalance()).toBe(budgetBefore + 125);
      // The 2 250 goes back to the card once: the merchant's card receivable falls by it once.
      expect(await balance(receivable)).toBe(receivableBefore - 2_250);
      const checkout = await harness.call('GET', `/v1/checkouts/${checkoutId}`, { token: merchant.secret });
      expect(checkout.body).toMatchObject({ status: 'partially_refunded', refunded_minor: 2_500 });
    },
  );

  it('refuses the same key with another amount or for another checkout, and refunds nothing more', async () => {
    const checkoutId = await captureSale(merchant);
    const otherCheckoutId = await captureSale(merchant);
    const key = randomUUID();
    expect((await refund(checkoutId, key, 1_000)).status).toBe(201);
    const budgetBefore = await budgetBalance();

    expectKeyReused(await refund(checkoutId, key, 1_001));
    expectKeyReused(await refund(otherCheckoutId, key, 1_000));

    expect(
      await countOf('SELECT count(*)::int AS count FROM refunds WHERE checkout_id = ANY($1::text[])', [
        [checkoutId, otherCheckoutId],
      ]),
    ).toBe(1);
    expect(await budgetBalance()).toBe(budgetBefore);
  });
});

describe('a void retried with one Idempotency-Key', () => {
  let merchant: TestMerchant;
  beforeAll(async () => {
    merchant = await harness.addMerchant('supermarket');
  });

  const voidSale = (checkoutId: string, key: string) =>
    harness.call('POST', `/v1/checkouts/${checkoutId}/void`, { token: merchant.secret, idempotencyKey: key });

  it.each([
    ['in sequence', 2],
    ['at once', CONCURRENT_RETRIES],
  ] as const)(
    'voids once when sent %s (%i times), answering every retry with the voided checkout',
    async (mode, times) => {
      const budgetBefore = await budgetBalance();
      const receivableBefore = await balance(`merchant:${merchant.merchant_id}:card_receivable`);
      const checkoutId = await captureSale(merchant);
      const key = randomUUID();
      const answers = await retried(() => voidSale(checkoutId, key), times, mode);
      const first = expectOneAnswer(answers, 200);
      expect(first.body).toMatchObject({ id: checkoutId, status: 'voided', union_funded_minor: 500 });
      // The capture's three transfers and, once, their three reversals.
      expect(
        await countOf(
          "SELECT count(*)::int AS count FROM ledger_transfers WHERE checkout_id = $1 AND kind LIKE 'refund_%'",
          [checkoutId],
        ),
      ).toBe(3);
      // Reversed once, the sale leaves no trace in the balances; reversed twice, the budget
      // would hold 500 more than before the sale and the receivable 9 000 less.
      expect(await budgetBalance()).toBe(budgetBefore);
      expect(await balance(`merchant:${merchant.merchant_id}:card_receivable`)).toBe(receivableBefore);
    },
  );

  it('refuses the same key for another checkout and leaves that one captured', async () => {
    const voidedId = await captureSale(merchant);
    const otherId = await captureSale(merchant);
    const key = randomUUID();
    expect((await voidSale(voidedId, key)).status).toBe(200);

    expectKeyReused(await voidSale(otherId, key));

    const other = await harness.call('GET', `/v1/checkouts/${otherId}`, { token: merchant.secret });
    expect(other.body.status).toBe('captured');
    expect(
      await countOf(
        "SELECT count(*)::int AS count FROM ledger_transfers WHERE checkout_id = $1 AND kind LIKE 'refund_%'",
        [otherId],
      ),
    ).toBe(0);
  });
});

describe('a budget top-up retried with one Idempotency-Key', () => {
  const topUp = (key: string, amountMinor: number, reference = 'TU-2026-11-0001') =>
    harness.call('POST', `/v1/budgets/${budgetId}/top_ups`, {
      token: harness.admin,
      idempotencyKey: key,
      body: { amount_minor: amountMinor, reference },
    });

  const pendingTopUps = () =>
    countOf(
      "SELECT count(*)::int AS count FROM approval_requests WHERE target_id = $1 AND status = 'pending'",
      [budgetId],
    );

  it.each([
    ['in sequence', 2],
    ['at once', CONCURRENT_RETRIES],
  ] as const)(
    'asks once when sent %s (%i times), answering every retry with the stored request; approved, it funds the budget once',
    async (mode, times) => {
      const budgetBefore = await budgetBalance();
      const unionFundsBefore = await balance('bank:union_funds');
      const pendingBefore = await pendingTopUps();
      const key = randomUUID();
      const answers = await retried(() => topUp(key, 50_000), times, mode);
      const first = expectOneAnswer(answers, 202);
      expect(first.body.approval_request).toMatchObject({
        action: 'budget_top_up',
        target_id: budgetId,
        status: 'pending',
      });
      expect(await pendingTopUps()).toBe(pendingBefore + 1);
      // Nothing moves until a second admin approves.
      expect(await budgetBalance()).toBe(budgetBefore);
      const approved = await harness.decide(first.body.approval_request.id as string, harness.adminChecker);
      expect(approved.status).toBe(200);
      expect(approved.body.outcome).toMatchObject({
        budget_id: budgetId,
        amount_minor: 50_000,
        balance_minor: budgetBefore + 50_000,
      });
      // A retry after the approval still answers the stored request, and funds nothing more.
      const late = await topUp(key, 50_000);
      expect(late.status).toBe(202);
      expect(late.body).toEqual(first.body);
      expect(
        await countOf('SELECT count(*)::int AS count FROM ledger_transfers WHERE top_up_id = $1', [
          approved.body.outcome.id,
        ]),
      ).toBe(1);
      expect(await budgetBalance()).toBe(budgetBefore + 50_000);
      expect(await balance('bank:union_funds')).toBe(unionFundsBefore + 50_000);
    },
  );

  it('refuses the same key with another amount or reference and asks for nothing more', async () => {
    const key = randomUUID();
    expect((await topUp(key, 20_000)).status).toBe(202);
    const budgetBefore = await budgetBalance();
    const pendingBefore = await pendingTopUps();

    expectKeyReused(await topUp(key, 20_001));
    expectKeyReused(await topUp(key, 20_000, 'TU-2026-11-0002'));

    expect(await pendingTopUps()).toBe(pendingBefore);
    expect(await budgetBalance()).toBe(budgetBefore);
  });
});

describe('marking a batch paid, retried with one Idempotency-Key', () => {
  // Each case pays its own merchant's batch: one union-funded sale, 500 fen of subsidy owed.
  const payees: TestMerchant[] = [];
  const batchOf = new Map<string, string>();

  beforeAll(async () => {
    for (let index = 0; index < 3; index += 1) {
      const merchant = await harness.addMerchant('supermarket');
      await captureSale(merchant);
      payees.push(merchant);
    }
    const day = await harness.call('GET', '/v1/business_days/current', { token: harness.finance });
    const date = day.body.business_date as string;
    expect(
      (await harness.call('POST', `/v1/business_days/${date}/close`, { token: harness.finance })).status,
    ).toBe(201);
    const run = await harness.call('POST', '/v1/settlement_runs', {
      token: harness.finance,
      body: { business_date: date },
    });
    expect(run.status).toBe(201);
    for (const batch of run.body.batches as Array<{ id: string; merchant_id: string }>)
      batchOf.set(batch.merchant_id, batch.id);
    for (const merchant of payees) expect(batchOf.has(merchant.merchant_id)).toBe(true);
    // The acquirer confirms the sales: only then is their subsidy payable (DESIGN §6).
    await confirmCapturesOf(
      harness,
      payees.map((merchant) => merchant.merchant_id),
    );
  });

  const markPaid = (batchId: string, key: string, bankReference: string) =>
    harness.call('POST', `/v1/settlement_batches/${batchId}/mark_paid`, {
      token: harness.finance,
      idempotencyKey: key,
      body: { bank_reference: bankReference },
    });

  const payouts = (merchant: TestMerchant) =>
    countOf(
      "SELECT count(*)::int AS count FROM ledger_transfers WHERE kind = 'payout' AND debit_account = $1",
      [`merchant:${merchant.merchant_id}:subsidy_payable`],
    );

  it.each([
    ['in sequence', 2, 0],
    ['at once', CONCURRENT_RETRIES, 1],
  ] as const)(
    'asks once when sent %s (%i times), answering every retry with the stored request; approved, it posts one payout',
    async (mode, times, payee) => {
      const merchant = payees[payee] as TestMerchant;
      const batchId = batchOf.get(merchant.merchant_id) as string;
      const unionFundsBefore = await balance('bank:union_funds');
      const key = randomUUID();
      const answers = await retried(() => markPaid(batchId, key, `ICBC-${key}`), times, mode);
      const first = expectOneAnswer(answers, 202);
      expect(first.body.approval_request).toMatchObject({
        action: 'settlement_batch_payout',
        target_id: batchId,
        status: 'pending',
      });
      expect(await payouts(merchant)).toBe(0);
      const approved = await harness.decide(first.body.approval_request.id as string, harness.financeChecker);
      expect(approved.status).toBe(200);
      expect(approved.body.outcome).toMatchObject({
        id: batchId,
        status: 'paid',
        bank_reference: `ICBC-${key}`,
        subsidy_owed_minor: 500,
      });
      expect(await payouts(merchant)).toBe(1);
      // The 500 owed left the subsidy payable and the union's funds once.
      expect(await balance(`merchant:${merchant.merchant_id}:subsidy_payable`)).toBe(0);
      expect(await balance('bank:union_funds')).toBe(unionFundsBefore - 500);
    },
  );

  it('refuses the same key with another bank reference or for another batch, and pays nothing more', async () => {
    const [paid, unpaid] = [payees[0] as TestMerchant, payees[2] as TestMerchant];
    const key = randomUUID();
    // payees[0] was paid above with a key of its own; this key pays payees[2] first.
    const unpaidBatch = batchOf.get(unpaid.merchant_id) as string;
    const requested = await markPaid(unpaidBatch, key, 'ICBC-20261121-0007');
    expect(requested.status).toBe(202);
    expect(
      (await harness.decide(requested.body.approval_request.id as string, harness.financeChecker)).status,
    ).toBe(200);
    const unionFundsBefore = await balance('bank:union_funds');

    expectKeyReused(await markPaid(unpaidBatch, key, 'ICBC-20261121-0008'));
    expectKeyReused(await markPaid(batchOf.get(paid.merchant_id) as string, key, 'ICBC-20261121-0007'));

    expect(await payouts(unpaid)).toBe(1);
    expect(await payouts(paid)).toBe(1);
    expect(await balance('bank:union_funds')).toBe(unionFundsBefore);
  });
});

describe('a retry while the first request with its key is still in flight', () => {
  it('answers 409 idempotency_key_in_flight after waiting for it, and moves no money', async () => {
    const merchant = await harness.addMerchant('supermarket');
    const card = await unionFundedCard();
    const key = randomUUID();
    // The first request, held open: its transaction has claimed the key and not committed.
    const first = new Client({ connectionString: harness.databaseUrl });
    await first.connect();
    try {
      await first.query('BEGIN');
      await first.query(
        `INSERT INTO idempotency_keys (scope, idempotency_key, request_hash, response_status, response_body)
         VALUES ($1, $2, 'in flight', 0, 'null')`,
        [merchant.merchant_id, key],
      );
      const budgetBefore = await budgetBalance();
      const retry = await harness.call('POST', '/v1/checkouts', {
        token: merchant.secret,
        idempotencyKey: key,
        body: {
          card_number: card.card_number,
          currency: 'CNY',
          reference: `IF-${randomUUID()}`,
          lines: [{ category: 'general', amount_minor: 10_000 }],
        },
      });
      expect(retry.status).toBe(409);
      expect(retry.headers.get('content-type')).toMatch(/^application\/problem\+json/u);
      expect(retry.body.code).toBe('idempotency_key_in_flight');
      expect(await budgetBalance()).toBe(budgetBefore);
    } finally {
      await first.query('ROLLBACK');
      await first.end();
    }
    expect(
      await countOf('SELECT count(*)::integer AS count FROM checkouts WHERE merchant_id = $1', [
        merchant.merchant_id,
      ]),
    ).toBe(0);
  });
});
