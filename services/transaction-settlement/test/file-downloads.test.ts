/**
 * Downloads of settlement files are audited (issue 15, decision 0017): every payment file and
 * every statement handed to someone leaves a row naming who, when, which batch of which day,
 * the request id and the rows the file held; a refused download leaves none; the audit is
 * append-only.
 */
import { parse } from 'csv-parse/sync';
import { confirmCapturesOf } from './acquirer-confirmation';
import { operatorToken, testSubject } from '@puhui/testing';
import { FINANCE, SettlementHarness, unionFundedRule, useHarness } from './support';
import type { ApiResponse, TestMerchant } from './support';

const harness = new SettlementHarness();

let shop: TestMerchant;
let pharmacy: TestMerchant;
let businessDate: string;
const batchOf = new Map<string, string>();

useHarness(harness, async () => {
  const budgetId = await harness.fundedBudget('下载审计补贴', 1_000_000);
  shop = await harness.addMerchant('supermarket');
  pharmacy = await harness.addMerchant('pharmacy');
  const card = await harness.addCard(8100, [unionFundedRule(budgetId, 1000, 5000)]);
  // The shop's day: three sales, so that its statement has three rows; the pharmacy one.
  for (const amount of [10_000, 4_990, 2_000]) {
    const sale = await harness.captureLines(shop.secret, card.card_number, [
      { category: 'general', amount_minor: amount },
    ]);
    expect(sale.status).toBe(201);
  }
  const pharmacyCard = await harness.addCard(8101, [unionFundedRule(budgetId, 1000, 5000)]);
  const medicine = await harness.captureLines(pharmacy.secret, pharmacyCard.card_number, [
    { category: 'general', amount_minor: 8_800 },
  ]);
  expect(medicine.status).toBe(201);
  businessDate = (await harness.call('GET', '/v1/business_days/current', { token: harness.finance })).body
    .business_date as string;
  expect(
    (await harness.call('POST', `/v1/business_days/${businessDate}/close`, { token: harness.finance }))
      .status,
  ).toBe(201);
  const run = await harness.call('POST', '/v1/settlement_runs', {
    token: harness.finance,
    body: { business_date: businessDate },
  });
  for (const batch of run.body.batches as Array<{ id: string; merchant_id: string }>)
    batchOf.set(batch.merchant_id, batch.id);
  await confirmCapturesOf(harness, [shop.merchant_id, pharmacy.merchant_id]);
});

type DownloadRow = {
  file: string;
  batch_id: string;
  merchant_id: string;
  business_date: string;
  downloaded_by: string;
  request_id: string | null;
  row_count: number;
  downloaded_at: Date;
};

async function downloadsOf(batchId: string): Promise<DownloadRow[]> {
  return harness.query<DownloadRow>(
    `SELECT file, batch_id, merchant_id, to_char(business_date, 'YYYY-MM-DD') AS business_date, downloaded_by,
            request_id, row_count, downloaded_at
     FROM settlement_file_downloads WHERE batch_id = $1 ORDER BY download_id`,
    [batchId],
  );
}

const batchFor = (merchant: TestMerchant) => batchOf.get(merchant.merchant_id) as string;

function dataRows(answer: ApiResponse): number {
  return (parse(answer.text, { bom: true, columns: true }) as unknown[]).length;
}

