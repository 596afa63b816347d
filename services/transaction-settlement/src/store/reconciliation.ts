/**
 * Reconciliation runs, their items and totals; a run's items are stored from the staging
 * (store/reconciliation-staging.ts). One statement per function; callers pass the transaction.
 */
import { pageOf, pageRowsLimit } from '@puhui/postgres';
import type { Page, PageRequest, PoolClient, Queryable } from '@puhui/postgres';
import type {
  CategoryTotal,
  MatchedBy,
  NewRun,
  ReconciliationCategory,
  ReconciliationItem,
  ReconciliationRun,
} from '../domain/reconciliation';
import { listParams } from './list-query';

/** Fails with 23505 on `reconciliation_runs_file_sha256_key` when the file has a run already. */
export async function insertRun(client: PoolClient, run: NewRun): Promise<void> {
  await client.query(
    `INSERT INTO reconciliation_runs
       (run_id, file_sha256, file_bytes, settlement_date, line_count, time_tolerance_ms, status, created_by)
     VALUES ($1, $2, $3, $4, $5, $6, 'completed', $7)`,
    [
      run.run_id,
      run.file_sha256,
      run.file_bytes,
      run.settlement_date,
      run.line_count,
      run.time_tolerance_ms,
      run.created_by,
    ],
  );
}

/**
 * The run's items from the staging: every line with its pair (a line without one is missing
 * in the ledger), then every ledger item no line took (missing in the statement). Sorted, so
 * that item ids follow the file. The unique indexes on the items refuse a line or a ledger
 * item paired twice.
 */
export async function insertItems(client: PoolClient, runId: string): Promise<number> {
  const { rowCount } = await client.query(
    `INSERT INTO reconciliation_items (run_id, category, matched_by, line_number, line_merchant_id, line_card_last4,
       line_transaction_time, line_amount_minor, line_reference, line_auth_code, duplicate_of_line, ledger_kind,
       ledger_id, ledger_checkout_id, ledger_merchant_id, ledger_card_last4, ledger_reference, ledger_amount_minor,
       ledger_occurred_at)
     SELECT $1, category, matched_by, line_number, line_merchant_id, line_card_last4, line_transaction_time,
            line_amount_minor, line_reference, line_auth_code, duplicate_of_line, ledger_kind, ledger_id,
            ledger_checkout_id, ledger_merchant_id, ledger_card_last4, ledger_reference, ledger_amount_minor,
            ledger_occurred_at
     FROM (
       SELECT coalesce(p.category, 'missing_in_ledger') AS category, p.matched_by, s.line_number,
              s.merchant_id AS line_merchant_id, s.card_last4 AS line_card_last4,
              s.transaction_time AS line_transaction_time, s.amount_minor AS line_amount_minor,
              s.reference AS line_reference, s.auth_code AS line_auth_code, p.duplicate_of_line,
              g.kind AS ledger_kind, g.ledger_id, g.checkout_id AS ledger_checkout_id,
              g.merchant_id AS ledger_merchant_id, g.card_last4 AS ledger_card_last4,
              g.reference AS ledger_reference, g.amount_minor AS ledger_amount_minor,
              g.occurred_at AS ledger_occurred_at
       FROM staged_lines s
       LEFT JOIN staged_pairs p ON p.line_number = s.line_number
       LEFT JOIN staged_ledger g ON g.ledger_id = p.ledger_id
       UNION ALL
       SELECT 'missing_in_statement', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
              g.kind, g.ledger_id, g.checkout_id, g.merchant_id, g.card_last4, g.reference, g.amount_minor,
              g.occurred_at
       FROM staged_ledger g
       WHERE NOT EXISTS (SELECT 1 FROM staged_pairs p WHERE p.ledger_id = g.ledger_id)
     ) AS classified
     ORDER BY line_number NULLS LAST, ledger_occurred_at, ledger_id COLLATE "C"`,
    [runId],
  );
  return rowCount ?? 0;
}

type TotalRow = Omit<CategoryTotal, 'line_amount_minor' | 'ledger_amount_minor'> & {
  line_amount_minor: string;
  ledger_amount_minor: string;
};

const toTotal = (row: TotalRow): CategoryTotal => ({
  category: row.category,
  item_count: Number(row.item_count),
  line_amount_minor: Number(row.line_amount_minor),
  ledger_amount_minor: Number(row.ledger_amount_minor),
});

