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
