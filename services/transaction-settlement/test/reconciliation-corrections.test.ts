/**
 * Resolving reconciliation exceptions by correcting the ledger (issue 18): an adjustment to
 * suspense:reconciliation or a write-off within the limit, asked by one finance person and
 * posted when a second approves, with the resolution and its audit row.
 */
import { FINANCE, FINANCE_CHECKER, SettlementHarness, unionFundedRule, useHarness } from './support';
import type { ApiResponse, TestCard, TestMerchant } from './support';
import { allItems, statementCsv, uploadStatement } from './reconciliation-support';
import type { JsonObject } from './reconciliation-support';

const harness = new SettlementHarness();
let shop: TestMerchant;
let card: TestCard;
let runId: string;
let items: JsonObject[];
const sales: JsonObject[] = [];

useHarness(harness, async () => {
  shop = await harness.addMerchant('supermarket');
  const budgetId = await harness.fundedBudget('困难职工帮扶', 1_000_000);
  card = await harness.addCard(330, [unionFundedRule(budgetId, 1000, 6000)]);
  for (const amount of [10_000, 20_000]) {
    const sale = await harness.captureLines(shop.secret, card.card_number, [
      { category: 'general', amount_minor: amount },
    ]);
    expect(sale.status).toBe(201);
    sales.push(sale.body);
  }
  const [first] = sales as [JsonObject, JsonObject];
  const row = (reference: string, amountMinor: number) => ({
    settlement_date: first.business_date,
    merchant_id: shop.merchant_id,
    card_last4: card.card_last4,
    transaction_time: first.created_at,
    amount_minor: amountMinor,
    reference,
    auth_code: 'A00001',
  });
  // The first sale 50 fen above the ledger; a line nobody sold; the second sale missing.
  const uploaded = await uploadStatement(
    harness,
    statementCsv([row(first.reference, (first.net_minor as number) + 50), row('UNKNOWN-7', 777)]),
  );
  expect(uploaded.status).toBe(201);
  runId = uploaded.body.id as string;
  items = await allItems(harness, runId);
});

const itemOf = (category: string) => {
  const found = items.find((item) => item.category === category);
  expect(found).toBeDefined();
  return found as JsonObject;
};
const resolve = (item: JsonObject, body: Record<string, unknown>) =>
  harness.call('POST', `/v1/reconciliations/${runId}/items/${item.id as string}/resolve`, {
    token: harness.finance,
    body,
  });
const balanceOf = async (code: string): Promise<number> =>
  (await harness.call('GET', `/v1/ledger/accounts/${code}`, { token: harness.finance })).body
    .balance_minor as number;
const auditOf = async (item: JsonObject) =>
  harness.query<{
    actor: string;
    correction: string | null;
    correction_minor: string | null;
    approved_by: string | null;
  }>(
    'SELECT actor, correction, correction_minor::text, approved_by FROM reconciliation_audit WHERE item_id = $1',
    [item.id],
  );
const approve = (asked: ApiResponse, checker = harness.financeChecker) =>
  harness.decide(asked.body.approval_request.id as string, checker);

