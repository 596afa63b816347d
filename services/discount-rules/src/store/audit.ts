/** The audit trail: append-only (a trigger refuses updates and deletes). */
import type { PoolClient } from 'pg';
import { pageOf, pageRowsLimit } from '@puhui/postgres';
import type { Page, PageRequest, Queryable } from '@puhui/postgres';

export interface AuditSubject {
  rule_id?: string;
  card_token?: string;
  budget_id?: string;
  import_id?: string;
}

export interface AuditEntry extends AuditSubject {
  action: string;
  actor: string;
  request_id: string | null;
  before: unknown;
  after: unknown;
}

export interface AuditRecord {
  audit_id: string;
  rule_id: string | null;
  card_token: string | null;
  budget_id: string | null;
  import_id: string | null;
  action: string;
  actor: string;
  request_id: string | null;
  before: unknown;
  after: unknown;
  occurred_at: string;
}

const json = (value: unknown) => (value === null || value === undefined ? null : JSON.stringify(value));

export async function appendAudit(client: Queryable, entry: AuditEntry): Promise<void> {
  await client.query(
    `INSERT INTO audit_events (rule_id, card_token, budget_id, import_id, action, actor, request_id, before, after)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
    [
      entry.rule_id ?? null,
      entry.card_token ?? null,
      entry.budget_id ?? null,
      entry.import_id ?? null,
      entry.action,
      entry.actor,
      entry.request_id,
      json(entry.before),
      json(entry.after),
    ],
  );
}

/** One `card_registered` entry per card an import batch registered, built from the stored rows. */
export async function appendImportedCardsAudit(
  client: PoolClient,
  cardTokens: readonly string[],
  entry: { import_id: string; actor: string; request_id: string | null },
): Promise<void> {
  await client.query(
    `INSERT INTO audit_events (card_token, import_id, action, actor, request_id, after)
     SELECT card_token, $2, 'card_registered', $3, $4,
            jsonb_build_object('card_token', card_token, 'card_last4', card_last4, 'member_id', member_id,
              'union_id', union_id, 'tier', tier, 'status', status,
              'created_at', created_at, 'updated_at', updated_at)
     FROM cards WHERE card_token = ANY($1::text[])`,
    [cardTokens, entry.import_id, entry.actor, entry.request_id],
  );
}

export interface AuditFilter extends PageRequest {
  rule_id?: string;
  card_token?: string;
  budget_id?: string;
}

export async function listAudit(client: Queryable, filter: AuditFilter): Promise<Page<AuditRecord>> {
  const { rows } = await client.query<Omit<AuditRecord, 'occurred_at'> & { occurred_at: Date }>(
    `SELECT audit_id::text, rule_id, card_token, budget_id, import_id, action, actor, request_id, before, after,
            occurred_at
     FROM audit_events
     WHERE ($1::text IS NULL OR rule_id = $1) AND ($2::text IS NULL OR card_token = $2)
       AND ($3::text IS NULL OR budget_id = $3) AND ($4::bigint IS NULL OR audit_id > $4)
     ORDER BY audit_id LIMIT $5`,
    [
      filter.rule_id ?? null,
      filter.card_token ?? null,
      filter.budget_id ?? null,
      filter.starting_after ?? null,
      pageRowsLimit(filter),
    ],
  );
  return pageOf(
    rows.map((row) => ({ ...row, occurred_at: row.occurred_at.toISOString() })),
    filter,
  );
}
