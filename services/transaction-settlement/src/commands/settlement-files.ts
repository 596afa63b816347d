/**
 * A settlement batch's files: the union bank's payment file (finance) and the merchant's
 * statement, each download recorded (decision 0017). Split from settlement.ts, which closes the
 * business day and pays the batches.
 */
import { Conflict, NotFound } from '@puhui/errors';
import { withTransaction } from '@puhui/postgres';
import type { Pool } from '@puhui/postgres';
import { FieldUnsealable, openField } from '@puhui/security';
import { recordFileDownload } from '../store/file-downloads';
import type { SettlementFile } from '../store/file-downloads';
import { findPayee } from '../store/replicas';
import { batchItems, findBatch, recordPaymentFileExport } from '../store/settlement';
import { shanghaiTimestamp } from '../domain/business-day';
import type { SettlementBatch } from '../domain/settlement';
import { PAYMENT_FILE_COLUMNS, STATEMENT_COLUMNS, spreadsheetCsv } from './spreadsheet-csv';
import type { Requester } from './requester';
import { amountDue } from './settlement';

/** A merchant whose settlement account changed a moment ago is not paid until this much later. */
function coolingOffEnds(changedAt: Date | null, coolingOffMs: number): Date | undefined {
  return changedAt === null ? undefined : new Date(changedAt.getTime() + coolingOffMs);
}

/**
 * The union bank's payment file for one batch: who to pay, where, and how much is due now (fen
 * and yuan): confirmed subsidy not paid yet, never held subsidy. Who downloaded it is recorded
 * (they may not approve the payout), and the download audited in the same transaction (who,
 * when, which batch, request id, rows; decision 0017); a merchant whose settlement account
 * changed within `coolingOffMs` is refused (409 `settlement_account_cooling_off`), so that an account
 * redirected by someone who took over a merchant's login is not paid before the merchant hears of it.
 */
export async function exportBatchCsv(
  pool: Pool,
  settings: { fieldKey: string; coolingOffMs: number },
  batchId: string,
  exporter: Requester,
  requestId: string | null,
): Promise<string> {
  return withTransaction(pool, async (client) => {
    const batch = await findBatch(client, batchId);
    if (batch === undefined) throw new NotFound(`Settlement batch ${batchId}`);
    const payee = await findPayee(client, batch.merchant_id);
    const availableAt = coolingOffEnds(payee?.settlement_account_changed_at ?? null, settings.coolingOffMs);
    if (availableAt !== undefined && availableAt.getTime() > Date.now()) {
      throw new Conflict(
        'settlement_account_cooling_off',
        `The merchant's settlement account changed recently: its payment file is available from ${availableAt.toISOString()}.`,
        { available_at: availableAt.toISOString(), merchant_id: batch.merchant_id },
      );
    }
    await recordPaymentFileExport(client, batchId, exporter.subject);
    const account = payee?.settlement_account ?? {};
    const row = {
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
    // One payee per batch: the file's one row.
    const rows = [row];
    await recordFileDownload(client, {
      ...downloadOf(batch, 'payment_file', { actor: exporter.actor, requestId }),
      row_count: rows.length,
    });
    return spreadsheetCsv(rows, PAYMENT_FILE_COLUMNS);
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
