/**
 * A settlement batch's files: the union bank's payment file (finance) and the merchant's
 * statement, each download recorded (decision 0017). Split from settlement.ts, which closes the
 * business day and pays the batches.
 */
import { Conflict, DomainError, NotFound, Unprocessable } from '@puhui/errors';
import { withTransaction } from '@puhui/postgres';
import type { Pool, PoolClient, Queryable } from '@puhui/postgres';
import { FieldUnsealable, openField } from '@puhui/security';
import { recordFileDownload } from '../store/file-downloads';
import type { SettlementFile } from '../store/file-downloads';
import { findPayee } from '../store/replicas';
import { batchItems, findBatch, recordPaymentFileExport, unpaidBatchesOf } from '../store/settlement';
import { shanghaiTimestamp } from '../domain/business-day';
import type { SettlementBatch } from '../domain/settlement';
import { PAYMENT_FILE_COLUMNS, STATEMENT_COLUMNS, spreadsheetCsv } from './spreadsheet-csv';
import type { Requester } from './requester';
import { DAY_PAYMENTS_MAX, amountDue } from './settlement';

/** A merchant whose settlement account changed a moment ago is not paid until this much later. */
function coolingOffEnds(changedAt: Date | null, coolingOffMs: number): Date | undefined {
  return changedAt === null ? undefined : new Date(changedAt.getTime() + coolingOffMs);
}

/** Where the payment file takes account numbers from, and how long a changed account waits. */
export interface PaymentFileSettings {
  fieldKey: string;
  coolingOffMs: number;
}

/** The codes of a payee the bank cannot be sent yet; a day's file may skip them when asked. */
const UNAVAILABLE_PAYEE_CODES = new Set(['settlement_account_cooling_off', 'settlement_account_unreadable']);

/**
 * A batch's payment row: who to pay, where, and how much is due now (confirmed subsidy not paid
 * yet, never held subsidy). A merchant whose settlement account changed within `coolingOffMs` is
 * refused (409 `settlement_account_cooling_off`), so that an account redirected by someone who
 * took over a merchant's login is not paid before the merchant hears of it.
 */
async function paymentRow(client: Queryable, settings: PaymentFileSettings, batch: SettlementBatch) {
  const payee = await findPayee(client, batch.merchant_id);
  const availableAt = coolingOffEnds(payee?.settlement_account_changed_at ?? null, settings.coolingOffMs);
  if (availableAt !== undefined && availableAt.getTime() > Date.now()) {
    throw new Conflict(
      'settlement_account_cooling_off',
      `The merchant's settlement account changed recently: its payment file is available from ${availableAt.toISOString()}.`,
      { available_at: availableAt.toISOString(), merchant_id: batch.merchant_id },
    );
  }
  const account = payee?.settlement_account ?? {};
  return {
    batch_id: batch.batch_id,
    business_date: batch.business_date,
    merchant_id: batch.merchant_id,
    legal_name: payee?.legal_name ?? '',
    // A personal account's holder is masked in the snapshot and sealed beside it (decision 0016):
    // the bank needs the real name; a corporate account's is the legal name, kept plain.
    account_name:
      account.account_name_sealed === undefined
        ? (account.account_name ?? '')
        : openedAccount('holder name', account.account_name_sealed, settings.fieldKey, batch.merchant_id),
    account_number:
      account.account_number_sealed === undefined
        ? ''
        : openedAccount('number', account.account_number_sealed, settings.fieldKey, batch.merchant_id),
    bank_name: account.bank_name ?? '',
    branch_code: account.branch_code ?? '',
    amount_minor: amountDue(batch),
    currency: 'CNY',
    reference: `PUHUI-${batch.batch_id}`,
  };
}

/**
 * Records that `exporter` downloaded the batch's payment row (they may not approve its payout)
 * and audits the download (who, when, which batch, request id, rows; decision 0017).
 */
async function recordPaymentRowExport(
  client: PoolClient,
  batch: SettlementBatch,
  exporter: Requester,
  requestId: string | null,
): Promise<void> {
  await recordPaymentFileExport(client, batch.batch_id, exporter.subject);
  await recordFileDownload(client, {
    ...downloadOf(batch, 'payment_file', { actor: exporter.actor, requestId }),
    row_count: 1,
  });
}

/** The union bank's payment file for one batch: its one row, in a transaction with its records. */
export async function exportBatchCsv(
  pool: Pool,
  settings: PaymentFileSettings,
  batchId: string,
  exporter: Requester,
  requestId: string | null,
): Promise<string> {
  return withTransaction(pool, async (client) => {
    const batch = await findBatch(client, batchId);
    if (batch === undefined) throw new NotFound(`Settlement batch ${batchId}`);
    const row = await paymentRow(client, settings, batch);
    await recordPaymentRowExport(client, batch, exporter, requestId);
    return spreadsheetCsv([row], PAYMENT_FILE_COLUMNS);
  });
}

/** The trailer row's batch_id: the bank checks the file against this row's count and sum. */
export const CONTROL_TOTAL_ROW = 'CONTROL_TOTAL';

