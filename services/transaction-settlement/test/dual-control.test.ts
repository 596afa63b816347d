/**
 * Dual control in settlement (issue 16): a top-up and a batch payment are requests (202) until a
 * second person approves; the requester, someone without the role, and whoever exported the
 * batch's payment file cannot, and nothing moves meanwhile; approved, the money moves once and a
 * second decision is 409. The payment file waits out a merchant's settlement-account change.
 */
import { randomUUID } from 'node:crypto';
import { merchantUpdated } from '@puhui/contracts';
import { DEVELOPMENT_FIELD_KEY, sealField } from '@puhui/security';
import { operatorToken, testSubject, waitFor } from '@puhui/testing';
import { confirmCapturesOf } from './acquirer-confirmation';
import { ADMIN, FINANCE, FINANCE_CHECKER, SettlementHarness, unionFundedRule, useHarness } from './support';
import type { ApiResponse, TestMerchant } from './support';

const harness = new SettlementHarness();
const HOUR_MS = 3_600_000;
const EXPORTER = testSubject('finance.exporter');
const exporter = () => operatorToken(['finance'], { subject: EXPORTER });
/** A third finance person, for a second decision. */
const financeThird = () => operatorToken(['finance'], { subject: testSubject('finance.third') });

let budgetId: string;
const payees: TestMerchant[] = [];
const batchOf = new Map<string, string>();

useHarness(harness, async () => {
  budgetId = await harness.fundedBudget('职工互助补贴', 1_000_000);
  // Each payee: one union-funded sale, 500 fen of subsidy payable once the acquirer confirms it.
  for (let index = 0; index < 4; index += 1) {
    const merchant = await harness.addMerchant('supermarket');
    const card = await harness.addCard(7100 + index, [unionFundedRule(budgetId, 1000, 5000)]);
    const captured = await harness.captureLines(merchant.secret, card.card_number, [
      { category: 'general', amount_minor: 10_000 },
    ]);
    expect(captured.status).toBe(201);
    payees.push(merchant);
  }
  const day = (await harness.call('GET', '/v1/business_days/current', { token: harness.finance })).body
    .business_date as string;
  expect(
    (await harness.call('POST', `/v1/business_days/${day}/close`, { token: harness.finance })).status,
  ).toBe(201);
  const run = await harness.call('POST', '/v1/settlement_runs', {
    token: harness.finance,
    body: { business_date: day },
  });
  for (const batch of run.body.batches as Array<{ id: string; merchant_id: string }>)
    batchOf.set(batch.merchant_id, batch.id);
  await confirmCapturesOf(
    harness,
    payees.map((merchant) => merchant.merchant_id),
  );
});

async function balance(code: string): Promise<number> {
  return (await harness.call('GET', `/v1/ledger/accounts/${code}`, { token: harness.finance })).body
    .balance_minor as number;
}

async function payoutsOf(merchant: TestMerchant): Promise<number> {
  const rows = await harness.query<{ count: number }>(
    "SELECT count(*)::int AS count FROM ledger_transfers WHERE kind = 'payout' AND debit_account = $1",
    [`merchant:${merchant.merchant_id}:subsidy_payable`],
  );
  return rows[0]?.count ?? -1;
}

const batchFor = (merchant: TestMerchant) => batchOf.get(merchant.merchant_id) as string;

const requestPayment = (batchId: string, bankReference: string, key = randomUUID()) =>
  harness.call('POST', `/v1/settlement_batches/${batchId}/mark_paid`, {
    token: harness.finance,
    idempotencyKey: key,
    body: { bank_reference: bankReference },
  });

const exportFile = (batchId: string, token = exporter()) =>
  harness.call('GET', `/v1/settlement_batches/${batchId}/export.csv`, { token });

function expectRefused(answer: ApiResponse, status: number, code: string): void {
  expect(answer.status).toBe(status);
  expect(answer.body.code).toBe(code);
}

