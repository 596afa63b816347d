/** The console's append-only audit trail. */
import { pageOf, pageRowsLimit } from '@puhui/postgres';
import type { Page, PageRequest, Queryable } from '@puhui/postgres';

export interface AuditEntry {
  actor: string;
  action: string;
  accountId?: string | null;
  ip?: string | null;
  requestId?: string | null;
  before?: unknown;
  after?: unknown;
  detail?: unknown;
}

export interface AuditRow {
  id: string;
  occurred_at: Date;
  actor: string;
  action: string;
  account_id: string | null;
  ip: string | null;
  request_id: string | null;
  before: unknown;
  after: unknown;
  detail: unknown;
}

export async function recordAudit(db: Queryable, entry: AuditEntry): Promise<void> {
  await db.query(
    `INSERT INTO audit_events (actor, action, account_id, ip, request_id, before, after, detail)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
    [
      entry.actor,
      entry.action,
      entry.accountId ?? null,
      entry.ip ?? null,
      entry.requestId ?? null,
      entry.before === undefined ? null : JSON.stringify(entry.before),
      entry.after === undefined ? null : JSON.stringify(entry.after),
      entry.detail === undefined ? null : JSON.stringify(entry.detail),
    ],
  );
}

/** Newest first; `starting_after` is an event id; `account_id` narrows to one person. */
export async function listAudit(
  db: Queryable,
  query: PageRequest & { account_id?: string | undefined; action?: string | undefined },
): Promise<Page<AuditRow>> {
  const { rows } = await db.query<AuditRow>(
    `SELECT id::text, occurred_at, actor, action, account_id, ip, request_id, before, after, detail FROM audit_events
     WHERE ($1::bigint IS NULL OR id < $1) AND ($2::uuid IS NULL OR account_id = $2) AND ($3::text IS NULL OR action = $3)
     ORDER BY id DESC LIMIT $4`,
    [query.starting_after ?? null, query.account_id ?? null, query.action ?? null, pageRowsLimit(query)],
  );
  return pageOf(rows, query);
}