describe('downloading settlement files', () => {
  it('audits each payment file handed to finance: who, when, which batch and day, the request id, its rows', async () => {
    const batchId = batchFor(shop);
    const startedAt = Date.now();
    const first = await harness.call('GET', `/v1/settlement_batches/${batchId}/export.csv`, {
      token: harness.finance,
    });
    const second = await harness.call('GET', `/v1/settlement_batches/${batchId}/export.csv`, {
      token: harness.financeChecker,
    });
    expect([first.status, second.status]).toEqual([200, 200]);
    const rows = await downloadsOf(batchId);
    expect(rows).toHaveLength(2);
    expect(rows[0]).toMatchObject({
      file: 'payment_file',
      batch_id: batchId,
      merchant_id: shop.merchant_id,
      business_date: businessDate,
      downloaded_by: `operator:${FINANCE}`,
      request_id: first.headers.get('x-request-id'),
      row_count: dataRows(first),
    });
    expect(rows[0]?.row_count).toBe(1);
    expect(rows[1]?.request_id).toBe(second.headers.get('x-request-id'));
    expect(rows[1]?.request_id).not.toBe(rows[0]?.request_id);
    for (const row of rows) {
      expect(row.downloaded_at.getTime()).toBeGreaterThanOrEqual(startedAt - 1000);
      expect(row.downloaded_at.getTime()).toBeLessThanOrEqual(Date.now() + 1000);
    }
  });

  it('audits each statement handed to the merchant or to finance, with the rows it held', async () => {
    const batchId = batchFor(shop);
    const own = await harness.call('GET', `/v1/settlement_batches/${batchId}/statement.csv`, {
      token: shop.secret,
    });
    const finance = await harness.call('GET', `/v1/settlement_batches/${batchId}/statement.csv`, {
      token: harness.finance,
    });
    expect([own.status, finance.status]).toEqual([200, 200]);
    expect(dataRows(own)).toBe(3);
    const statements = (await downloadsOf(batchId)).filter((row) => row.file === 'merchant_statement');
    expect(statements).toHaveLength(2);
    expect(statements[0]).toMatchObject({
      merchant_id: shop.merchant_id,
      business_date: businessDate,
      request_id: own.headers.get('x-request-id'),
      row_count: 3,
    });
    // A merchant is named by its id and the key it called with.
    expect(statements[0]?.downloaded_by).toMatch(
      new RegExp(`^merchant:${shop.merchant_id}/key_[0-9a-z]{25}$`, 'u'),
    );
    expect(statements[1]).toMatchObject({
      downloaded_by: `operator:${FINANCE}`,
      request_id: finance.headers.get('x-request-id'),
      row_count: 3,
    });
  });

  it('records nothing for a download it refuses', async () => {
    const batchId = batchFor(pharmacy);
    const refusals = await Promise.all([
      // Another merchant's statement, a merchant asking for the bank's file, an admin (not finance), nobody.
      harness.call('GET', `/v1/settlement_batches/${batchId}/statement.csv`, { token: shop.secret }),
      harness.call('GET', `/v1/settlement_batches/${batchId}/export.csv`, { token: pharmacy.secret }),
      harness.call('GET', `/v1/settlement_batches/${batchId}/export.csv`, { token: harness.admin }),
      harness.call('GET', `/v1/settlement_batches/${batchId}/statement.csv`),
      // An auditor reads every batch, but the bank's file holds account numbers in the clear and
      // makes its reader an exporter of the batch: not a read.
      harness.call('GET', `/v1/settlement_batches/${batchId}/export.csv`, {
        token: operatorToken(['auditor'], { subject: testSubject('auditor') }),
      }),
    ]);
    expect(refusals.map((answer) => answer.status)).toEqual([404, 403, 403, 401, 403]);
    expect(refusals[4]?.body.detail).toMatch(/auditor reads but does not export/u);
    expect(await downloadsOf(batchId)).toEqual([]);
  });

  it('keeps the audit append-only', async () => {
    const batchId = batchFor(pharmacy);
    expect(
      (
        await harness.call('GET', `/v1/settlement_batches/${batchId}/statement.csv`, {
          token: pharmacy.secret,
        })
      ).status,
    ).toBe(200);
    await expect(
      harness.query("UPDATE settlement_file_downloads SET downloaded_by = 'operator:someone-else'"),
    ).rejects.toThrow(/append-only/u);
    await expect(harness.query('DELETE FROM settlement_file_downloads')).rejects.toThrow(/append-only/u);
    await expect(harness.query('TRUNCATE settlement_file_downloads')).rejects.toThrow(/append-only/u);
    expect(await downloadsOf(batchId)).toHaveLength(1);
  });
});
