/**
 * Paying a whole business day (issue 18): one payment file for every batch with something due,
 * with a control total, and one request with a bank reference per batch, each payout approved
 * by a second finance person.
 */
import { randomUUID } from 'node:crypto';
import { parse } from 'csv-parse/sync';
import { operatorToken, testSubject } from '@puhui/testing';
import { confirmCapturesOf } from './acquirer-confirmation';
import { SettlementHarness, unionFundedRule, useHarness } from './support';
import type { TestCard, TestMerchant } from './support';

const harness = new SettlementHarness();
let shops: TestMerchant[];
let card: TestCard;
let date: string;

useHarness(harness, async () => {
  shops = [
    await harness.addMerchant('supermarket'),
    await harness.addMerchant('supermarket'),
    await harness.addMerchant('supermarket'),
  ];
  const budgetId = await harness.fundedBudget('困难职工帮扶', 1_000_000);
  card = await harness.addCard(320, [unionFundedRule(budgetId, 1000, 6000)]);
});

const payments = (requests: { batch_id: string; bank_reference: string }[], key = randomUUID()) =>
  harness.call('POST', `/v1/business_days/${date}/mark_paid`, {
    token: harness.finance,
    idempotencyKey: key,
    body: { payments: requests },
  });
const batchesOfDay = async () =>
  (
    await harness.call('GET', `/v1/settlement_batches?business_date=${date}&limit=100`, {
      token: harness.finance,
    })
  ).body.data as { id: string; merchant_id: string; status: string; subsidy_payable_minor: number }[];
const approvalCount = async () =>
  (await harness.query<{ count: number }>('SELECT count(*)::int AS count FROM approval_requests'))[0]?.count;

