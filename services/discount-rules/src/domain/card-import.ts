/** A card import run: one uploaded file of cards, its progress and the rows it refused. */
import type { RowProblem } from './import-row';

export type ImportStatus = 'running' | 'succeeded' | 'failed';

export interface ImportCounts {
  rows_total: number;
  inserted: number;
  unchanged: number;
  rejected: number;
}

export interface CardImport extends ImportCounts {
  import_id: string;
  status: ImportStatus;
  errors: RowProblem[];
  failure_reason: string | null;
  started_by: string;
  started_at: string;
  updated_at: string;
  finished_at: string | null;
}

/** How many rejected rows a finished import may have and still succeed. */
export interface RejectedRowsAllowance {
  /** The share of the file's rows (0..1) past which the import fails. */
  rejectedShareMax: number;
  /** Rejected rows always tolerated, whatever the share: a small file with a typo or two imports. */
  rejectedRowsTolerated: number;
}

/**
 * Whether an import's rejected rows pass what is allowed: more than `rejectedRowsTolerated`
 * and more than `rejectedShareMax` of its rows. A union sends a file it believes good; a file
 * with more bad rows than that is the wrong file, or a broken export, not a few typos.
 */
export function exceedsRejectedShare(
  counts: Pick<ImportCounts, 'rows_total' | 'rejected'>,
  allowance: RejectedRowsAllowance,
): boolean {
  const { rows_total: rows, rejected } = counts;
  return rejected > allowance.rejectedRowsTolerated && rejected > rows * allowance.rejectedShareMax;
}
