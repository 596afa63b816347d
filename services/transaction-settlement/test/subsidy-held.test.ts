/**
 * The union pays a subsidy only for sales the acquirer confirmed (DESIGN §6, issue 14). A
 * capture's union part waits in `merchant:<id>:subsidy_held`; a statement line matched to the
 * sale makes it payable, and finance resolving the sale's exception releases it (payable) or
 * cancels it (back to the budget). mark_paid pays only what is payable. Every expected number
 * is a literal with its arithmetic beside it.
 *
 * One rule on every card: 10% off (1000 bps), 60% of it from the union's budget. A sale of G
 * fen gets G/10 off, union 0.6 × G/10, merchant the rest; the card pays 0.9 × G.
 */
import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { parse } from 'csv-parse/sync';
import { testPostgresUrl } from '@puhui/testing';
import { SettlementHarness, unionFundedRule, useHarness } from './support';
import type { ApiResponse, TestCard, TestMerchant } from './support';
import { allItems, statementCsv, uploadStatement } from './reconciliation-support';
import type { JsonObject, StatementRow } from './reconciliation-support';

const harness = new SettlementHarness();
const BUDGET_FUNDED_MINOR = 100_000;
let budgetId: string;
let card: TestCard;

useHarness(harness, async () => {
  budgetId = await harness.fundedBudget('困难职工帮扶', BUDGET_FUNDED_MINOR);
  card = await harness.addCard(8100, [unionFundedRule(budgetId, 1000, 6000)]);
});

async function capture(merchant: TestMerchant, amountMinor: number): Promise<JsonObject> {
  const answer = await harness.captureLines(
    merchant.secret,
    card.card_number,
    [{ category: 'general', amount_minor: amountMinor }],
    { reference: `SH-${randomUUID()}` },
  );
  expect(answer.status).toBe(201);
  return answer.body;
}

async function refund(merchant: TestMerchant, checkoutId: string, amountMinor: number): Promise<JsonObject> {
  const answer = await harness.call('POST', `/v1/checkouts/${checkoutId}/refunds`, {
    token: merchant.secret,
    idempotencyKey: randomUUID(),
    body: { amount_minor: amountMinor },
  });
  expect(answer.status).toBe(201);
  return answer.body;
}

async function balance(code: string): Promise<number> {
  const account = await harness.call('GET', `/v1/ledger/accounts/${code}`, { token: harness.finance });
  expect(account.status).toBe(200);
  return account.body.balance_minor as number;
}

const held = (merchant: TestMerchant) => balance(`merchant:${merchant.merchant_id}:subsidy_held`);
const payable = (merchant: TestMerchant) => balance(`merchant:${merchant.merchant_id}:subsidy_payable`);
const budget = () => balance(`budget:${budgetId}`);

async function openDay(): Promise<string> {
  const day = await harness.call('GET', '/v1/business_days/current', { token: harness.finance });
  return day.body.business_date as string;
}

/** Closes the open business day early and settles it; returns the merchant's batch. */
async function closeAndSettle(merchant: TestMerchant, day: string): Promise<JsonObject> {
  expect(
    (await harness.call('POST', `/v1/business_days/${day}/close`, { token: harness.finance })).status,
  ).toBe(201);
  const run = await settle(day);
  expect(run.status).toBe(201);
  const batch = (run.body.batches as JsonObject[]).find(
    (entry) => entry.merchant_id === merchant.merchant_id,
  );
  expect(batch).toBeDefined();
  return batch as JsonObject;
}

const settle = (day: string) =>
  harness.call('POST', '/v1/settlement_runs', { token: harness.finance, body: { business_date: day } });

async function batchOf(batchId: string): Promise<JsonObject> {
  const answer = await harness.call('GET', `/v1/settlement_batches/${batchId}`, { token: harness.finance });
  expect(answer.status).toBe(200);
  return answer.body;
}

/** A payment asked for by finance and approved by a second finance person: the paid batch, or the refusal. */
const markPaid = (batchId: string, bankReference: string) => harness.markPaid(batchId, bankReference);

