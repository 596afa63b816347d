import { randomUUID } from 'node:crypto';
import { PassThrough } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { FINANCE, percentOffRule, SettlementHarness, useHarness } from './support';
import type { TestCard, TestMerchant } from './support';
import {
  STATEMENT_HEADER,
  allItems,
  countRows,
  statementCsv,
  uploadStatement,
} from './reconciliation-support';
import type { JsonObject, StatementRow } from './reconciliation-support';

const harness = new SettlementHarness();
const MINUTE_MS = 60_000;
let merchant: TestMerchant;
let card1: TestCard;
let card2: TestCard;

useHarness(harness, async () => {
  merchant = await harness.addMerchant('supermarket');
  // 5% off: a sale of 10000 fen charges the card 9500.
  const rules = [percentOffRule({ category: 'supermarket', bps: 500 })];
  card1 = await harness.addCard(101, rules);
  card2 = await harness.addCard(102, rules);
});

/**
 * A sale as the acquirer saw it at `occurredAtMs`. A POS may only state a time within 15 minutes
 * of the clock (issue 14), and these sales are spread over an hour to exercise the matcher's time
 * tolerance, so each is captured now and its occurred_at then set as if it had been rung up then.
 */
async function capture(reference: string, amountMinor: number, card: TestCard, occurredAtMs: number) {
  const response = await harness.captureLines(
    merchant.secret,
    card.card_number,
    [{ category: 'general', amount_minor: amountMinor }],
    { reference },
  );
  expect(response.status).toBe(201);
  const occurredAt = new Date(occurredAtMs).toISOString();
  await harness.query('UPDATE checkouts SET occurred_at = $2 WHERE checkout_id = $1', [
    response.body.id,
    occurredAt,
  ]);
  return { ...response.body, occurred_at: occurredAt };
}

/** `2026-11-21T12:00:00+08:00`: acquirers write Beijing time. */
function beijingTime(ms: number): string {
  return `${new Date(ms + 8 * 60 * MINUTE_MS).toISOString().slice(0, 19)}+08:00`;
}

async function runCounts() {
  return {
    runs: await countRows(harness, 'reconciliation_runs'),
    items: await countRows(harness, 'reconciliation_items'),
    audit: await countRows(harness, 'reconciliation_audit'),
  };
}

const category = (items: readonly JsonObject[], lineNumber: number) =>
  items.find((item) => item.statement_line?.line_number === lineNumber);