describe('paying a batch', () => {
  it('posts the payout only when a second finance person who did not export the file approves, once', async () => {
    const merchant = payees[0] as TestMerchant;
    const batchId = batchFor(merchant);
    const payable = `merchant:${merchant.merchant_id}:subsidy_payable`;
    expect((await exportFile(batchId)).status).toBe(200);
    const exported = await harness.call('GET', `/v1/settlement_batches/${batchId}`, {
      token: harness.finance,
    });
    expect(exported.body).toMatchObject({ exported_by: EXPORTER, payment_approval_request_id: null });
    expect(exported.body.exported_at).not.toBeNull();

    const requested = await requestPayment(batchId, 'ICBC-DC-0001');
    expect(requested.status).toBe(202);
    const approval = requested.body.approval_request;
    expect(approval).toMatchObject({
      service: 'transaction-settlement',
      action: 'settlement_batch_payout',
      target_type: 'settlement_batch',
      target_id: batchId,
      required_role: 'finance',
      requested_by: FINANCE,
      status: 'pending',
      after: { status: 'paid', bank_reference: 'ICBC-DC-0001' },
    });
    const waiting = await harness.call('GET', `/v1/settlement_batches/${batchId}`, {
      token: harness.finance,
    });
    expect(waiting.body).toMatchObject({ status: 'unpaid', payment_approval_request_id: approval.id });
    expectRefused(await requestPayment(batchId, 'ICBC-DC-0002'), 409, 'payment_approval_pending');
    const payableBefore = await balance(payable);
    const unionFundsBefore = await balance('bank:union_funds');

    // The requester, the exporter and an admin cannot approve it; nothing moves.
    expectRefused(await harness.decide(approval.id, harness.finance), 403, 'self_approval_refused');
    expectRefused(await harness.decide(approval.id, exporter()), 403, 'second_person_required');
    expectRefused(await harness.decide(approval.id, harness.adminChecker), 403, 'forbidden');
    expect(await payoutsOf(merchant)).toBe(0);
    expect(await balance(payable)).toBe(payableBefore);
    expect(await balance('bank:union_funds')).toBe(unionFundsBefore);

    const approved = await harness.decide(approval.id, harness.financeChecker, 'approve', {
      reason: 'matches the bank file',
    });
    expect(approved.status).toBe(200);
    expect(approved.body).toMatchObject({
      id: approval.id,
      status: 'approved',
      decided_by: FINANCE_CHECKER,
      reason: 'matches the bank file',
      outcome: {
        id: batchId,
        status: 'paid',
        bank_reference: 'ICBC-DC-0001',
        payment_approval_request_id: null,
      },
    });
    expect(await payoutsOf(merchant)).toBe(1);
    expect(payableBefore - (await balance(payable))).toBe(500);
    expect(unionFundsBefore - (await balance('bank:union_funds'))).toBe(500);
    const [payout] = await harness.query(
      'SELECT paid_by, approved_by, approval_request_id::text FROM settlement_payouts WHERE batch_id = $1',
      [batchId],
    );
    expect(payout).toEqual({
      paid_by: `operator:${FINANCE}`,
      approved_by: `operator:${FINANCE_CHECKER}`,
      approval_request_id: approval.id,
    });
    // The paid event left with the approval (the outbox row committed with it).
    const events = await harness.query(
      "SELECT 1 FROM outbox_events WHERE event_type = 'puhui.settlement.batch_paid.v1' AND subject = $1",
      [batchId],
    );
    expect(events).toHaveLength(1);

    // A second decision is refused and pays nothing more.
    expectRefused(await harness.decide(approval.id, financeThird()), 409, 'approval_already_decided');
    expectRefused(await requestPayment(batchId, 'ICBC-DC-0003'), 409, 'batch_not_payable');
    expect(await payoutsOf(merchant)).toBe(1);
    const shown = await harness.call('GET', `/v1/approval_requests/${approval.id}`, {
      token: harness.finance,
    });
    expect(shown.body).toEqual(approved.body);
  });

  it('lets exactly one of two checkers approving at once pay', async () => {
    const merchant = payees[1] as TestMerchant;
    const requested = await requestPayment(batchFor(merchant), 'ICBC-DC-0101');
    expect(requested.status).toBe(202);
    const answers = await Promise.all([
      harness.decide(requested.body.approval_request.id, harness.financeChecker),
      harness.decide(requested.body.approval_request.id, financeThird()),
    ]);
    expect(answers.map((answer) => answer.status).sort()).toEqual([200, 409]);
    expect(await payoutsOf(merchant)).toBe(1);
  });

  it('pays nothing on a rejection, which frees the batch for another request', async () => {
    const merchant = payees[2] as TestMerchant;
    const batchId = batchFor(merchant);
    const requested = await requestPayment(batchId, 'ICBC-DC-0201');
    const rejected = await harness.decide(
      requested.body.approval_request.id,
      harness.financeChecker,
      'reject',
      {
        reason: 'wrong bank reference',
      },
    );
    expect(rejected.status).toBe(200);
    expect(rejected.body).toMatchObject({ status: 'rejected', reason: 'wrong bank reference' });
    expect(await payoutsOf(merchant)).toBe(0);
    const batch = await harness.call('GET', `/v1/settlement_batches/${batchId}`, { token: harness.finance });
    expect(batch.body).toMatchObject({ status: 'unpaid', payment_approval_request_id: null });
    expect((await requestPayment(batchId, 'ICBC-DC-0202')).status).toBe(202);
    const pending = await harness.call('GET', `/v1/approval_requests?status=pending&target_id=${batchId}`, {
      token: harness.financeChecker,
    });
    expect(pending.body.data).toHaveLength(1);
    expect(pending.body.data[0].after.bank_reference).toBe('ICBC-DC-0202');
  });

  it('answers a replay of the request with the same 202 and records one request', async () => {
    const merchant = payees[3] as TestMerchant;
    const batchId = batchFor(merchant);
    const key = randomUUID();
    const first = await requestPayment(batchId, 'ICBC-DC-0301', key);
    const replay = await requestPayment(batchId, 'ICBC-DC-0301', key);
    expect(first.status).toBe(202);
    expect(replay.status).toBe(202);
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    expect(replay.body).toEqual(first.body);
    const rows = await harness.query('SELECT 1 FROM approval_requests WHERE target_id = $1', [batchId]);
    expect(rows).toHaveLength(1);
  });
});

