/** Settlement runs and batches. One statement per function; callers pass the transaction. */
import { pageOf } from '@puhui/postgres';
import type { Page, PageRequest, PoolClient, Queryable } from '@puhui/postgres';
import type { SettlementBatch, StatementRow } from '../domain/settlement';
import { listParams } from './list-query';

const MONEY = [
  'gross_minor',
  'merchant_funded_minor',
  'union_funded_minor',
  'net_minor',
  'refunds_minor',
  'refund_member_minor',
  'union_reversed_minor',
  'merchant_reversed_minor',
  'subsidy_owed_minor',
  'subsidy_held_minor',
  'subsidy_cancelled_minor',
  'subsidy_payable_minor',
  'subsidy_paid_minor',
] as const;

const COLUMNS = `batch_id, merchant_id, to_char(business_date, 'YYYY-MM-DD') AS business_date, run_id, status,
  capture_count, refund_count, void_count, ${MONEY.join(', ')}, bank_reference, paid_at, exported_by, exported_at,
  payment_approval_request_id::text, created_at`;

function toBatch(row: Record<string, unknown>): SettlementBatch {
  const batch = { ...row } as Record<string, unknown>;
  for (const column of MONEY) batch[column] = Number(row[column]);
  batch.paid_at = row.paid_at === null ? null : (row.paid_at as Date).toISOString();
  batch.exported_at = row.exported_at === null ? null : (row.exported_at as Date).toISOString();
  batch.created_at = (row.created_at as Date).toISOString();
  return batch as unknown as SettlementBatch;
}

export async function insertRun(
  client: Queryable,
  run: { run_id: string; business_date: string; trigger: 'manual' | 'scheduled'; started_by: string },
): Promise<void> {
  await client.query(
    `INSERT INTO settlement_runs (run_id, business_date, trigger, started_by, batches_created) VALUES ($1, $2, $3, $4, 0)`,
    [run.run_id, run.business_date, run.trigger, run.started_by],
  );
}

export async function setRunBatchCount(client: Queryable, runId: string, count: number): Promise<void> {
  await client.query('UPDATE settlement_runs SET batches_created = $2 WHERE run_id = $1', [runId, count]);
}

/** Merchants with captures or refunds of `date` or earlier that no batch holds yet. */
export async function merchantsWithUnsettledItems(client: Queryable, date: string): Promise<string[]> {
  const { rows } = await client.query<{ merchant_id: string }>(
    `SELECT merchant_id FROM checkouts WHERE settlement_batch_id IS NULL AND business_date <= $1
     UNION
     SELECT merchant_id FROM refunds WHERE settlement_batch_id IS NULL AND business_date <= $1
     ORDER BY merchant_id`,
    [date],
  );
  return rows.map((row) => row.merchant_id);
}

/** Creates the day's batches that do not exist yet; returns the ones created. */
export async function createBatches(
  client: Queryable,
  runId: string,
  date: string,
  batches: ReadonlyArray<{ batch_id: string; merchant_id: string }>,
): Promise<Array<{ batch_id: string; merchant_id: string }>> {
  const { rows } = await client.query<{ batch_id: string; merchant_id: string }>(
    `INSERT INTO settlement_batches (batch_id, merchant_id, business_date, run_id)
     SELECT batch_id, merchant_id, $3, $4 FROM unnest($1::text[], $2::text[]) AS b(batch_id, merchant_id)
     ON CONFLICT (merchant_id, business_date) DO NOTHING
     RETURNING batch_id, merchant_id`,
    [batches.map((batch) => batch.batch_id), batches.map((batch) => batch.merchant_id), date, runId],
  );
  return rows;
}

/** Puts every unassigned capture (or refund) of `date` or earlier into its merchant's batch of this run. */
export async function assignToBatches(
  client: Queryable,
  items: 'checkouts' | 'refunds',
  runId: string,
  date: string,
): Promise<number> {
  const result = await client.query(
    `UPDATE ${items} i SET settlement_batch_id = b.batch_id FROM settlement_batches b
     WHERE b.run_id = $1 AND i.merchant_id = b.merchant_id AND i.settlement_batch_id IS NULL AND i.business_date <= $2`,
    [runId, date],
  );
  return result.rowCount ?? 0;
}

/**
 * Sums each batch of the run from the items assigned to it (voided sales count, but move no
 * money). Its subsidy splits by where each item's checkout's subsidy is now (a refund by its
 * sale's): a decision made later moves it (store/subsidy.ts), under the same lock as this run.
 */