/** Counts and sums per category, every category included (zeros too), from the stored items. */
export async function insertTotals(
  client: PoolClient,
  runId: string,
  categories: readonly ReconciliationCategory[],
): Promise<CategoryTotal[]> {
  const { rows } = await client.query<TotalRow>(
    `INSERT INTO reconciliation_totals (run_id, category, item_count, line_amount_minor, ledger_amount_minor)
     SELECT $1, k.category, count(i.item_id), coalesce(sum(i.line_amount_minor), 0),
            coalesce(sum(i.ledger_amount_minor), 0)
     FROM unnest($2::text[]) AS k(category)
     LEFT JOIN reconciliation_items i ON i.run_id = $1 AND i.category = k.category
     GROUP BY k.category
     RETURNING category, item_count, line_amount_minor::text, ledger_amount_minor::text`,
    [runId, categories],
  );
  return rows.map(toTotal);
}

type RunRow = Omit<ReconciliationRun, 'file_bytes' | 'created_at' | 'totals' | 'resolved_count'> & {
  file_bytes: string;
  created_at: Date;
  totals: TotalRow[];
  resolved_count: string;
};

const RUN_COLUMNS = `r.run_id, r.file_sha256, r.file_bytes, to_char(r.settlement_date, 'YYYY-MM-DD') AS settlement_date,
  r.line_count, r.time_tolerance_ms, r.status, r.created_by, r.created_at,
  (SELECT json_agg(json_build_object('category', t.category, 'item_count', t.item_count,
                                     'line_amount_minor', t.line_amount_minor::text,
                                     'ledger_amount_minor', t.ledger_amount_minor::text))
   FROM reconciliation_totals t WHERE t.run_id = r.run_id) AS totals,
  (SELECT count(*) FROM reconciliation_items i WHERE i.run_id = r.run_id AND i.resolved_at IS NOT NULL) AS resolved_count`;

function toRun(row: RunRow): ReconciliationRun {
  return {
    ...row,
    file_bytes: Number(row.file_bytes),
    created_at: row.created_at.toISOString(),
    totals: row.totals.map(toTotal),
    resolved_count: Number(row.resolved_count),
  };
}

export async function findRun(client: Queryable, runId: string): Promise<ReconciliationRun | undefined> {
  const { rows } = await client.query<RunRow>(
    `SELECT ${RUN_COLUMNS} FROM reconciliation_runs r WHERE r.run_id = $1`,
    [runId],
  );
  return rows[0] === undefined ? undefined : toRun(rows[0]);
}

export interface RunFilter extends PageRequest {
  settlement_date_from?: string;
  settlement_date_to?: string;
}

/**
 * Runs newest first (ids sort by creation time), `starting_after` the last id of the page before;
 * a page of ≤ 100 runs reads their totals and resolved counts through the primary key and the
 * items' partial index on resolved rows.
 */
export async function listRuns(client: Queryable, filter: RunFilter): Promise<Page<ReconciliationRun>> {
  const { rows } = await client.query<RunRow>(
    `SELECT ${RUN_COLUMNS} FROM reconciliation_runs r
     WHERE ($1::date IS NULL OR r.settlement_date >= $1) AND ($2::date IS NULL OR r.settlement_date <= $2)
       AND ($3::text IS NULL OR r.run_id < $3)
     ORDER BY r.run_id DESC LIMIT $4`,
    listParams(filter, ['settlement_date_from', 'settlement_date_to', 'starting_after']),
  );
  return pageOf(rows.map(toRun), filter);
}

export async function findRunByFile(
  client: Queryable,
  fileSha256: string,
): Promise<ReconciliationRun | undefined> {
  const { rows } = await client.query<RunRow>(
    `SELECT ${RUN_COLUMNS} FROM reconciliation_runs r WHERE r.file_sha256 = $1`,
    [fileSha256],
  );
  return rows[0] === undefined ? undefined : toRun(rows[0]);
}

interface ItemRow {
  item_id: string;
  run_id: string;
  category: ReconciliationCategory;
  matched_by: MatchedBy | null;
  line_number: number | null;
  line_merchant_id: string | null;
  line_card_last4: string | null;
  line_transaction_time: Date | null;
  line_amount_minor: string | null;
  line_reference: string | null;
  line_auth_code: string | null;
  duplicate_of_line: number | null;
  ledger_kind: 'capture' | 'refund' | null;
  ledger_id: string | null;
  ledger_checkout_id: string | null;
  ledger_merchant_id: string | null;
  ledger_card_last4: string | null;
  ledger_reference: string | null;
  ledger_amount_minor: string | null;
  ledger_occurred_at: Date | null;
  resolved_at: Date | null;
  resolved_by: string | null;
  resolution_note: string | null;
}

