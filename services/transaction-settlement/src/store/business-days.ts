/**
 * Business days closed early by finance (migration 0005). Every money movement dates itself
 * with `open_business_date()`, which holds the business-day lock shared; a closure holds it
 * exclusively, so the cut between two days is exact.
 */
import type { Pool, PoolClient, Queryable } from '@puhui/postgres';
import { withTransaction } from '@puhui/postgres';
import type { BusinessDayClosure, DayTotals } from '../domain/business-day';

const LOCK = "hashtext('puhui:business_day')";

/** The business day a movement made in this transaction belongs to. */
export async function openBusinessDate(client: Queryable, byClock: string): Promise<string> {
  const { rows } = await client.query<{ day: string }>({
    name: 'settlement-open-business-date',
    text: "SELECT to_char(open_business_date($1::date), 'YYYY-MM-DD') AS day",
    values: [byClock],
  });
  return (rows[0] as { day: string }).day;
}

/** Waits for every movement already dated (they hold the lock shared) and keeps others out. */
export async function lockBusinessDays(client: Pick<PoolClient, 'query'>): Promise<void> {
  await client.query(`SELECT pg_advisory_xact_lock(${LOCK})`);
}

/** Returns once every movement dated before this call has committed or rolled back. */
export async function awaitDatedMovements(pool: Pool): Promise<void> {
  await withTransaction(pool, lockBusinessDays);
}

export async function insertClosure(
  client: Pick<PoolClient, 'query'>,
  closure: Omit<BusinessDayClosure, 'closed_at'>,
): Promise<BusinessDayClosure> {
  const { rows } = await client.query<BusinessDayClosure & { closed_at: Date }>(
    `INSERT INTO business_day_closures (business_date, closed_by, request_id) VALUES ($1, $2, $3)
     RETURNING to_char(business_date, 'YYYY-MM-DD') AS business_date, closed_by, request_id, closed_at`,
    [closure.business_date, closure.closed_by, closure.request_id],
  );
  return closureOf(rows[0] as BusinessDayClosure & { closed_at: Date });
}

function closureOf(row: Omit<BusinessDayClosure, 'closed_at'> & { closed_at: Date }): BusinessDayClosure {
  return { ...row, closed_at: row.closed_at.toISOString() };
}

export async function findClosure(client: Queryable, date: string): Promise<BusinessDayClosure | undefined> {
  const { rows } = await client.query<BusinessDayClosure & { closed_at: Date }>(
    `SELECT to_char(business_date, 'YYYY-MM-DD') AS business_date, closed_by, request_id, closed_at
       FROM business_day_closures WHERE business_date = $1`,
    [date],
  );
  return rows[0] === undefined ? undefined : closureOf(rows[0]);
}

/**
 * One statement: the day's captures (voided ones apart), voids, refunds, settlement runs,
 * batches by status and reconciliation runs of that settlement date, through the indexes on
 * business_date / settlement_date. Sums as float8: fen totals stay exact below 2⁵³.
 */
export async function dayTotals(client: Queryable, date: string): Promise<DayTotals> {
  const { rows } = await client.query<{ totals: DayTotals }>({
    name: 'settlement-day-totals',
    text: `SELECT json_build_object(
       'captures', (SELECT json_build_object('count', count(*), 'gross_minor', coalesce(sum(gross_minor), 0)::float8,
                      'discount_minor', coalesce(sum(discount_minor), 0)::float8,
                      'union_funded_minor', coalesce(sum(union_funded_minor), 0)::float8,
                      'merchant_funded_minor', coalesce(sum(merchant_funded_minor), 0)::float8,
                      'net_minor', coalesce(sum(net_minor), 0)::float8)
                    FROM checkouts WHERE business_date = $1 AND status <> 'voided'),
       'voids', (SELECT json_build_object('count', count(*), 'gross_minor', coalesce(sum(gross_minor), 0)::float8,
                   'discount_minor', coalesce(sum(discount_minor), 0)::float8)
                 FROM checkouts WHERE business_date = $1 AND status = 'voided'),
       'refunds', (SELECT json_build_object('count', count(*), 'amount_minor', coalesce(sum(amount_minor), 0)::float8,
                     'member_refund_minor', coalesce(sum(member_refund_minor), 0)::float8,
                     'union_reversed_minor', coalesce(sum(union_reversed_minor), 0)::float8,
                     'merchant_reversed_minor', coalesce(sum(merchant_reversed_minor), 0)::float8)
                   FROM refunds WHERE business_date = $1),
       'settlement_runs', (SELECT count(*) FROM settlement_runs WHERE business_date = $1),
       'batches', (SELECT coalesce(json_agg(json_build_object('status', status, 'count', n, 'net_minor', net)
                                            ORDER BY status), '[]'::json)
                   FROM (SELECT status, count(*) AS n, sum(net_minor)::float8 AS net FROM settlement_batches
                         WHERE business_date = $1 GROUP BY status) AS by_status),
       'reconciliations', (SELECT json_build_object('runs', count(*),
                             'exceptions_open', coalesce(sum(
                               (SELECT coalesce(sum(t.item_count), 0) FROM reconciliation_totals t
                                 WHERE t.run_id = r.run_id AND t.category <> 'matched')
                               - (SELECT count(*) FROM reconciliation_items i
                                   WHERE i.run_id = r.run_id AND i.resolved_at IS NOT NULL)), 0))
                           FROM reconciliation_runs r WHERE r.settlement_date = $1)) AS totals`,
    values: [date],
  });
  return (rows[0] as { totals: DayTotals }).totals;
}