export async function totalBatches(client: Queryable, runId: string): Promise<void> {
  await client.query(
    `WITH sales AS (
       SELECT settlement_batch_id AS batch_id,
              count(*) FILTER (WHERE status <> 'voided') AS captures, count(*) FILTER (WHERE status = 'voided') AS voids,
              coalesce(sum(gross_minor) FILTER (WHERE status <> 'voided'), 0) AS gross,
              coalesce(sum(merchant_funded_minor) FILTER (WHERE status <> 'voided'), 0) AS merchant_funded,
              coalesce(sum(union_funded_minor) FILTER (WHERE status <> 'voided'), 0) AS union_funded,
              coalesce(sum(union_funded_minor) FILTER (WHERE status <> 'voided' AND subsidy_state = 'held'), 0) AS held,
              coalesce(sum(union_funded_minor) FILTER (WHERE status <> 'voided' AND subsidy_state = 'cancelled'), 0)
                AS cancelled,
              coalesce(sum(net_minor) FILTER (WHERE status <> 'voided'), 0) AS net
       FROM checkouts WHERE settlement_batch_id IN (SELECT batch_id FROM settlement_batches WHERE run_id = $1)
       GROUP BY settlement_batch_id),
     returns AS (
       SELECT r.settlement_batch_id AS batch_id, count(*) AS refunds, sum(r.amount_minor) AS refunded,
              sum(r.member_refund_minor) AS member, sum(r.union_reversed_minor) AS union_reversed,
              sum(r.merchant_reversed_minor) AS merchant_reversed,
              coalesce(sum(r.union_reversed_minor) FILTER (WHERE c.subsidy_state = 'held'), 0) AS held,
              coalesce(sum(r.union_reversed_minor) FILTER (WHERE c.subsidy_state = 'cancelled'), 0) AS cancelled
       FROM refunds r JOIN checkouts c ON c.checkout_id = r.checkout_id
       WHERE r.settlement_batch_id IN (SELECT batch_id FROM settlement_batches WHERE run_id = $1)
       GROUP BY r.settlement_batch_id)
     UPDATE settlement_batches b SET
       capture_count = coalesce(s.captures, 0), void_count = coalesce(s.voids, 0), refund_count = coalesce(r.refunds, 0),
       gross_minor = coalesce(s.gross, 0), merchant_funded_minor = coalesce(s.merchant_funded, 0),
       union_funded_minor = coalesce(s.union_funded, 0), net_minor = coalesce(s.net, 0),
       refunds_minor = coalesce(r.refunded, 0), refund_member_minor = coalesce(r.member, 0),
       union_reversed_minor = coalesce(r.union_reversed, 0), merchant_reversed_minor = coalesce(r.merchant_reversed, 0),
       subsidy_owed_minor = coalesce(s.union_funded, 0) - coalesce(r.union_reversed, 0),
       subsidy_held_minor = coalesce(s.held, 0) - coalesce(r.held, 0),
       subsidy_cancelled_minor = coalesce(s.cancelled, 0) - coalesce(r.cancelled, 0)
     FROM settlement_batches b2 LEFT JOIN sales s ON s.batch_id = b2.batch_id LEFT JOIN returns r ON r.batch_id = b2.batch_id
     WHERE b.batch_id = b2.batch_id AND b.run_id = $1`,
    [runId],
  );
}

export async function batchesOfRun(client: Queryable, runId: string): Promise<SettlementBatch[]> {
  const { rows } = await client.query(
    `SELECT ${COLUMNS} FROM settlement_batches WHERE run_id = $1 ORDER BY batch_id`,
    [runId],
  );
  return rows.map(toBatch);
}

export interface BatchFilter extends PageRequest {
  merchant_id?: string;
  business_date?: string;
  status?: string;
}

export async function listBatches(client: Queryable, filter: BatchFilter): Promise<Page<SettlementBatch>> {
  const { rows } = await client.query(
    `SELECT ${COLUMNS} FROM settlement_batches
     WHERE ($1::text IS NULL OR merchant_id = $1) AND ($2::date IS NULL OR business_date = $2)
       AND ($3::text IS NULL OR status = $3) AND ($4::text IS NULL OR batch_id > $4)
     ORDER BY batch_id LIMIT $5`,
    listParams(filter, ['merchant_id', 'business_date', 'status', 'starting_after']),
  );
  return pageOf(rows.map(toBatch), filter);
}

export async function findBatch(client: Queryable, batchId: string): Promise<SettlementBatch | undefined> {
  const { rows } = await client.query(`SELECT ${COLUMNS} FROM settlement_batches WHERE batch_id = $1`, [
    batchId,
  ]);
  return rows[0] === undefined ? undefined : toBatch(rows[0]);
}

/** A day's batches with something due (status `unpaid`), by id, at most `limit`. */
export async function unpaidBatchesOf(
  client: Queryable,
  date: string,
  limit: number,
): Promise<SettlementBatch[]> {
  const { rows } = await client.query(
    `SELECT ${COLUMNS} FROM settlement_batches WHERE business_date = $1 AND status = 'unpaid'
     ORDER BY batch_id LIMIT $2`,
    [date, limit],
  );
  return rows.map(toBatch);
}

export async function lockBatch(client: PoolClient, batchId: string): Promise<SettlementBatch | undefined> {
  const { rows } = await client.query(
    `SELECT ${COLUMNS} FROM settlement_batches WHERE batch_id = $1 FOR UPDATE`,
    [batchId],
  );
  return rows[0] === undefined ? undefined : toBatch(rows[0]);
}