// pg hands bigints over as strings already. (`item_id::text` would also rename the output column, and
// `ORDER BY item_id` would then sort text: 10 before 9.)
const ITEM_COLUMNS = `item_id, run_id, category, matched_by, line_number, line_merchant_id, line_card_last4,
  line_transaction_time, line_amount_minor, line_reference, line_auth_code, duplicate_of_line, ledger_kind, ledger_id,
  ledger_checkout_id, ledger_merchant_id, ledger_card_last4, ledger_reference, ledger_amount_minor, ledger_occurred_at,
  resolved_at, resolved_by, resolution_note`;

function toItem(row: ItemRow): ReconciliationItem {
  return {
    item_id: row.item_id,
    run_id: row.run_id,
    category: row.category,
    matched_by: row.matched_by,
    line_number: row.line_number,
    duplicate_of_line: row.duplicate_of_line,
    // The CHECKs on reconciliation_items keep each side whole or absent.
    line:
      row.line_number === null
        ? null
        : {
            line_number: row.line_number,
            merchant_id: row.line_merchant_id ?? '',
            card_last4: row.line_card_last4 ?? '',
            transaction_time: row.line_transaction_time?.toISOString() ?? '',
            amount_minor: Number(row.line_amount_minor),
            reference: row.line_reference ?? '',
            auth_code: row.line_auth_code ?? '',
          },
    ledger:
      row.ledger_kind === null
        ? null
        : {
            kind: row.ledger_kind,
            ledger_id: row.ledger_id ?? '',
            checkout_id: row.ledger_checkout_id ?? '',
            merchant_id: row.ledger_merchant_id ?? '',
            card_last4: row.ledger_card_last4 ?? '',
            reference: row.ledger_reference ?? '',
            amount_minor: Number(row.ledger_amount_minor),
            occurred_at: row.ledger_occurred_at?.toISOString() ?? '',
          },
    resolution:
      row.resolved_at === null
        ? null
        : {
            resolved_at: row.resolved_at.toISOString(),
            resolved_by: row.resolved_by ?? '',
            note: row.resolution_note ?? '',
          },
  };
}

export interface ItemFilter extends PageRequest {
  category?: ReconciliationCategory;
}

/** One page more than asked for, so the caller can tell whether there is more. */
export async function listItems(
  client: Queryable,
  runId: string,
  filter: ItemFilter,
): Promise<Page<ReconciliationItem>> {
  const { rows } = await client.query<ItemRow>(
    `SELECT ${ITEM_COLUMNS} FROM reconciliation_items
     WHERE run_id = $1 AND ($2::text IS NULL OR category = $2) AND ($3::bigint IS NULL OR item_id > $3)
     ORDER BY item_id LIMIT $4`,
    [runId, filter.category ?? null, filter.starting_after ?? null, pageRowsLimit(filter)],
  );
  return pageOf(rows.map(toItem), filter);
}

export async function findItem(
  client: Queryable,
  runId: string,
  itemId: string,
): Promise<ReconciliationItem | undefined> {
  const { rows } = await client.query<ItemRow>(
    `SELECT ${ITEM_COLUMNS} FROM reconciliation_items WHERE run_id = $1 AND item_id = $2`,
    [runId, itemId],
  );
  return rows[0] === undefined ? undefined : toItem(rows[0]);
}

/** The item, locked until the transaction ends (a correction is asked for once at a time). */
export async function lockItem(
  client: PoolClient,
  runId: string,
  itemId: string,
): Promise<ReconciliationItem | undefined> {
  const { rows } = await client.query<ItemRow>(
    `SELECT ${ITEM_COLUMNS} FROM reconciliation_items WHERE run_id = $1 AND item_id = $2 FOR UPDATE`,
    [runId, itemId],
  );
  return rows[0] === undefined ? undefined : toItem(rows[0]);
}

/** Resolves an unresolved exception; undefined when there is no such item to resolve. */
export async function resolveItem(
  client: PoolClient,
  runId: string,
  itemId: string,
  resolution: { resolved_by: string; note: string },
): Promise<ReconciliationItem | undefined> {
  const { rows } = await client.query<ItemRow>(
    `UPDATE reconciliation_items SET resolved_at = now(), resolved_by = $3, resolution_note = $4
     WHERE run_id = $1 AND item_id = $2 AND category <> 'matched' AND resolved_at IS NULL
     RETURNING ${ITEM_COLUMNS}`,
    [runId, itemId, resolution.resolved_by, resolution.note],
  );
  return rows[0] === undefined ? undefined : toItem(rows[0]);
}