/** The acquirer's line for a sale (its net) or a refund (the member's part, negative). */
function line(
  day: string,
  merchant: TestMerchant,
  sale: JsonObject,
  amountMinor: number,
  at: string,
): StatementRow {
  return {
    settlement_date: day,
    merchant_id: merchant.merchant_id,
    card_last4: card.card_last4,
    transaction_time: at,
    amount_minor: amountMinor,
    reference: sale.reference as string,
    auth_code: `A${randomUUID().slice(0, 6)}`,
  };
}

/** The subsidy transfers that name a checkout, in order. */
async function subsidyTransfers(checkoutId: string) {
  return harness.query<{ kind: string; debit_account: string; credit_account: string; amount_minor: string }>(
    `SELECT kind, debit_account, credit_account, amount_minor::text AS amount_minor FROM ledger_transfers
     WHERE checkout_id = $1 AND (kind LIKE 'subsidy_%' OR kind IN ('capture_subsidy', 'refund_subsidy'))
     ORDER BY transfer_id`,
    [checkoutId],
  );
}

/** The transfers that name a reconciliation run, in order. */
const transfersOfRun = (runId: string) =>
  harness.query(
    `SELECT kind, debit_account, credit_account, amount_minor::text AS amount_minor, checkout_id FROM ledger_transfers
     WHERE reconciliation_run_id = $1 ORDER BY transfer_id`,
    [runId],
  );

/** The subsidy decisions a run's items made, by checkout. */
const decisionsOf = (runId: string) =>
  harness.query(
    `SELECT checkout_id, decision, amount_minor::text AS amount_minor, item_id::text AS item_id FROM subsidy_decisions
     WHERE run_id = $1 ORDER BY checkout_id COLLATE "C"`,
    [runId],
  );

const resolve = (runId: string, itemId: string, body: JsonObject) =>
  harness.call('POST', `/v1/reconciliations/${runId}/items/${itemId}/resolve`, {
    token: harness.finance,
    body,
  });

/**
 * Resolves an exception deciding its sale's held subsidy; expects the decision answered and the
 * transfer it posted, from the merchant's held subsidy to `creditAccount`.
 */
async function expectSubsidyDecided(
  merchant: TestMerchant,
  runId: string,
  itemId: string,
  body: { note: string; subsidy: 'release' | 'cancel' },
  decided: { checkoutId: string; amountMinor: number; creditAccount: string },
): Promise<void> {
  const answer = await resolve(runId, itemId, body);
  const decision = body.subsidy === 'release' ? 'released' : 'cancelled';
  expect(answer.status).toBe(200);
  expect(answer.body.subsidy).toEqual({
    checkout_id: decided.checkoutId,
    decision,
    amount_minor: decided.amountMinor,
  });
  expect((await subsidyTransfers(decided.checkoutId)).at(-1)).toEqual({
    kind: `subsidy_${decision}`,
    debit_account: `merchant:${merchant.merchant_id}:subsidy_held`,
    credit_account: decided.creditAccount,
    amount_minor: String(decided.amountMinor),
  });
}

async function heldItems(batchId: string): Promise<JsonObject[]> {
  const answer = await harness.call('GET', `/v1/settlement_batches/${batchId}/held_subsidies?limit=100`, {
    token: harness.finance,
  });
  expect(answer.status).toBe(200);
  expect(answer.body.has_more).toBe(false);
  return answer.body.data as JsonObject[];
}

async function expectBalancedLedger(): Promise<void> {
  const trial = await harness.call('GET', '/v1/ledger/trial_balance', { token: harness.finance });
  expect(trial.body).toMatchObject({ balanced: true, difference_minor: 0 });
}