describe('a statement with every kind of exception', () => {
  let statement: string;
  let runId: string;
  let businessDate: string;
  const captured: Record<string, JsonObject> = {};

  it('is classified line by line, with counts and totals per category', async () => {
    const base = Math.floor((Date.now() - 3 * 60 * MINUTE_MS) / 1000) * 1000;
    captured.byReference = await capture('R-1', 10_000, card1, base);
    captured.byTime = await capture('R-2', 20_000, card1, base + 10 * MINUTE_MS);
    captured.outsideTolerance = await capture('R-3', 30_000, card2, base + 20 * MINUTE_MS);
    captured.mismatched = await capture('R-4', 40_000, card1, base + 30 * MINUTE_MS);
    captured.unlisted = await capture('R-5', 5_000, card1, base + 40 * MINUTE_MS);
    captured.refunded = await capture('R-6', 10_000, card2, base + 50 * MINUTE_MS);
    captured.voided = await capture('R-7', 8_000, card2, base + 60 * MINUTE_MS);
    const refund = await harness.call('POST', `/v1/checkouts/${captured.refunded?.id}/refunds`, {
      token: merchant.secret,
      idempotencyKey: randomUUID(),
      body: { amount_minor: 4_000 },
    });
    expect(refund.body).toMatchObject({ member_refund_minor: 3_800 });
    const voided = await harness.call('POST', `/v1/checkouts/${captured.voided?.id}/void`, {
      token: merchant.secret,
      idempotencyKey: randomUUID(),
    });
    expect(voided.status).toBe(200);
    businessDate = captured.byReference?.business_date as string;

    const row = (
      reference: string,
      card: TestCard,
      amountMinor: number,
      atMs: number,
      authCode: string,
    ): StatementRow => ({
      settlement_date: businessDate,
      merchant_id: merchant.merchant_id,
      card_last4: card.card_last4,
      transaction_time: beijingTime(atMs),
      amount_minor: amountMinor,
      reference,
      auth_code: authCode,
    });
    statement = statementCsv([
      /* line 2 */ row('R-1', card1, 9_500, base, 'A00001'),
      /* line 3 */ row('POS-GARBLED', card1, 19_000, base + 15 * MINUTE_MS, 'A00002'),
      /* line 4 */ row('ZZ-9', card2, 28_500, base + 40 * MINUTE_MS, 'A00003'),
      /* line 5 */ row('R-4', card1, 38_100, base + 30 * MINUTE_MS, 'A00004'),
      /* line 6 */ row('UNKNOWN-1', card2, 777, base, 'A00005'),
      /* line 7 */ row('R-1', card1, 9_500, base, 'A00001'),
      /* line 8 */ row('R-6', card2, 9_500, base + 50 * MINUTE_MS, 'A00006'),
      /* line 9 */ row('R-6', card2, -3_800, Date.now(), 'A00007'),
    ]);

    const response = await uploadStatement(harness, statement);
    expect(response.status).toBe(201);
    runId = response.body.id;
    expect(response.headers.get('location')).toBe(`/v1/reconciliations/${runId}`);
    expect(response.body).toMatchObject({
      object: 'reconciliation',
      status: 'completed',
      settlement_date: businessDate,
      line_count: 8,
      time_tolerance_ms: 15 * MINUTE_MS,
      currency: 'CNY',
      exceptions_open: 6,
      created_by: `operator:${FINANCE}`,
    });
    expect(response.body.file_sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(response.body.categories).toEqual({
      matched: { count: 4, statement_amount_minor: 34_200, ledger_amount_minor: 34_200 },
      amount_mismatch: { count: 1, statement_amount_minor: 38_100, ledger_amount_minor: 38_000 },
      missing_in_ledger: { count: 2, statement_amount_minor: 29_277, ledger_amount_minor: 0 },
      missing_in_statement: { count: 2, statement_amount_minor: 0, ledger_amount_minor: 33_250 },
      duplicate_line: { count: 1, statement_amount_minor: 9_500, ledger_amount_minor: 0 },
    });
    const summary = await harness.call('GET', `/v1/reconciliations/${runId}`, { token: harness.finance });
    expect(summary.body).toEqual(response.body);
  });

  it('says which ledger item each line went to, and how', async () => {
    const items = await allItems(harness, runId);
    expect(items).toHaveLength(10);
    expect(category(items, 2)).toMatchObject({
      category: 'matched',
      matched_by: 'reference',
      ledger_item: { kind: 'capture', id: captured.byReference?.id, amount_minor: 9_500 },
      difference_minor: 0,
    });
    expect(category(items, 3)).toMatchObject({
      category: 'matched',
      matched_by: 'card_amount_time',
      statement_line: { reference: 'POS-GARBLED', amount_minor: 19_000 },
      ledger_item: { id: captured.byTime?.id, reference: 'R-2' },
    });
    expect(category(items, 4)).toMatchObject({ category: 'missing_in_ledger', ledger_item: null });
    expect(category(items, 5)).toMatchObject({
      category: 'amount_mismatch',
      ledger_item: { id: captured.mismatched?.id, amount_minor: 38_000 },
      difference_minor: 100,
    });
    expect(category(items, 6)).toMatchObject({ category: 'missing_in_ledger' });
    expect(category(items, 7)).toMatchObject({
      category: 'duplicate_line',
      duplicate_of_line: 2,
      ledger_item: null,
    });
    expect(category(items, 8)).toMatchObject({
      category: 'matched',
      ledger_item: { id: captured.refunded?.id },
    });
    expect(category(items, 9)).toMatchObject({
      category: 'matched',
      matched_by: 'reference',
      ledger_item: { kind: 'refund', checkout_id: captured.refunded?.id, amount_minor: -3_800 },
    });
    const unlisted = items.filter((item) => item.category === 'missing_in_statement');
    expect(unlisted.map((item) => item.ledger_item.id).sort()).toEqual(
      [captured.outsideTolerance?.id, captured.unlisted?.id].sort(),
    );
    expect(unlisted.every((item) => item.statement_line === null)).toBe(true);
    // A voided sale never reaches the acquirer: it is not expected on the statement.
    expect(JSON.stringify(items)).not.toContain(captured.voided?.id);
    // Item ids follow the file: lines in order, then what the statement left out.
    expect(items.slice(0, 8).map((item) => item.statement_line.line_number)).toEqual([
      2, 3, 4, 5, 6, 7, 8, 9,
    ]);
  });

  it('pages through items of one category', async () => {
    const first = await harness.call('GET', `/v1/reconciliations/${runId}/items?category=matched&limit=3`, {
      token: harness.finance,
    });
    expect(first.body.data).toHaveLength(3);
    expect(first.body.has_more).toBe(true);
    const second = await harness.call(
      'GET',
      `/v1/reconciliations/${runId}/items?category=matched&limit=3&starting_after=${first.body.data[2].id}`,
      { token: harness.finance },
    );
    expect(second.body).toMatchObject({ has_more: false });
    expect(second.body.data.map((item: JsonObject) => item.statement_line.line_number)).toEqual([9]);
  });

  it('recognises the same file uploaded again and answers the earlier run, storing nothing', async () => {
    const before = await runCounts();
    const again = await uploadStatement(harness, statement);
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ id: runId, duplicate_of: runId, line_count: 8 });
    expect(await runCounts()).toEqual(before);
  });

  it('records who resolved an exception, when and why, once', async () => {
    const [mismatch] = await allItems(harness, runId, 'amount_mismatch');
    const path = `/v1/reconciliations/${runId}/items/${mismatch?.id}/resolve`;
    const resolved = await harness.call('POST', path, {
      token: harness.finance,
      body: { note: '收单行少记100分，已与收单行确认' },
    });
    expect(resolved.status).toBe(200);
    expect(resolved.body.resolution).toEqual({
      resolved_by: `operator:${FINANCE}`,
      resolved_at: expect.any(String),
      note: '收单行少记100分，已与收单行确认',
    });
    const audit = await harness.query<{ actor: string; note: string; action: string }>(
      'SELECT action, actor, note FROM reconciliation_audit WHERE item_id = $1',
      [mismatch?.id],
    );
    expect(audit).toEqual([
      { action: 'item_resolved', actor: `operator:${FINANCE}`, note: '收单行少记100分，已与收单行确认' },
    ]);
    const twice = await harness.call('POST', path, { token: harness.finance, body: { note: 'again' } });
    expect(twice.status).toBe(409);
    expect(twice.body.code).toBe('already_resolved');
    expect(await countRows(harness, 'reconciliation_audit')).toBe(2);
    const summary = await harness.call('GET', `/v1/reconciliations/${runId}`, { token: harness.finance });
    expect(summary.body.exceptions_open).toBe(5);
  });

  it('refuses to resolve a matched item, an unknown one, an empty note and anyone but finance', async () => {
    const [matched, open] = [
      (await allItems(harness, runId, 'matched'))[0],
      (await allItems(harness, runId, 'missing_in_ledger'))[0],
    ];
    const resolve = (itemId: unknown, token: string, note: unknown = 'checked') =>
      harness.call('POST', `/v1/reconciliations/${runId}/items/${String(itemId)}/resolve`, {
        token,
        body: { note },
      });
    expect((await resolve(matched?.id, harness.finance)).body.code).toBe('not_an_exception');
    expect((await resolve('999999999', harness.finance)).status).toBe(404);
    expect((await resolve(open?.id, harness.finance, '   ')).status).toBe(400);
    expect((await resolve(open?.id, harness.admin)).status).toBe(403);
    expect((await resolve(open?.id, merchant.secret)).status).toBe(403);
    expect((await harness.call('GET', `/v1/reconciliations/${runId}`, { token: harness.admin })).status).toBe(
      403,
    );
    expect(await countRows(harness, 'reconciliation_audit')).toBe(2);
  });

  it('keeps runs, items and the audit unchangeable in the database', async () => {
    await expect(
      harness.query("UPDATE reconciliation_items SET category = 'matched' WHERE resolved_at IS NULL"),
    ).rejects.toThrow(/only the resolution/);
    await expect(
      harness.query("UPDATE reconciliation_items SET resolution_note = 'x' WHERE resolved_at IS NOT NULL"),
    ).rejects.toThrow(/resolved once/);
    await expect(harness.query('DELETE FROM reconciliation_items')).rejects.toThrow(/never deleted/);
    await expect(harness.query("UPDATE reconciliation_audit SET note = 'x'")).rejects.toThrow(/append-only/);
    await expect(harness.query('DELETE FROM reconciliation_audit')).rejects.toThrow(/append-only/);
    await expect(harness.query('UPDATE reconciliation_runs SET line_count = 1')).rejects.toThrow(
      /append-only/,
    );
  });

  it('answers 404 for an unknown run', async () => {
    const response = await harness.call('GET', '/v1/reconciliations/rec_0000000000000000000000000', {
      token: harness.finance,
    });
    expect(response.status).toBe(404);
  });
});