describe('topping up a budget', () => {
  it('funds the budget only when a second admin approves, once', async () => {
    const before = await balance(`budget:${budgetId}`);
    const requested = await harness.call('POST', `/v1/budgets/${budgetId}/top_ups`, {
      token: harness.admin,
      idempotencyKey: randomUUID(),
      body: { amount_minor: 30_000, reference: 'TU-DC-1' },
    });
    expect(requested.status).toBe(202);
    const approval = requested.body.approval_request;
    expect(approval).toMatchObject({
      action: 'budget_top_up',
      target_id: budgetId,
      required_role: 'admin',
      requested_by: ADMIN,
      before: { balance_minor: before },
      after: { balance_minor: before + 30_000, amount_minor: 30_000 },
    });
    expectRefused(await harness.decide(approval.id, harness.admin), 403, 'self_approval_refused');
    expectRefused(await harness.decide(approval.id, harness.financeChecker), 403, 'forbidden');
    expect(await balance(`budget:${budgetId}`)).toBe(before);

    const approved = await harness.decide(approval.id, harness.adminChecker);
    expect(approved.status).toBe(200);
    expect(approved.body.outcome).toMatchObject({
      object: 'top_up',
      amount_minor: 30_000,
      balance_minor: before + 30_000,
    });
    expectRefused(
      await harness.decide(approval.id, operatorToken(['admin'], { subject: testSubject('admin.third') })),
      409,
      'approval_already_decided',
    );
    expect(await balance(`budget:${budgetId}`)).toBe(before + 30_000);
  });
});

describe('the payment file after a settlement-account change', () => {
  /** Announces the merchant's account as changed at `changedAt` (merchant-onboarding's event), once replicated. */
  async function accountChanged(merchant: TestMerchant, changedAt: Date, sequence: number): Promise<void> {
    await harness.publish(
      merchantUpdated,
      merchant.merchant_id,
      {
        merchant: {
          merchant_id: merchant.merchant_id,
          status: 'active',
          legal_name: `测试商户 ${merchant.merchant_id}`,
          display_name: '测试商户 supermarket',
          category: 'supermarket',
          mcc: '5411',
          region_code: '361100',
          settlement_account: {
            account_type: 'corporate',
            account_name: `测试商户 ${merchant.merchant_id}`,
            account_number_masked: '**** **** 0456',
            account_number_last4: '0456',
            account_number_sealed: sealField(
              '6222029876543210456',
              DEVELOPMENT_FIELD_KEY,
              merchant.merchant_id,
            ),
            bank_name: '中国建设银行',
            branch_code: '105100000017',
          },
          settlement_account_changed_at: changedAt.toISOString(),
          outlets: [],
        },
        changed_fields: ['settlement_account'],
        updated_at: changedAt.toISOString(),
      },
      sequence,
    );
    await waitFor(
      async () => {
        const [row] = await harness.query<{ changed_at: Date | null }>(
          'SELECT settlement_account_changed_at AS changed_at FROM merchants WHERE merchant_id = $1',
          [merchant.merchant_id],
        );
        return row?.changed_at?.getTime() === changedAt.getTime();
      },
      { description: 'the account change replicated' },
    );
  }

  it('refuses the file until the cooling-off period has passed, then serves it', async () => {
    const merchant = payees[3] as TestMerchant;
    const batchId = batchFor(merchant);
    const changedAt = new Date(Math.floor((Date.now() - HOUR_MS) / 1000) * 1000);
    await accountChanged(merchant, changedAt, 3);
    const refused = await exportFile(batchId, harness.finance);
    expectRefused(refused, 409, 'settlement_account_cooling_off');
    expect(refused.body.available_at).toBe(new Date(changedAt.getTime() + 24 * HOUR_MS).toISOString());
    const batch = await harness.call('GET', `/v1/settlement_batches/${batchId}`, { token: harness.finance });
    expect(batch.body.exported_by).toBeNull();

    const longAgo = new Date(Math.floor((Date.now() - 25 * HOUR_MS) / 1000) * 1000);
    await accountChanged(merchant, longAgo, 4);
    const served = await exportFile(batchId, harness.finance);
    expect(served.status).toBe(200);
    expect(served.text).toContain('6222029876543210456');
  });
});