describe('a day settled before its statement arrives', () => {
  let shop: TestMerchant;
  let day: string;
  let batchId: string;
  let runId: string;
  const sales: Record<'a' | 'b' | 'c' | 'd', JsonObject> = {} as never;

  it('holds every union part until the acquirer confirms it; the merchant-funded part and the net are as before', async () => {
    shop = await harness.addMerchant('supermarket');
    day = await openDay();
    // A 10 000: off 1 000, union 600, merchant 400, net 9 000.   B 20 000: 2 000, 1 200, 800, 18 000.
    // C  5 000: off   500, union 300, merchant 200, net 4 500.   D  8 000:   800,   480, 320,  7 200.
    sales.a = await capture(shop, 10_000);
    sales.b = await capture(shop, 20_000);
    sales.c = await capture(shop, 5_000);
    sales.d = await capture(shop, 8_000);
    expect([sales.a, sales.b, sales.c, sales.d].map((sale) => sale.union_funded_minor)).toEqual([
      600, 1_200, 300, 480,
    ]);
    // Refund 1 000 of C, still held: union back round_half_up(300 × 1 000 / 5 000) = 60, discount
    // 100, the card gets 1 000 − 100 = 900. The 60 comes back from held, not from payable.
    const partial = await refund(shop, sales.c.id as string, 1_000);
    expect(partial).toMatchObject({
      union_reversed_minor: 60,
      discount_reversed_minor: 100,
      member_refund_minor: 900,
    });
    sales.c.refund = partial;
    expect(await subsidyTransfers(sales.c.id as string)).toEqual([
      {
        kind: 'capture_subsidy',
        debit_account: `budget:${budgetId}`,
        credit_account: `merchant:${shop.merchant_id}:subsidy_held`,
        amount_minor: '300',
      },
      {
        kind: 'refund_subsidy',
        debit_account: `merchant:${shop.merchant_id}:subsidy_held`,
        credit_account: `budget:${budgetId}`,
        amount_minor: '60',
      },
    ]);

    const batch = await closeAndSettle(shop, day);
    batchId = batch.id as string;
    expect(batch).toMatchObject({
      status: 'held',
      capture_count: 4,
      refund_count: 1,
      gross_minor: 43_000, // 10 000 + 20 000 + 5 000 + 8 000
      merchant_funded_minor: 1_720, // 400 + 800 + 200 + 320
      net_minor: 38_700, // 9 000 + 18 000 + 4 500 + 7 200
      union_funded_minor: 2_580, // 600 + 1 200 + 300 + 480
      union_reversed_minor: 60,
      subsidy_owed_minor: 2_520, // 2 580 − 60
      subsidy_held_minor: 2_520, // all of it: no statement yet
      subsidy_cancelled_minor: 0,
      subsidy_payable_minor: 0,
      subsidy_paid_minor: 0,
    });
    expect(await held(shop)).toBe(2_520);
    expect(await payable(shop)).toBe(0);
    expect(await budget()).toBe(97_480); // 100 000 − 2 580 + 60
    // Merchant-funded memo: 1 720, less the merchant part of C's refund (100 − 60 = 40).
    expect(await balance(`merchant:${shop.merchant_id}:discount_given`)).toBe(1_680);
    expect(await balance(`merchant:${shop.merchant_id}:card_receivable`)).toBe(37_800); // 38 700 − 900

    const items = await heldItems(batchId);
    expect(items.map((item) => [item.kind, item.checkout_id, item.held_minor, item.exception])).toEqual(
      expect.arrayContaining([
        ['capture', sales.a.id, 600, null],
        ['capture', sales.b.id, 1_200, null],
        ['capture', sales.c.id, 300, null],
        ['capture', sales.d.id, 480, null],
        ['refund', sales.c.id, -60, null],
      ]),
    );
    expect(items).toHaveLength(5);

    // Nothing can be paid: the payment file says 0 and mark_paid refuses, posting nothing.
    const exported = await harness.call('GET', `/v1/settlement_batches/${batchId}/export.csv`, {
      token: harness.finance,
    });
    const [row] = parse(exported.text, { columns: true, bom: true }) as Array<Record<string, string>>;
    expect(row?.amount_minor).toBe('0');
    const refused = await markPaid(batchId, 'ICBC-HELD-0');
    expect(refused.status).toBe(409);
    expect(refused.body).toMatchObject({ code: 'batch_not_payable', current_status: 'held' });
    expect(await payable(shop)).toBe(0);
  });

  it('makes payable, with the match, exactly the sales the statement confirms, once', async () => {
    const at = new Date().toISOString();
    // A and D match; B is not listed; C is listed at 4 400 (ours 4 500): an amount mismatch;
    // C's refund (−900) matches, which confirms no sale.
    const statement = statementCsv([
      line(day, shop, sales.a, 9_000, at),
      line(day, shop, sales.c, 4_400, at),
      line(day, shop, sales.d, 7_200, at),
      line(day, shop, sales.c, -900, at),
    ]);
    const uploaded = await uploadStatement(harness, statement);
    expect(uploaded.status).toBe(201);
    runId = uploaded.body.id as string;
    expect(uploaded.body.categories).toMatchObject({
      matched: { count: 3 },
      amount_mismatch: { count: 1 },
      missing_in_statement: { count: 1 },
    });

    // Held 2 520 − 600 (A) − 480 (D) = 1 440 (B 1 200 + C 300 − 60); payable 600 + 480 = 1 080.
    expect(await batchOf(batchId)).toMatchObject({
      status: 'unpaid',
      subsidy_owed_minor: 2_520,
      subsidy_held_minor: 1_440,
      subsidy_payable_minor: 1_080,
      merchant_funded_minor: 1_720,
      net_minor: 38_700,
    });
    expect(await held(shop)).toBe(1_440);
    expect(await payable(shop)).toBe(1_080);
    // One transfer for the run's confirmations, 600 + 480 = 1 080, naming the run; which sales it
    // confirmed, and what each still held, are the run's decisions.
    expect(await transfersOfRun(runId)).toEqual([
      {
        kind: 'subsidy_confirmed',
        debit_account: `merchant:${shop.merchant_id}:subsidy_held`,
        credit_account: `merchant:${shop.merchant_id}:subsidy_payable`,
        amount_minor: '1080',
        checkout_id: null,
      },
    ]);
    const matched = await allItems(harness, runId, 'matched');
    const matchedItemOf = (checkoutId: unknown) =>
      matched.find((item) => item.ledger_item?.id === checkoutId)?.id;
    expect(await decisionsOf(runId)).toEqual(
      [
        {
          checkout_id: sales.a.id,
          decision: 'confirmed',
          amount_minor: '600',
          item_id: matchedItemOf(sales.a.id),
        },
        {
          checkout_id: sales.d.id,
          decision: 'confirmed',
          amount_minor: '480',
          item_id: matchedItemOf(sales.d.id),
        },
      ].sort((x, y) => String(x.checkout_id).localeCompare(String(y.checkout_id))),
    );
    const holding = await heldItems(batchId);
    const exceptions = await allItems(harness, runId);
    const exceptionOf = (checkoutId: unknown) =>
      exceptions.find((item) => item.category !== 'matched' && item.ledger_item?.id === checkoutId);
    expect(
      holding.map((item) => [item.kind, item.checkout_id, item.held_minor, item.exception?.category]),
    ).toEqual(
      expect.arrayContaining([
        ['capture', sales.b.id, 1_200, 'missing_in_statement'],
        ['capture', sales.c.id, 300, 'amount_mismatch'],
        ['refund', sales.c.id, -60, 'amount_mismatch'],
      ]),
    );
    expect(holding).toHaveLength(3);
    expect(holding.find((item) => item.checkout_id === sales.b.id)?.exception).toEqual({
      reconciliation_id: runId,
      item_id: exceptionOf(sales.b.id)?.id,
      category: 'missing_in_statement',
    });

    // The same file again is the earlier run; another file matching A again confirms nothing more.
    expect((await uploadStatement(harness, statement)).status).toBe(200);
    const again = await uploadStatement(harness, statementCsv([line(day, shop, sales.a, 9_000, at)]));
    expect(again.status).toBe(201);
    expect(await transfersOfRun(again.body.id as string)).toEqual([]);
    expect(await decisionsOf(again.body.id as string)).toEqual([]);
    const confirmations = await harness.query<{ count: number }>(
      "SELECT count(*)::int AS count FROM ledger_transfers WHERE kind = 'subsidy_confirmed' AND credit_account = $1",
      [`merchant:${shop.merchant_id}:subsidy_payable`],
    );
    expect(confirmations[0]?.count).toBe(1);
    // Re-running the settled day changes nothing either.
    expect((await settle(day)).body.batches_created).toBe(0);
    expect(await batchOf(batchId)).toMatchObject({ subsidy_held_minor: 1_440, subsidy_payable_minor: 1_080 });
    expect(await held(shop)).toBe(1_440);
    expect(await payable(shop)).toBe(1_080);
    await expectBalancedLedger();
  });

  it('pays only what is payable, never held subsidy', async () => {
    const exported = await harness.call('GET', `/v1/settlement_batches/${batchId}/export.csv`, {
      token: harness.finance,
    });
    const [row] = parse(exported.text, { columns: true, bom: true }) as Array<Record<string, string>>;
    expect(row?.amount_minor).toBe('1080');
    const unionFundsBefore = await balance('bank:union_funds');
    const paid = await markPaid(batchId, 'ICBC-PART-1');
    expect(paid.status).toBe(200);
    // Paid 1 080; 1 440 still held, so nothing more can be paid: `held`.
    expect(paid.body).toMatchObject({
      status: 'held',
      subsidy_paid_minor: 1_080,
      subsidy_held_minor: 1_440,
      bank_reference: 'ICBC-PART-1',
    });
    expect(await payable(shop)).toBe(0);
    expect(await held(shop)).toBe(1_440);
    expect(unionFundsBefore - (await balance('bank:union_funds'))).toBe(1_080);
    const twice = await markPaid(batchId, 'ICBC-PART-2');
    expect(twice.status).toBe(409);
    expect(twice.body).toMatchObject({
      code: 'batch_not_payable',
      current_status: 'held',
      subsidy_held_minor: 1_440,
    });
  });

  it('releases or cancels a held subsidy when finance resolves its exception, with a transfer and an audit row, and pays the rest', async () => {
    const exceptions = await allItems(harness, runId);
    const missingB = exceptions.find((item) => item.ledger_item?.id === sales.b.id) as JsonObject;
    const mismatchC = exceptions.find(
      (item) => item.category === 'amount_mismatch' && item.ledger_item?.id === sales.c.id,
    ) as JsonObject;

    // A decision is required, and refused where nothing is held.
    const undecided = await resolve(runId, missingB.id as string, { note: '收单行补报' });
    expect(undecided.status).toBe(422);
    expect(undecided.body.code).toBe('subsidy_decision_required');
    expect((await allItems(harness, runId)).find((item) => item.id === missingB.id)?.resolution).toBeNull();
    const matchedA = exceptions.find(
      (item) => item.category === 'matched' && item.ledger_item?.id === sales.a.id,
    );
    expect((await resolve(runId, matchedA?.id as string, { note: 'x', subsidy: 'release' })).body.code).toBe(
      'not_an_exception',
    );

    await expectSubsidyDecided(
      shop,
      runId,
      missingB.id as string,
      { note: '收单行补报，已确认', subsidy: 'release' },
      {
        checkoutId: sales.b.id as string,
        amountMinor: 1_200,
        creditAccount: `merchant:${shop.merchant_id}:subsidy_payable`,
      },
    );
    // Held 1 440 − 1 200 = 240; payable 1 080 + 1 200 = 2 280, 1 080 of it paid: unpaid again.
    expect(await batchOf(batchId)).toMatchObject({
      status: 'unpaid',
      subsidy_held_minor: 240,
      subsidy_payable_minor: 2_280,
      subsidy_paid_minor: 1_080,
    });

    // C still holds 300 − 60 = 240: cancelled, it goes back to the budget.
    await expectSubsidyDecided(
      shop,
      runId,
      mismatchC.id as string,
      { note: '金额不符，不予补贴', subsidy: 'cancel' },
      { checkoutId: sales.c.id as string, amountMinor: 240, creditAccount: `budget:${budgetId}` },
    );
    // Owed 2 520 = held 0 + cancelled (300 − 60 = 240) + payable 2 280.
    expect(await batchOf(batchId)).toMatchObject({
      status: 'unpaid',
      subsidy_owed_minor: 2_520,
      subsidy_held_minor: 0,
      subsidy_cancelled_minor: 240,
      subsidy_payable_minor: 2_280,
      merchant_funded_minor: 1_720,
      net_minor: 38_700,
    });
    expect(await held(shop)).toBe(0);
    expect(await payable(shop)).toBe(1_200);
    expect(await budget()).toBe(97_720); // 97 480 + 240
    expect(await heldItems(batchId)).toEqual([]);
    const audit = await harness.query<Record<string, unknown>>(
      `SELECT item_id::text AS item_id, action, note, checkout_id, subsidy_decision, subsidy_minor::int AS subsidy_minor
       FROM reconciliation_audit WHERE run_id = $1 AND action = 'item_resolved' ORDER BY audit_id`,
      [runId],
    );
    expect(audit).toEqual([
      {
        item_id: missingB.id,
        action: 'item_resolved',
        note: '收单行补报，已确认',
        checkout_id: sales.b.id,
        subsidy_decision: 'released',
        subsidy_minor: 1_200,
      },
      {
        item_id: mismatchC.id,
        action: 'item_resolved',
        note: '金额不符，不予补贴',
        checkout_id: sales.c.id,
        subsidy_decision: 'cancelled',
        subsidy_minor: 240,
      },
    ]);

    expect((await decisionsOf(runId)).filter((decision) => decision.decision !== 'confirmed')).toEqual(
      [
        { checkout_id: sales.b.id, decision: 'released', amount_minor: '1200', item_id: missingB.id },
        { checkout_id: sales.c.id, decision: 'cancelled', amount_minor: '240', item_id: mismatchC.id },
      ].sort((x, y) => String(x.checkout_id).localeCompare(String(y.checkout_id))),
    );

    // The later run listed B as missing too: its subsidy is decided, so that item takes none.
    const [later] = (await harness.query<{ run_id: string }>(
      'SELECT run_id FROM reconciliation_runs WHERE run_id <> $1 AND settlement_date = $2',
      [runId, day],
    )) as [{ run_id: string }];
    const laterB = (await allItems(harness, later.run_id)).find(
      (item) => item.ledger_item?.id === sales.b.id,
    );
    const refused = await resolve(later.run_id, laterB?.id as string, { note: 'x', subsidy: 'cancel' });
    expect(refused.status).toBe(422);
    expect(refused.body.code).toBe('no_held_subsidy');
    const plain = await resolve(later.run_id, laterB?.id as string, { note: '已于前次对账放行' });
    expect(plain.status).toBe(200);
    expect(plain.body.subsidy).toBeNull();

    // The rest is paid with a second reference: 2 280 − 1 080 = 1 200.
    const paid = await markPaid(batchId, 'ICBC-PART-2');
    expect(paid.status).toBe(200);
    expect(paid.body).toMatchObject({
      status: 'paid',
      subsidy_paid_minor: 2_280,
      bank_reference: 'ICBC-PART-2',
    });
    expect(await payable(shop)).toBe(0);
    const payouts = await harness.query<{ amount_minor: string; bank_reference: string }>(
      'SELECT amount_minor::text AS amount_minor, bank_reference FROM settlement_payouts WHERE batch_id = $1 ORDER BY payout_id',
      [batchId],
    );
    expect(payouts).toEqual([
      { amount_minor: '1080', bank_reference: 'ICBC-PART-1' },
      { amount_minor: '1200', bank_reference: 'ICBC-PART-2' },
    ]);
    await expect(harness.query('UPDATE settlement_payouts SET amount_minor = 1')).rejects.toThrow(
      /append-only/,
    );
    await expect(harness.query('DELETE FROM settlement_payouts')).rejects.toThrow(/append-only/);
    await expectBalancedLedger();
  });
});

