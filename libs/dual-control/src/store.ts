/** The approval_requests table (migrations/0001_approval_requests.sql), one SQL operation a function. */
import type { PoolClient, Queryable } from '@puhui/postgres';
import { pageOf, pageRowsLimit } from '@puhui/postgres';
import type { Page, PageRequest } from '@puhui/postgres';

export const APPROVAL_STATUSES = ['pending', 'approved', 'rejected', 'cancelled'] as const;
export type ApprovalStatus = (typeof APPROVAL_STATUSES)[number];

/** A row as stored; `payload` is what the action runs with and is never shown. */
export interface ApprovalRequestRow {
  id: string;
  action: string;
  target_type: string;
  target_id: string;
  summary: string;
  payload: unknown;
  before: unknown;
  after: unknown;
  required_role: string;
  requested_by: string;
  requested_at: Date;
  status: ApprovalStatus;
  decided_by: string | null;
  decided_at: Date | null;
  reason: string | null;
  outcome: unknown;
}

const COLUMNS = `id::text, action, target_type, target_id, summary, payload, before, after, required_role,
  requested_by, requested_at, status, decided_by, decided_at, reason, outcome`;

export type NewApprovalRequest = Pick<
  ApprovalRequestRow,
  | 'id'
  | 'action'
  | 'target_type'
  | 'target_id'
  | 'summary'
  | 'payload'
  | 'before'
  | 'after'
  | 'required_role'
  | 'requested_by'
>;

export async function insertApprovalRequest(
  client: PoolClient,
  request: NewApprovalRequest,
): Promise<ApprovalRequestRow> {
  const { rows } = await client.query<ApprovalRequestRow>(
    `INSERT INTO approval_requests (id, action, target_type, target_id, summary, payload, before, after, required_role,
       requested_by)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
     RETURNING ${COLUMNS}`,
    [
      request.id,
      request.action,
      request.target_type,
      request.target_id,
      request.summary,
      JSON.stringify(request.payload),
      request.before === undefined ? null : JSON.stringify(request.before),
      request.after === undefined ? null : JSON.stringify(request.after),
      request.required_role,
      request.requested_by,
    ],
  );
  return rows[0] as ApprovalRequestRow;
}

export async function findApprovalRequest(
  db: Queryable,
  id: string,
): Promise<ApprovalRequestRow | undefined> {
  const { rows } = await db.query<ApprovalRequestRow>(
    `SELECT ${COLUMNS} FROM approval_requests WHERE id = $1`,
    [id],
  );
  return rows[0];
}

/** The request, locked until the transaction ends: of two checkers deciding at once, the second waits and sees the first's decision. */
export async function lockApprovalRequest(
  client: PoolClient,
  id: string,
): Promise<ApprovalRequestRow | undefined> {
  const { rows } = await client.query<ApprovalRequestRow>(
    `SELECT ${COLUMNS} FROM approval_requests WHERE id = $1 FOR UPDATE`,
    [id],
  );
  return rows[0];
}

/** The pending requests on a target (of one action, if given), locked until the transaction ends, oldest first. */
export async function lockPendingOnTarget(
  client: PoolClient,
  target: { target_type: string; target_id: string; action?: string },
): Promise<ApprovalRequestRow[]> {
  const { rows } = await client.query<ApprovalRequestRow>(
    `SELECT ${COLUMNS} FROM approval_requests
     WHERE status = 'pending' AND target_type = $1 AND target_id = $2 AND ($3::text IS NULL OR action = $3)
     ORDER BY sequence FOR UPDATE`,
    [target.target_type, target.target_id, target.action ?? null],
  );
  return rows;
}

export interface Decision {
  status: Exclude<ApprovalStatus, 'pending'>;
  decided_by: string | null;
  reason: string | null;
  outcome: unknown;
}

/** Decides a pending request (the trigger refuses any other). */
export async function recordDecision(
  client: PoolClient,
  id: string,
  decision: Decision,
): Promise<ApprovalRequestRow> {
  const { rows } = await client.query<ApprovalRequestRow>(
    `UPDATE approval_requests
     SET status = $2, decided_by = $3, decided_at = now(), reason = $4, outcome = $5
     WHERE id = $1 AND status = 'pending'
     RETURNING ${COLUMNS}`,
    [
      id,
      decision.status,
      decision.decided_by,
      decision.reason,
      decision.outcome === undefined ? null : JSON.stringify(decision.outcome),
    ],
  );
  const decided = rows[0];
  if (decided === undefined) throw new Error(`approval request ${id} was not pending`);
  return decided;
}

export interface ApprovalRequestFilter extends PageRequest {
  status?: ApprovalStatus;
  action?: string;
  target_type?: string;
  target_id?: string;
}

/** A page of requests, oldest first (the order they wait in), after `starting_after`'s. */
export async function listApprovalRequests(
  db: Queryable,
  filter: ApprovalRequestFilter,
): Promise<Page<ApprovalRequestRow>> {
  const { rows } = await db.query<ApprovalRequestRow>(
    `SELECT ${COLUMNS} FROM approval_requests
     WHERE ($1::text IS NULL OR status = $1)
       AND ($2::text IS NULL OR action = $2)
       AND ($3::text IS NULL OR target_type = $3)
       AND ($4::text IS NULL OR target_id = $4)
       AND ($5::uuid IS NULL OR sequence > (SELECT sequence FROM approval_requests WHERE id = $5))
     ORDER BY sequence
     LIMIT $6`,
    [
      filter.status ?? null,
      filter.action ?? null,
      filter.target_type ?? null,
      filter.target_id ?? null,
      filter.starting_after ?? null,
      pageRowsLimit(filter),
    ],
  );
  return pageOf(rows, filter);
}
