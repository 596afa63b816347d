/** The sessions table: one statement per function. Only the SHA-256 of a session's secret is stored. */
import type { Queryable } from '@puhui/postgres';
import type { Account } from '../domain/account';
import type { SessionStage } from '../domain/session';
import { accountFromRow } from './accounts';

export interface SessionRow {
  id: string;
  account_id: string;
  stage: SessionStage;
  csrf_token: string;
  created_at: Date;
  last_seen_at: Date;
  expires_at: Date;
  user_agent: string | null;
  ip: string | null;
}

const COLUMNS = 'id, account_id, stage, csrf_token, created_at, last_seen_at, expires_at, user_agent, ip';

export async function insertSession(
  db: Queryable,
  session: {
    id: string;
    secretSha256: Buffer;
    accountId: string;
    stage: SessionStage;
    csrfToken: string;
    expiresAt: Date;
    userAgent: string | null;
    ip: string | null;
  },
): Promise<SessionRow> {
  const { rows } = await db.query<SessionRow>(
    `INSERT INTO sessions (id, secret_sha256, account_id, stage, csrf_token, expires_at, user_agent, ip)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING ${COLUMNS}`,
    [
      session.id,
      session.secretSha256,
      session.accountId,
      session.stage,
      session.csrfToken,
      session.expiresAt,
      session.userAgent,
      session.ip,
    ],
  );
  return rows[0] as SessionRow;
}

export interface LiveSession {
  session: SessionRow;
  account: Account;
}

/**
 * The session of this secret if it has not ended, is within its absolute lifetime and was seen
 * within `idleSeconds`, and its account is active; the database's clock decides.
 */
export async function findLiveSession(
  db: Queryable,
  secretSha256: Buffer,
  idleSeconds: number,
): Promise<LiveSession | undefined> {
  const { rows } = await db.query<Record<string, unknown>>(
    `SELECT s.id, s.account_id, s.stage, s.csrf_token, s.created_at, s.last_seen_at, s.expires_at, s.user_agent, s.ip,
            a.id AS a_id, a.username, a.display_name, a.roles, a.merchant_id, a.status, a.password_hash,
            a.totp_secret_sealed, a.totp_pending_secret_sealed, a.totp_last_step, a.locked_until, a.created_at AS a_created_at
     FROM sessions s JOIN accounts a ON a.id = s.account_id
     WHERE s.secret_sha256 = $1 AND s.ended_at IS NULL AND s.expires_at > now()
       AND s.last_seen_at > now() - make_interval(secs => $2) AND a.status = 'active'`,
    [secretSha256, idleSeconds],
  );
  const row = rows[0];
  if (row === undefined) return undefined;
  const session = Object.fromEntries(
    COLUMNS.split(', ').map((column) => [column, row[column]]),
  ) as unknown as SessionRow;
  const account = accountFromRow({
    id: row.a_id,
    username: row.username,
    display_name: row.display_name,
    roles: row.roles,
    merchant_id: row.merchant_id,
    status: row.status,
    password_hash: row.password_hash,
    totp_secret_sealed: row.totp_secret_sealed,
    totp_pending_secret_sealed: row.totp_pending_secret_sealed,
    totp_last_step: row.totp_last_step,
    locked_until: row.locked_until,
    created_at: row.a_created_at,
  } as Parameters<typeof accountFromRow>[0]);
  return { session, account };
}

/** Moves last_seen_at on; at most every `everySeconds`, so that a page's many calls write once. */
export async function touchSession(
  db: Queryable,
  id: string,
  everySeconds: number,
): Promise<Date | undefined> {
  const { rows } = await db.query<{ last_seen_at: Date }>(
    `UPDATE sessions SET last_seen_at = now() WHERE id = $1 AND last_seen_at < now() - make_interval(secs => $2)
     RETURNING last_seen_at`,
    [id, everySeconds],
  );
  return rows[0]?.last_seen_at;
}

/** Moves the session to `stage` under a new secret and CSRF token (no fixation across stages). */
export async function rotateSession(
  db: Queryable,
  id: string,
  change: { secretSha256: Buffer; csrfToken: string; stage: SessionStage; expiresAt: Date },
): Promise<SessionRow> {
  const { rows } = await db.query<SessionRow>(
    `UPDATE sessions SET secret_sha256 = $2, csrf_token = $3, stage = $4, expires_at = $5, last_seen_at = now()
     WHERE id = $1 RETURNING ${COLUMNS}`,
    [id, change.secretSha256, change.csrfToken, change.stage, change.expiresAt],
  );
  return rows[0] as SessionRow;
}

export async function endSession(
  db: Queryable,
  id: string,
  accountId: string,
  reason: string,
): Promise<boolean> {
  const { rowCount } = await db.query(
    `UPDATE sessions SET ended_at = now(), end_reason = $3 WHERE id = $1 AND account_id = $2 AND ended_at IS NULL`,
    [id, accountId, reason],
  );
  return rowCount === 1;
}

/** Ends every session of the account (sign-out everywhere, a disable); answers how many. */
export async function endAccountSessions(db: Queryable, accountId: string, reason: string): Promise<number> {
  const { rowCount } = await db.query(
    `UPDATE sessions SET ended_at = now(), end_reason = $2 WHERE account_id = $1 AND ended_at IS NULL`,
    [accountId, reason],
  );
  return rowCount ?? 0;
}

/** The account's sessions that have not ended nor expired, newest first (at most 100). */
export async function listLiveSessions(
  db: Queryable,
  accountId: string,
  idleSeconds: number,
): Promise<SessionRow[]> {
  const { rows } = await db.query<SessionRow>(
    `SELECT ${COLUMNS} FROM sessions WHERE account_id = $1 AND ended_at IS NULL AND expires_at > now()
       AND last_seen_at > now() - make_interval(secs => $2)
     ORDER BY created_at DESC LIMIT 100`,
    [accountId, idleSeconds],
  );
  return rows;
}

/** Sessions ended or expired more than 30 days ago (the audit trail keeps their story); at most `limit` a pass. */
export async function pruneOldSessions(db: Queryable, limit: number): Promise<number> {
  const { rowCount } = await db.query(
    `DELETE FROM sessions WHERE id IN (
       SELECT id FROM sessions WHERE least(coalesce(ended_at, 'infinity'), expires_at) < now() - interval '30 days' LIMIT $1)`,
    [limit],
  );
  return rowCount ?? 0;
}