describe('a statement reconciled before the day is settled', () => {
  it('confirms a sale once however many statements match it at once, and refunds take the subsidy back from where it is', async () => {
    const shop = await harness.addMerchant('supermarket');
    const day = await openDay();
    const budgetBefore = await budget();
    // E and F, 10 000 each: union 600 each, net 9 000.
    const e = await capture(shop, 10_000);
    const f = await capture(shop, 10_000);
    const at = new Date().toISOString();
    // Two different files, both listing E, uploaded at once: E is confirmed by one of them.
    const answers: ApiResponse[] = await Promise.all([
      uploadStatement(harness, statementCsv([line(day, shop, e, 9_000, at)])),
      uploadStatement(harness, statementCsv([line(day, shop, e, 9_000, at)])),
    ]);
    expect(answers.map((answer) => answer.status)).toEqual([201, 201]);
    // One sale confirmed by the run: its transfer names the checkout too.
    expect((await subsidyTransfers(e.id as string)).map((transfer) => transfer.kind)).toEqual([
      'capture_subsidy',
      'subsidy_confirmed',
    ]);
    const decisions = await harness.query<{ decision: string; amount_minor: string }>(
      'SELECT decision, amount_minor::text AS amount_minor FROM subsidy_decisions WHERE checkout_id = $1',
      [e.id],
    );
    expect(decisions).toEqual([{ decision: 'confirmed', amount_minor: '600' }]);
    expect(await held(shop)).toBe(600); // F
    expect(await payable(shop)).toBe(600); // E

    // F is cancelled: its 600 goes back to the budget.
    const runId = answers[0]?.body.id as string;
    const missingF = (await allItems(harness, runId, 'missing_in_statement')).find(
      (item) => item.ledger_item?.id === f.id,
    );
    const cancelled = await resolve(runId, missingF?.id as string, {
      note: '未见收单记录',
      subsidy: 'cancel',
    });
    expect(cancelled.body.subsidy).toEqual({ checkout_id: f.id, decision: 'cancelled', amount_minor: 600 });

    // Refund half of E (confirmed): union round_half_up(600 × 5 000 / 10 000) = 300 back from payable.
    const fromPayable = await refund(shop, e.id as string, 5_000);
    expect(fromPayable).toMatchObject({ union_reversed_minor: 300, member_refund_minor: 4_500 });
    expect((await subsidyTransfers(e.id as string)).at(-1)).toEqual({
      kind: 'refund_subsidy',
      debit_account: `merchant:${shop.merchant_id}:subsidy_payable`,
      credit_account: `budget:${budgetId}`,
      amount_minor: '300',
    });
    // Refund half of F (cancelled): the sale's discount is reversed as ever (300 union, 200
    // merchant; the card gets 4 500), but its union part is in the budget already: no transfer.
    const fromCancelled = await refund(shop, f.id as string, 5_000);
    expect(fromCancelled).toMatchObject({ union_reversed_minor: 300, member_refund_minor: 4_500 });
    expect((await subsidyTransfers(f.id as string)).map((transfer) => transfer.kind)).toEqual([
      'capture_subsidy',
      'subsidy_cancelled',
    ]);
    expect(await held(shop)).toBe(0);
    expect(await payable(shop)).toBe(300); // 600 − 300
    // − 600 − 600 (captures) + 600 (F cancelled) + 300 (E's refund) = −300.
    expect(await budget()).toBe(budgetBefore - 300);

    // Settled afterwards, the batch splits by where each item's subsidy is now: owed
    // 1 200 − 600 = 600 = payable (E 600 − 300) 300 + cancelled (F 600 − 300) 300.
    const batch = await closeAndSettle(shop, day);
    expect(batch).toMatchObject({
      status: 'unpaid',
      union_funded_minor: 1_200,
      union_reversed_minor: 600,
      subsidy_owed_minor: 600,
      subsidy_held_minor: 0,
      subsidy_cancelled_minor: 300,
      subsidy_payable_minor: 300,
      net_minor: 18_000,
    });
    const paid = await markPaid(batch.id as string, 'ICBC-E-1');
    expect(paid.body).toMatchObject({ status: 'paid', subsidy_paid_minor: 300 });
    expect(await payable(shop)).toBe(0);
    await expectBalancedLedger();
  });
});