describe('correcting the ledger for a reconciliation exception', () => {
  it('writes off a small difference once a second person approves, naming both', async () => {
    const mismatch = itemOf('amount_mismatch');
    expect(mismatch.difference_minor).toBe(50);
    const clearingBefore = await balanceOf('acquirer:clearing');

    const asked = await resolve(mismatch, {
      note: 'acquirer rounding, ticket 4411',
      correction: 'write_off',
      subsidy: 'release',
    });
    expect(asked.status).toBe(202);
    expect(asked.body.approval_request).toMatchObject({
      status: 'pending',
      action: 'reconciliation_correction',
    });
    // Nothing moved yet, and nobody may resolve the item meanwhile.
    expect(await balanceOf('expense:reconciliation_write_offs')).toBe(0);
    expect((await resolve(mismatch, { note: 'just a note', subsidy: 'release' })).body.code).toBe(
      'correction_pending',
    );
    expect(
      (await resolve(mismatch, { note: 'again', correction: 'write_off', subsidy: 'release' })).body.code,
    ).toBe('correction_pending');

    expect((await approve(asked, harness.finance)).status).toBe(403);
    const approved = await approve(asked);
    expect(approved.status).toBe(200);
    expect(approved.body.outcome).toMatchObject({
      correction: { kind: 'write_off', account: 'expense:reconciliation_write_offs', amount_minor: 50 },
      resolution: { resolved_by: `operator:${FINANCE}`, note: 'acquirer rounding, ticket 4411' },
      subsidy: { decision: 'released' },
    });
    expect(await balanceOf('expense:reconciliation_write_offs')).toBe(-50);
    expect((await balanceOf('acquirer:clearing')) - clearingBefore).toBe(50);
    expect(await auditOf(mismatch)).toEqual([
      {
        actor: `operator:${FINANCE}`,
        correction: 'write_off',
        correction_minor: '50',
        approved_by: `operator:${FINANCE_CHECKER}`,
      },
    ]);
    const trial = await harness.call('GET', '/v1/ledger/trial_balance', { token: harness.finance });
    expect(trial.body).toMatchObject({ balanced: true, difference_minor: 0 });
    expect((await resolve(mismatch, { note: 'late' })).body.code).toBe('already_resolved');
  });

  it('refuses a write-off above the limit and adjusts a missing sale to suspense instead', async () => {
    const missing = itemOf('missing_in_statement');
    const net = sales[1]?.net_minor as number;
    expect(missing.ledger_item.amount_minor).toBe(net);
    const overLimit = await resolve(missing, {
      note: 'not on the file',
      correction: 'write_off',
      subsidy: 'cancel',
    });
    expect(overLimit.status).toBe(422);
    expect(overLimit.body).toMatchObject({
      code: 'write_off_over_limit',
      limit_minor: 1_000,
      difference_minor: -net,
    });
    // The held subsidy's decision is checked when asking, not left to fail the approval.
    expect((await resolve(missing, { note: 'not on the file', correction: 'adjustment' })).body.code).toBe(
      'subsidy_decision_required',
    );
    const before = {
      suspense: await balanceOf('suspense:reconciliation'),
      clearing: await balanceOf('acquirer:clearing'),
    };

    const asked = await resolve(missing, {
      note: 'acquirer lost the sale, claim 77',
      correction: 'adjustment',
      subsidy: 'cancel',
    });
    expect(asked.status).toBe(202);
    const approved = await approve(asked);
    expect(approved.status).toBe(200);
    expect(approved.body.outcome.correction).toEqual({
      kind: 'adjustment',
      account: 'suspense:reconciliation',
      amount_minor: -net,
    });
    // The acquirer will not clear it: clearing falls by the net, suspense holds it until explained.
    expect((await balanceOf('acquirer:clearing')) - before.clearing).toBe(-net);
    expect((await balanceOf('suspense:reconciliation')) - before.suspense).toBe(net);
    const trial = await harness.call('GET', '/v1/ledger/trial_balance', { token: harness.finance });
    expect(trial.body).toMatchObject({ balanced: true, difference_minor: 0 });
  });

  it('adjusts a line the ledger never had, and a checker’s rejection moves nothing', async () => {
    const unknown = itemOf('missing_in_ledger');
    const rejected = await resolve(unknown, { note: 'wrong merchant on the file', correction: 'adjustment' });
    expect(rejected.status).toBe(202);
    const refusal = await harness.decide(
      rejected.body.approval_request.id as string,
      harness.financeChecker,
      'reject',
      {
        reason: 'ask the acquirer first',
      },
    );
    expect(refusal.status).toBe(200);
    const suspense = await balanceOf('suspense:reconciliation');

    const asked = await resolve(unknown, {
      note: 'acquirer confirms a sale of ours, claim 78',
      correction: 'adjustment',
    });
    expect(asked.status).toBe(202);
    expect((await approve(asked)).status).toBe(200);
    expect((await balanceOf('suspense:reconciliation')) - suspense).toBe(-777);
    const nowhere = await resolve({ id: '999999999' }, { note: 'no such item', correction: 'adjustment' });
    expect(nowhere.status).toBe(404);
  });
});

describe('resolving identical exceptions at once', () => {
  it('resolves them with one note and an audit row each, all or none', async () => {
    const [first] = sales as [JsonObject, JsonObject];
    const line = (reference: string) => ({
      settlement_date: '2026-04-01',
      merchant_id: shop.merchant_id,
      card_last4: card.card_last4,
      transaction_time: first.created_at,
      amount_minor: 1_234,
      reference,
      auth_code: 'B00001',
    });
    const uploaded = await uploadStatement(
      harness,
      statementCsv([line('OTHER-PROGRAMME-1'), line('OTHER-PROGRAMME-2'), line('OTHER-PROGRAMME-3')]),
    );
    expect(uploaded.status).toBe(201);
    const bulkRun = uploaded.body.id as string;
    const unknown = (await allItems(harness, bulkRun, 'missing_in_ledger')).map((item) => item.id as string);
    expect(unknown).toHaveLength(3);
    const bulk = (body: Record<string, unknown>) =>
      harness.call('POST', `/v1/reconciliations/${bulkRun}/resolutions`, { token: harness.finance, body });
    const note = 'another union programme’s sales on our file, acquirer ticket 5120';

    const done = await bulk({ item_ids: unknown.slice(0, 2), note });
    expect(done.status).toBe(200);
    expect(done.body.data.map((item: JsonObject) => [item.id, item.resolution.note])).toEqual([
      [unknown[0], note],
      [unknown[1], note],
    ]);
    const audit = await harness.query<{ count: number }>(
      "SELECT count(*)::int AS count FROM reconciliation_audit WHERE run_id = $1 AND action = 'item_resolved'",
      [bulkRun],
    );
    expect(audit[0]?.count).toBe(2);

    const mixed = await bulk({ item_ids: [unknown[2], unknown[0]], note });
    expect(mixed.status).toBe(409);
    expect(mixed.body.code).toBe('already_resolved');
    const left = (await allItems(harness, bulkRun, 'missing_in_ledger')).find(
      (item) => item.id === unknown[2],
    );
    expect(left?.resolution).toBeNull();
    expect((await bulk({ item_ids: [unknown[2], unknown[2]], note })).status).toBe(400);
    expect((await bulk({ item_ids: [], note })).status).toBe(400);
    const nowhere = await harness.call(
      'POST',
      '/v1/reconciliations/rec_0000000000000000000000000/resolutions',
      {
        token: harness.finance,
        body: { item_ids: [unknown[2]], note },
      },
    );
    expect(nowhere.status).toBe(404);
  });
});
