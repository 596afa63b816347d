import { pageOf, pageRowsLimit } from '@puhui/postgres';
import type { Page, PageRequest, Queryable } from '@puhui/postgres';

export interface AuditEntry {
  merchant_id: string;
  action: string;
  actor: string;
  request_id: string | null;
  before: unknown;
  after: unknown;
}

export interface AuditRecord extends AuditEntry {
  audit_id: string;
  occurred_at: string;
}

export async function appendAudit(client: Queryable, entry: AuditEntry): Promise<void> {
  await client.query(
    `INSERT INTO audit_events (merchant_id, action, actor, request_id, before, after)
     VALUES ($1, $2, $3, $4, $5, $6)`,
    [
      entry.merchant_id,
      entry.action,
      entry.actor,
      entry.request_id,
      entry.before === null ? null : JSON.stringify(entry.before),
      entry.after === null ? null : JSON.stringify(entry.after),
    ],
  );
}

export async function listAudit(
  client: Queryable,
  filter: PageRequest & { merchant_id?: string },
): Promise<Page<AuditRecord>> {
  const { rows } = await client.query<AuditRecord & { occurred_at: Date }>(
    `SELECT audit_id::text, merchant_id, action, actor, request_id, before, after, occurred_at
     FROM audit_events
     WHERE ($1::text IS NULL OR merchant_id = $1) AND ($2::bigint IS NULL OR audit_id > $2)
     ORDER BY audit_id LIMIT $3`,
    [filter.merchant_id ?? null, filter.starting_after ?? null, pageRowsLimit(filter)],
  );
  return pageOf(
    rows.map((row) => ({ ...row, occurred_at: row.occurred_at.toISOString() })),
    filter,
  );
}
