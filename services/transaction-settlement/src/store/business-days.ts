/**
 * Business days closed early by finance (migration 0005). Every money movement dates itself
 * with `open_business_date()`, which holds the business-day lock shared; a closure holds it
 * exclusively, so the cut between two days is exact.
 */
import type { Pool, PoolClient, Queryable } from '@puhui/postgres';
import { withTransaction } from '@puhui/postgres';
import type { BusinessDayClosure } from '../domain/business-day';

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
