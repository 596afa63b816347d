/**
 * The audit of settlement files that left the service (migration 0016, decision 0017): one row
 * per payment file or statement handed to someone. Append-only.
 */
import type { Queryable } from '@puhui/postgres';

export type SettlementFile = 'payment_file' | 'merchant_statement';

export interface FileDownload {
  file: SettlementFile;
  batch_id: string;
  merchant_id: string;
  business_date: string;
  /** actorOf the caller. */
  downloaded_by: string;
  request_id: string | null;
  /** Data rows in the file (the header line not counted). */
  row_count: number;
}

export async function recordFileDownload(client: Queryable, download: FileDownload): Promise<void> {
  await client.query(
    `INSERT INTO settlement_file_downloads (file, batch_id, merchant_id, business_date, downloaded_by, request_id,
       row_count)
     VALUES ($1, $2, $3, $4, $5, $6, $7)`,
    [
      download.file,
      download.batch_id,
      download.merchant_id,
      download.business_date,
      download.downloaded_by,
      download.request_id,
      download.row_count,
    ],
  );
}