describe('a bad statement creates no run', () => {
  const good = (overrides: Partial<StatementRow> = {}): StatementRow => ({
    settlement_date: '2026-11-21',
    merchant_id: 'mer_x',
    card_last4: '1234',
    transaction_time: '2026-11-21T10:00:00+08:00',
    amount_minor: 1_000,
    reference: `R-${randomUUID()}`,
    auth_code: 'AB12',
    ...overrides,
  });

  async function expectRefused(body: string, status: number, code: string) {
    const before = await runCounts();
    const response = await uploadStatement(harness, body);
    expect(response.status).toBe(status);
    expect(response.headers.get('content-type')).toMatch(/application\/problem\+json/);
    expect(response.body.code).toBe(code);
    expect(await runCounts()).toEqual(before);
    return response.body;
  }

  it('refuses a wrong header, naming line 1', async () => {
    const header = STATEMENT_HEADER.replace('amount_minor', 'amount');
    const problem = await expectRefused(statementCsv([good()], header), 400, 'invalid_statement');
    expect(problem.invalid_lines).toEqual([
      { line: 1, reason: `the header must be exactly ${STATEMENT_HEADER}` },
    ]);
  });

  it('refuses bad dates and times, naming each line', async () => {
    const body = statementCsv([
      good({ settlement_date: '2026-02-30' }),
      good(),
      good({ transaction_time: '2026-11-21 10:00:00' }),
      good({ settlement_date: '2026-11-22' }),
    ]);
    const problem = await expectRefused(body, 400, 'invalid_statement');
    expect(problem.invalid_lines).toEqual([
      { line: 2, reason: 'settlement_date must be a calendar date YYYY-MM-DD' },
      { line: 4, reason: 'transaction_time must be an RFC 3339 date-time with an offset' },
      { line: 5, reason: "settlement_date differs from the statement's (2026-11-21)" },
    ]);
  });

  it('refuses amounts that are not whole fen and a card_last4 that is not 4 digits', async () => {
    const body = statementCsv([good(), good({ amount_minor: '12.50' }), good({ card_last4: '123' })]);
    const problem = await expectRefused(body, 400, 'invalid_statement');
    expect(problem.invalid_lines).toEqual([
      { line: 3, reason: 'amount_minor must be a whole number of fen' },
      { line: 4, reason: 'card_last4 must be 4 digits' },
    ]);
  });

  it('refuses lines of the wrong width', async () => {
    const body = `${statementCsv([good(), good()])}2026-11-21,mer_x,1234\n${statementCsv([good()]).split('\n')[1]},extra\n`;
    const problem = await expectRefused(body, 400, 'invalid_statement');
    expect(problem.invalid_lines).toEqual([
      { line: 4, reason: 'expected 7 fields, found 3' },
      { line: 5, reason: 'expected 7 fields, found 8' },
    ]);
  });

  it('lists the first 20 bad lines of many', async () => {
    const body = statementCsv(Array.from({ length: 30 }, () => good({ card_last4: 'x' })));
    const problem = await expectRefused(body, 400, 'invalid_statement');
    expect(problem.invalid_lines.map((entry: { line: number }) => entry.line)).toEqual(
      Array.from({ length: 20 }, (_, index) => index + 2),
    );
  });

  it('stores nothing of a long file whose last line is bad, though its first batches were staged', async () => {
    const rows = Array.from({ length: 12_000 }, (_, index) => good({ reference: `R-${index}` }));
    const body = statementCsv([...rows, good({ amount_minor: 'ten' })]);
    const problem = await expectRefused(body, 400, 'invalid_statement');
    expect(problem.invalid_lines).toEqual([
      { line: 12_002, reason: 'amount_minor must be a whole number of fen' },
    ]);
  });

  it('refuses an unreadable CSV, naming the line', async () => {
    const body = `${statementCsv([good()])}2026-11-21,mer_x,1234,"2026-11-21T10:00:00Z,100,R,A\n`;
    const problem = await expectRefused(body, 400, 'invalid_statement');
    expect(problem.invalid_lines).toEqual([
      { line: 3, reason: 'the file cannot be read from this line on: a quoted field is never closed' },
    ]);
  });

  it('answers 422 for a file without data lines, header or not', async () => {
    await expectRefused(statementCsv([]), 422, 'empty_statement');
    await expectRefused('', 422, 'empty_statement');
  });

  it('refuses JSON, and callers other than finance, before reading the file', async () => {
    const body = statementCsv([good()]);
    expect((await uploadStatement(harness, '{"lines":[]}', { contentType: 'application/json' })).status).toBe(
      415,
    );
    expect((await uploadStatement(harness, body, { token: harness.admin })).status).toBe(403);
    expect((await uploadStatement(harness, body, { token: merchant.secret })).status).toBe(403);
    expect((await uploadStatement(harness, body, { token: 'nonsense' })).status).toBe(401);
  });
});