describe('the database', () => {
  it('refuses to move a decided subsidy again', async () => {
    const shop = await harness.addMerchant('supermarket');
    const sale = await capture(shop, 1_000);
    const rows = await harness.query<{ subsidy_state: string }>(
      'SELECT subsidy_state FROM checkouts WHERE checkout_id = $1',
      [sale.id],
    );
    expect(rows).toEqual([{ subsidy_state: 'held' }]);
    await harness.query("UPDATE checkouts SET subsidy_state = 'cancelled' WHERE checkout_id = $1", [sale.id]);
    await expect(
      harness.query("UPDATE checkouts SET subsidy_state = 'payable' WHERE checkout_id = $1", [sale.id]),
    ).rejects.toThrow(/decided once/);
  });
});

/** The up part of a migration file (node-pg-migrate's SQL format). */
async function upSql(name: string): Promise<string> {
  const { readFile } = await import('node:fs/promises');
  const text = await readFile(`${__dirname}/../migrations/${name}`, 'utf8');
  return text.split('-- Down Migration')[0] ?? '';
}

describe('migration 0012', () => {
  it('keeps checkouts and batches that predate it as they were: payable, and paid batches paid', async () => {
    const { readdir } = await import('node:fs/promises');
    const files = (await readdir(`${__dirname}/../migrations`))
      .filter((file) => file.endsWith('.sql'))
      .sort();
    const before = files.filter((file) => file < '0012');
    const database = `subsidy_migration_${randomUUID().replaceAll('-', '').slice(0, 12)}`;
    const admin = new Client({ connectionString: testPostgresUrl() });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${database}`);
    const url = new URL(testPostgresUrl());
    url.pathname = `/${database}`;
    const client = new Client({ connectionString: url.toString() });
    await client.connect();
    try {
      for (const file of before) await client.query(await upSql(file));
      // A merchant, a capture of 10 000 with 600 of union subsidy posted straight to payable (as
      // before), its batch paid, and a second batch unpaid.
      await client.query(`
        INSERT INTO merchants VALUES ('mer_old', 'active', 'supermarket', 'Old', 'Old Ltd', '{}', now());
        INSERT INTO ledger_accounts (account_code, name, currency, normal_side) VALUES
          ('merchant:mer_old:subsidy_payable', 'p', 'CNY', 'credit');
        INSERT INTO settlement_runs VALUES ('srun_${'0'.repeat(25)}', '2026-01-01', 'manual', 't', 2, now());
        INSERT INTO settlement_batches (batch_id, merchant_id, business_date, run_id, status, union_funded_minor,
            subsidy_owed_minor, bank_reference, paid_at, paid_by) VALUES
          ('stl_${'0'.repeat(25)}', 'mer_old', '2026-01-01', 'srun_${'0'.repeat(25)}', 'paid', 600, 600, 'ICBC-OLD', now(), 'finance'),
          ('stl_${'1'.repeat(25)}', 'mer_old', '2026-01-02', 'srun_${'0'.repeat(25)}', 'unpaid', 500, 500, NULL, NULL, NULL);
        INSERT INTO checkouts (checkout_id, merchant_id, card_token, card_last4, currency, reference, status, gross_minor,
            discount_minor, merchant_funded_minor, union_funded_minor, net_minor, budget_exhausted, ruleset_version,
            lines, grants, occurred_at, business_date, settlement_batch_id) VALUES
          ('chk_${'0'.repeat(25)}', 'mer_old', 'ctok_${'t'.repeat(32)}', '0047', 'CNY', 'OLD-1', 'captured', 10000, 1000,
           400, 600, 9000, false, 1, '[]', '[]', now(), '2026-01-01', 'stl_${'0'.repeat(25)}');`);
      await client.query(await upSql('0012_subsidy_held.sql'));
      const checkout = await client.query('SELECT subsidy_state FROM checkouts');
      expect(checkout.rows).toEqual([{ subsidy_state: 'payable' }]);
      const batches = await client.query(
        `SELECT batch_id, status, subsidy_held_minor::int AS held, subsidy_payable_minor::int AS payable,
                subsidy_paid_minor::int AS paid FROM settlement_batches ORDER BY batch_id`,
      );
      expect(batches.rows.map(({ batch_id: _id, ...rest }) => rest)).toEqual([
        { status: 'paid', held: 0, payable: 600, paid: 600 },
        { status: 'unpaid', held: 0, payable: 500, paid: 0 },
      ]);
      const payouts = await client.query(
        'SELECT amount_minor::int AS amount, bank_reference FROM settlement_payouts',
      );
      expect(payouts.rows).toEqual([{ amount: 600, bank_reference: 'ICBC-OLD' }]);
      const accounts = await client.query(
        "SELECT account_code FROM ledger_accounts WHERE account_code = 'merchant:mer_old:subsidy_held'",
      );
      expect(accounts.rows).toHaveLength(1);
    } finally {
      await client.end();
      await admin.query(`DROP DATABASE ${database}`);
      await admin.end();
    }
  });
});
