/** Card import runs and their progress. One SQL statement per function. */
import { pageOf, pageRowsLimit } from '@puhui/postgres';
import type { Page, PageRequest, Queryable } from '@puhui/postgres';
import type { CardImport, ImportCounts, ImportStatus } from '../domain/card-import';
import type { RowProblem } from '../domain/import-row';
import { isoOrNull } from './timestamps';

interface ImportRow extends Omit<CardImport, 'started_at' | 'updated_at' | 'finished_at'> {
  started_at: Date;
  updated_at: Date;
  finished_at: Date | null;
}

const COLUMNS = `import_id, status, rows_total::float8 AS rows_total, inserted::float8 AS inserted,
  unchanged::float8 AS unchanged, rejected::float8 AS rejected, errors, failure_reason, started_by,
  started_at, updated_at, finished_at`;

function toImport(row: ImportRow): CardImport {
  return {
    ...row,
    started_at: row.started_at.toISOString(),
    updated_at: row.updated_at.toISOString(),
    finished_at: isoOrNull(row.finished_at),
  };
}

export async function insertImport(
  client: Queryable,
  entry: { import_id: string; started_by: string; request_id: string | null },
): Promise<void> {
  await client.query(
    `INSERT INTO card_imports (import_id, status, started_by, request_id) VALUES ($1, 'running', $2, $3)`,
    [entry.import_id, entry.started_by, entry.request_id],
  );
}

/** Adds one batch's counts and its listed errors (the caller keeps the list within its cap). */
export async function addImportProgress(
  client: Queryable,
  importId: string,
  counts: ImportCounts,
  errors: readonly RowProblem[],
): Promise<void> {
  await client.query(
    `UPDATE card_imports
     SET rows_total = rows_total + $2, inserted = inserted + $3, unchanged = unchanged + $4,
         rejected = rejected + $5, errors = errors || $6::jsonb, updated_at = now()
     WHERE import_id = $1`,
    [importId, counts.rows_total, counts.inserted, counts.unchanged, counts.rejected, JSON.stringify(errors)],
  );
}

/**
 * Ends the import. `rolled_back`: its transaction was rolled back, so nothing it counted as
 * inserted is registered and `inserted` is set to 0 (rows, unchanged, rejected and the listed
 * problems stay: they tell what was wrong with the file).
 */
export async function finishImport(
  client: Queryable,
  importId: string,
  outcome: { status: 'succeeded' | 'failed'; failure_reason: string | null; rolled_back?: boolean },
): Promise<void> {
  await client.query(
    `UPDATE card_imports SET status = $2, failure_reason = $3, finished_at = now(), updated_at = now(),
       inserted = CASE WHEN $4 THEN 0 ELSE inserted END
     WHERE import_id = $1`,
    [importId, outcome.status, outcome.failure_reason, outcome.rolled_back === true],
  );
}

/**
 * Fails imports that made no progress for `quietMs` (progress is written after every batch,
 * so only an import whose process died stops moving); returns their ids. Their transaction
 * ended with the process's connection, rolled back: `inserted` is set to 0.
 */
export async function failAbandonedImports(
  client: Queryable,
  quietMs: number,
  reason: string,
): Promise<string[]> {
  const { rows } = await client.query<{ import_id: string }>(
    `UPDATE card_imports SET status = 'failed', failure_reason = $2, finished_at = now(), updated_at = now(),
       inserted = 0
     WHERE status = 'running' AND updated_at < now() - make_interval(secs => $1 / 1000.0)
     RETURNING import_id`,
    [quietMs, reason],
  );
  return rows.map((row) => row.import_id);
}

export async function findImport(client: Queryable, importId: string): Promise<CardImport | undefined> {
  const { rows } = await client.query<ImportRow>(`SELECT ${COLUMNS} FROM card_imports WHERE import_id = $1`, [
    importId,
  ]);
  return rows[0] === undefined ? undefined : toImport(rows[0]);
}

/** One page in id order (ids sort by start time); one extra row tells has_more. */
export async function listImports(
  client: Queryable,
  filter: PageRequest & { status?: ImportStatus },
): Promise<Page<CardImport>> {
  const { rows } = await client.query<ImportRow>(
    `SELECT ${COLUMNS} FROM card_imports
     WHERE ($1::text IS NULL OR status = $1) AND ($2::text IS NULL OR import_id > $2)
     ORDER BY import_id LIMIT $3`,
    [filter.status ?? null, filter.starting_after ?? null, pageRowsLimit(filter)],
  );
  return pageOf(rows.map(toImport), filter);
}