describe('concurrent uploads', () => {
  it('turn a third away while two are in flight, and reconcile one file once when it is sent twice at once', async () => {
    const rows = statementCsv([
      {
        settlement_date: '2026-11-20',
        merchant_id: 'mer_y',
        card_last4: '5678',
        transaction_time: '2026-11-20T09:00:00Z',
        amount_minor: 4_200,
        reference: 'CONCURRENT-1',
        auth_code: 'C1',
      },
    ]);
    const [header, line] = rows.split('\n');
    const bodies = [new PassThrough(), new PassThrough()];
    const uploads = bodies.map((body) => {
      body.write(`${header}\n`);
      return uploadStatement(harness, body);
    });
    // Both requests are being read (their handlers hold the two slots) until their bodies end.
    await sleep(500);
    const third = await uploadStatement(harness, rows);
    expect(third.status).toBe(429);
    expect(third.headers.get('retry-after')).toBe('30');
    for (const body of bodies) body.end(`${line}\n`);
    const answers = await Promise.all(uploads);
    expect(answers.map((answer) => answer.status).sort()).toEqual([200, 201]);
    expect(answers[0]?.body.id).toBe(answers[1]?.body.id);
    const runs = await harness.query('SELECT run_id FROM reconciliation_runs WHERE settlement_date = $1', [
      '2026-11-20',
    ]);
    expect(runs).toHaveLength(1);
  });
});
