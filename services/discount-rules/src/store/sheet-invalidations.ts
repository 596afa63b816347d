/**
 * Cards whose cached rate sheet must be dropped. The row is written with the card change and
 * deleted once the Redis key is gone, like an outbox for the cache.
 */
import type { Queryable } from '@puhui/postgres';

export async function requestSheetInvalidation(
  client: Queryable,
  cardToken: string,
): Promise<PendingInvalidation> {
  const { rows } = await client.query<PendingInvalidation>(
    `INSERT INTO card_sheet_invalidations (card_token) VALUES ($1)
     ON CONFLICT (card_token) DO UPDATE SET requested_at = now()
     RETURNING card_token, requested_at::text AS requested_at`,
    [cardToken],
  );
  const pending = rows[0];
  if (pending === undefined) throw new Error('the invalidation upsert returns a row');
  return pending;
}

export interface PendingInvalidation {
  card_token: string;
  /** As Postgres text: a JS Date would drop the microseconds the comparison below needs. */
  requested_at: string;
}

export async function pendingInvalidations(client: Queryable, limit: number): Promise<PendingInvalidation[]> {
  const { rows } = await client.query<PendingInvalidation>(
    `SELECT card_token, requested_at::text AS requested_at FROM card_sheet_invalidations
     ORDER BY card_sheet_invalidations.requested_at LIMIT $1`,
    [limit],
  );
  return rows;
}

/** Deletes only requests not renewed since they were read: a newer change still needs its DEL. */
export async function clearInvalidations(
  client: Queryable,
  done: readonly PendingInvalidation[],
): Promise<void> {
  await client.query(
    `DELETE FROM card_sheet_invalidations AS pending
     USING unnest($1::text[], $2::timestamptz[]) AS done (card_token, requested_at)
     WHERE pending.card_token = done.card_token AND pending.requested_at <= done.requested_at`,
    [done.map((entry) => entry.card_token), done.map((entry) => entry.requested_at)],
  );
}
