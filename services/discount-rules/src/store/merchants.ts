/**
 * The merchants replica, fed by puhui.merchants.v1. Each write carries the event's
 * per-merchant sequence and is skipped when the row already reflects a later event.
 */
import type { PoolClient } from 'pg';
import type { MerchantSnapshot } from '@puhui/contracts';
import type { Queryable } from '@puhui/postgres';

/** False when nothing changed: the row reflects a later event. */
export async function upsertMerchant(
  client: PoolClient,
  merchant: MerchantSnapshot,
  sequence: bigint,
): Promise<boolean> {
  const result = await client.query(
    `INSERT INTO merchants (merchant_id, display_name, category, status, last_sequence)
     VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (merchant_id) DO UPDATE
       SET display_name = EXCLUDED.display_name, category = EXCLUDED.category, status = EXCLUDED.status,
           last_sequence = EXCLUDED.last_sequence, updated_at = now()
       WHERE merchants.last_sequence < EXCLUDED.last_sequence`,
    [merchant.merchant_id, merchant.display_name, merchant.category, merchant.status, sequence.toString()],
  );
  return (result.rowCount ?? 0) > 0;
}

/** The status of each of `merchantIds` the replica holds; one it does not hold is absent. */
export async function merchantStatuses(
  client: Queryable,
  merchantIds: readonly string[],
): Promise<Map<string, string>> {
  const { rows } = await client.query<{ merchant_id: string; status: string }>(
    `SELECT merchant_id, status FROM merchants WHERE merchant_id = ANY($1::text[])`,
    [merchantIds],
  );
  return new Map(rows.map((row) => [row.merchant_id, row.status]));
}