export interface SkippedBatch {
  batch_id: string;
  merchant_id: string;
  code: string;
}

/**
 * The union bank's payment file for a whole business day: one row per merchant with anything
 * due (the day's `unpaid` batches), then a control-total row (`batch_id` CONTROL_TOTAL, the
 * payments' count as its reference and their sum as amount_minor). A payee the bank cannot be
 * sent yet (cooling off, or an account that does not open) refuses the whole file, naming every
 * such batch (409 `payment_file_batches_unavailable`), unless `skipUnavailable`: then they are
 * left out and returned in `skipped`. Every row's export is recorded and audited as for a
 * batch's own file, in one transaction with the reading.
 */
export async function exportDayCsv(
  pool: Pool,
  settings: PaymentFileSettings,
  request: { date: string; skipUnavailable: boolean; exporter: Requester; requestId: string | null },
): Promise<{ csv: string; skipped: SkippedBatch[]; payments: number; total_minor: number }> {
  return withTransaction(pool, async (client) => {
    const batches = await unpaidBatchesOf(client, request.date, DAY_PAYMENTS_MAX + 1);
    if (batches.length > DAY_PAYMENTS_MAX) {
      throw new Unprocessable(
        'payment_file_too_large',
        `Business day ${request.date} has more than ${DAY_PAYMENTS_MAX} batches to pay: download their files batch by batch.`,
      );
    }
    const rows: Awaited<ReturnType<typeof paymentRow>>[] = [];
    const paid: SettlementBatch[] = [];
    const skipped: SkippedBatch[] = [];
    for (const batch of batches) {
      try {
        rows.push(await paymentRow(client, settings, batch));
        paid.push(batch);
      } catch (error) {
        if (!(error instanceof DomainError && UNAVAILABLE_PAYEE_CODES.has(error.code))) throw error;
        skipped.push({ batch_id: batch.batch_id, merchant_id: batch.merchant_id, code: error.code });
      }
    }
    if (skipped.length > 0 && !request.skipUnavailable) {
      throw new Conflict(
        'payment_file_batches_unavailable',
        `${skipped.length} of the day's batches cannot be sent to the bank yet; ask again with skip_unavailable=true to leave them out.`,
        { batches: skipped },
      );
    }
    for (const batch of paid)
      await recordPaymentRowExport(client, batch, request.exporter, request.requestId);
    const totalMinor = rows.reduce((sum, row) => sum + row.amount_minor, 0);
    const trailer = {
      batch_id: CONTROL_TOTAL_ROW,
      business_date: request.date,
      amount_minor: totalMinor,
      currency: 'CNY',
      reference: String(rows.length),
    };
    return {
      csv: spreadsheetCsv([...rows, trailer], PAYMENT_FILE_COLUMNS),
      skipped,
      payments: rows.length,
      total_minor: totalMinor,
    };
  });
}

/** Who downloads a settlement file, under which request: what its audit row names. */
export interface Downloader {
  /** actorOf the caller. */
  actor: string;
  requestId: string | null;
}

function downloadOf(batch: SettlementBatch, file: SettlementFile, downloader: Downloader) {
  return {
    file,
    batch_id: batch.batch_id,
    merchant_id: batch.merchant_id,
    business_date: batch.business_date,
    downloaded_by: downloader.actor,
    request_id: downloader.requestId,
  };
}

/**
 * The payee's account number, or a personal account's holder name, sealed by merchant-onboarding
 * for this merchant (AAD = its id): a value pasted from another merchant's row, tampered, or
 * still of the v1 format does not open, and no payment file is made (409 `settlement_account_unreadable`, naming the merchant, never
 * the value) — paying the wrong account is worse than paying a day late.
 */
function openedAccount(
  what: 'number' | 'holder name',
  sealed: string,
  fieldKey: string,
  merchantId: string,
): string {
  try {
    return openField(sealed, fieldKey, merchantId);
  } catch (error) {
    if (!(error instanceof FieldUnsealable)) throw error;
    throw new Conflict(
      'settlement_account_unreadable',
      `The settlement account ${what} held for merchant ${merchantId} does not open for it (${error.reason}): no payment file is made until merchant-onboarding announces the merchant again.`,
      { merchant_id: merchantId, reason: error.reason },
    );
  }
}

/**
 * A merchant's daily statement: every sale, void and refund of the batch, times in Asia/Shanghai.
 * The download is audited before the file is handed over (a failed audit row sends nothing).
 */
export async function statementCsv(
  pool: Pool,
  batch: SettlementBatch,
  downloader: Downloader,
): Promise<string> {
  const items = await batchItems(pool, batch.batch_id);
  await recordFileDownload(pool, {
    ...downloadOf(batch, 'merchant_statement', downloader),
    row_count: items.length,
  });
  return spreadsheetCsv(
    items.map((item) => ({
      business_date: batch.business_date,
      batch_id: batch.batch_id,
      ...item,
      occurred_at: shanghaiTimestamp(new Date(item.occurred_at)),
    })),
    STATEMENT_COLUMNS,
  );
}