describe('paying a business day', () => {
  it('writes one payment file with a control total, then pays every batch with a second person', async () => {
    for (const [index, shop] of shops.entries()) {
      const sale = await harness.captureLines(shop.secret, card.card_number, [
        { category: 'general', amount_minor: 10_000 * (index + 1) },
      ]);
      expect(sale.status).toBe(201);
      date = sale.body.business_date as string;
    }
    expect(
      (await harness.call('POST', `/v1/business_days/${date}/close`, { token: harness.finance })).status,
    ).toBe(201);
    expect(
      (
        await harness.call('POST', '/v1/settlement_runs', {
          token: harness.finance,
          body: { business_date: date },
        })
      ).status,
    ).toBe(201);
    // The acquirer confirms two shops' sales: their subsidy is payable; the third's stays held.
    const [first, second, third] = shops as [TestMerchant, TestMerchant, TestMerchant];
    await confirmCapturesOf(harness, [first.merchant_id, second.merchant_id]);
    const unpaid = (await batchesOfDay()).filter((batch) => batch.status === 'unpaid');
    expect(unpaid.map((batch) => batch.merchant_id).sort()).toEqual(
      [first.merchant_id, second.merchant_id].sort(),
    );
    const due = unpaid.reduce((sum, batch) => sum + batch.subsidy_payable_minor, 0);
    expect(due).toBeGreaterThan(0);

    const file = await harness.call('GET', `/v1/business_days/${date}/payment_file.csv`, {
      token: harness.finance,
    });
    expect(file.status).toBe(200);
    expect(file.headers.get('content-disposition')).toBe(`attachment; filename="payments-${date}.csv"`);
    const rows = parse(file.text, { bom: true, columns: true }) as Record<string, string>[];
    const trailer = rows.at(-1);
    const detail = rows.slice(0, -1);
    expect(detail.map((row) => row.batch_id).sort()).toEqual(unpaid.map((batch) => batch.id).sort());
    expect(detail.every((row) => row.account_number === '6222021234567890123')).toBe(true);
    for (const row of detail) {
      const batch = unpaid.find((candidate) => candidate.id === row.batch_id);
      expect(Number(row.amount_minor)).toBe(batch?.subsidy_payable_minor);
    }
    expect(trailer).toMatchObject({ batch_id: 'CONTROL_TOTAL', reference: '2', amount_minor: String(due) });
    expect(detail.reduce((sum, row) => sum + Number(row.amount_minor), 0)).toBe(
      Number(trailer?.amount_minor),
    );
    expect(file.headers.get('puhui-control-total-minor')).toBe(String(due));
    expect(file.headers.get('puhui-payment-count')).toBe('2');
    expect(third.merchant_id).not.toBe(detail[0]?.merchant_id);

    // Each row's download is recorded as for the batch's own file, and audited.
    const exported = await harness.query<{ exported_by: string | null }>(
      'SELECT exported_by FROM settlement_batches WHERE batch_id = ANY($1)',
      [unpaid.map((batch) => batch.id)],
    );
    expect(exported.map((row) => row.exported_by)).toEqual([expect.any(String), expect.any(String)]);
    const audited = await harness.query<{ count: number }>(
      "SELECT count(*)::int AS count FROM settlement_file_downloads WHERE file = 'payment_file' AND batch_id = ANY($1)",
      [unpaid.map((batch) => batch.id)],
    );
    expect(audited[0]?.count).toBe(2);
    const auditor = operatorToken(['auditor'], { subject: testSubject('auditor.li') });
    expect(
      (await harness.call('GET', `/v1/business_days/${date}/payment_file.csv`, { token: auditor })).status,
    ).toBe(403);

    // All or none: a batch that is not payable refuses the whole request, and nothing is asked.
    const before = await approvalCount();
    const held = (await batchesOfDay()).find((batch) => batch.merchant_id === third.merchant_id);
    const refused = await payments([
      ...unpaid.map((batch, index) => ({ batch_id: batch.id, bank_reference: `ICBC-${date}-${index}` })),
      { batch_id: held?.id as string, bank_reference: 'ICBC-HELD' },
    ]);
    expect(refused.status).toBe(409);
    expect(refused.body.code).toBe('batch_not_payable');
    expect(await approvalCount()).toBe(before);
    const twice = await payments([
      { batch_id: unpaid[0]?.id as string, bank_reference: 'A' },
      { batch_id: unpaid[0]?.id as string, bank_reference: 'B' },
    ]);
    expect(twice.status).toBe(400);

    const key = randomUUID();
    const references = unpaid.map((batch, index) => ({
      batch_id: batch.id,
      bank_reference: `ICBC-${date}-${index}`,
    }));
    const asked = await payments(references, key);
    expect(asked.status).toBe(202);
    expect(asked.body.payments).toHaveLength(2);
    const replay = await payments(references, key);
    expect(replay.status).toBe(202);
    expect(replay.body).toEqual(asked.body);
    expect(await approvalCount()).toBe((before ?? 0) + 2);
    const again = await payments(references);
    expect(again.body.code).toBe('payment_approval_pending');

    // The one who asked cannot approve; a second finance person approves each payout.
    const own = await harness.decide(asked.body.payments[0].approval_request.id, harness.finance);
    expect(own.status).toBe(403);
    for (const payment of asked.body.payments as { approval_request: { id: string } }[]) {
      const approved = await harness.decide(payment.approval_request.id, harness.financeChecker);
      expect(approved.status).toBe(200);
      expect(approved.body.outcome).toMatchObject({ status: 'paid' });
    }
    const paid = (await batchesOfDay()).filter((batch) => batch.status === 'paid');
    expect(paid.map((batch) => batch.id).sort()).toEqual(unpaid.map((batch) => batch.id).sort());

    // Nothing is due any more but the held batch: the next file has only its control total.
    const empty = await harness.call('GET', `/v1/business_days/${date}/payment_file.csv`, {
      token: harness.finance,
    });
    const left = parse(empty.text, { bom: true, columns: true }) as Record<string, string>[];
    expect(left).toEqual([
      expect.objectContaining({ batch_id: 'CONTROL_TOTAL', reference: '0', amount_minor: '0' }),
    ]);
    const balance = await harness.call('GET', '/v1/ledger/trial_balance', { token: harness.finance });
    expect(balance.body).toMatchObject({ balanced: true, difference_minor: 0 });
  });
});