/**
 * Records one payout of a batch: the payout row (who asked, who approved, under which request),
 * and the batch's paid total and latest reference; the payment no longer waits.
 */
export async function recordPayout(
  client: PoolClient,
  payout: {
    batch_id: string;
    amount_minor: number;
    bank_reference: string;
    paid_by: string;
    approved_by: string;
    approval_request_id: string;
  },
): Promise<void> {
  await client.query(
    `WITH payout AS (
       INSERT INTO settlement_payouts (batch_id, amount_minor, bank_reference, paid_by, approved_by, approval_request_id)
       VALUES ($1, $2, $3, $4, $5, $6)
       RETURNING batch_id, amount_minor, bank_reference, paid_by, paid_at)
     UPDATE settlement_batches b SET subsidy_paid_minor = b.subsidy_paid_minor + p.amount_minor,
       bank_reference = p.bank_reference, paid_at = p.paid_at, paid_by = p.paid_by, payment_approval_request_id = NULL
     FROM payout p WHERE b.batch_id = p.batch_id`,
    [
      payout.batch_id,
      payout.amount_minor,
      payout.bank_reference,
      payout.paid_by,
      payout.approved_by,
      payout.approval_request_id,
    ],
  );
}

/** Marks the batch's payment as waiting for approval (`requestId`), or no longer waiting (null). */
export async function setPaymentApprovalRequest(
  client: PoolClient,
  batchId: string,
  requestId: string | null,
): Promise<void> {
  await client.query('UPDATE settlement_batches SET payment_approval_request_id = $2 WHERE batch_id = $1', [
    batchId,
    requestId,
  ]);
}

/** Records who downloaded the batch's payment file: the export row, and the batch's latest. */
export async function recordPaymentFileExport(
  client: PoolClient,
  batchId: string,
  exportedBy: string,
): Promise<void> {
  await client.query(
    `WITH export AS (
       INSERT INTO settlement_payment_file_exports (batch_id, exported_by) VALUES ($1, $2)
       RETURNING batch_id, exported_by, exported_at)
     UPDATE settlement_batches b SET exported_by = e.exported_by, exported_at = e.exported_at
     FROM export e WHERE b.batch_id = e.batch_id`,
    [batchId, exportedBy],
  );
}

/** Everyone who ever downloaded the batch's payment file (token subjects). */
export async function paymentFileExporters(client: Queryable, batchId: string): Promise<string[]> {
  const { rows } = await client.query<{ exported_by: string }>(
    'SELECT DISTINCT exported_by FROM settlement_payment_file_exports WHERE batch_id = $1 ORDER BY exported_by',
    [batchId],
  );
  return rows.map((row) => row.exported_by);
}

/** A batch's items in time order: sales (net charged to the card) and refunds (back to the card, negative). */
/** A checkout's line descriptions in line order, as one statement cell. */
const LINE_DESCRIPTIONS = `(SELECT coalesce(string_agg(line.value ->> 'description', '; ' ORDER BY line.position), '')
   FROM jsonb_array_elements(c.lines) WITH ORDINALITY AS line(value, position)
   WHERE coalesce(line.value ->> 'description', '') <> '')`;

export async function batchItems(client: Queryable, batchId: string): Promise<StatementRow[]> {
  const { rows } = await client.query<Record<string, unknown>>(
    `SELECT CASE WHEN status = 'voided' THEN 'void' ELSE 'capture' END AS kind, checkout_id, NULL AS refund_id, reference,
            card_last4, occurred_at, gross_minor, discount_minor, merchant_funded_minor, union_funded_minor, net_minor AS card_amount,
            ${LINE_DESCRIPTIONS} AS line_descriptions
     FROM checkouts c WHERE settlement_batch_id = $1
     UNION ALL
     SELECT 'refund', r.checkout_id, r.refund_id, c.reference, c.card_last4, r.created_at, -r.amount_minor,
            -r.discount_reversed_minor, -r.merchant_reversed_minor, -r.union_reversed_minor, -r.member_refund_minor,
            ${LINE_DESCRIPTIONS}
     FROM refunds r JOIN checkouts c USING (checkout_id) WHERE r.settlement_batch_id = $1
     ORDER BY occurred_at, checkout_id`,
    [batchId],
  );
  return rows.map((row) => ({
    kind: row.kind as StatementRow['kind'],
    checkout_id: row.checkout_id as string,
    refund_id: row.refund_id as string | null,
    reference: row.reference as string,
    card_last4: row.card_last4 as string,
    occurred_at: (row.occurred_at as Date).toISOString(),
    gross_minor: Number(row.gross_minor),
    discount_minor: Number(row.discount_minor),
    merchant_funded_minor: Number(row.merchant_funded_minor),
    union_funded_minor: Number(row.union_funded_minor),
    card_amount_minor: row.kind === 'void' ? 0 : Number(row.card_amount),
    line_descriptions: row.line_descriptions as string,
  }));
}
