/** The accounts table: one statement per function. */
import { Conflict } from '@puhui/errors';
import { pageOf, pageRowsLimit, sqlState } from '@puhui/postgres';
import type { Page, PageRequest, Queryable } from '@puhui/postgres';
import type { Account, AccountStatus, OperatorRole } from '../domain/account';

const COLUMNS = `id, username, display_name, roles, merchant_id, status, password_hash, totp_secret_sealed,
  totp_pending_secret_sealed, totp_last_step, locked_until, created_at`;

interface AccountRow extends Omit<Account, 'totp_last_step'> {
  totp_last_step: string | null;
}

export function accountFromRow(row: AccountRow): Account {
  return { ...row, totp_last_step: row.totp_last_step === null ? null : Number(row.totp_last_step) };
}

export interface NewAccount {
  id: string;
  username: string;
  display_name: string;
  roles: readonly OperatorRole[];
  merchant_id: string | null;
  status: AccountStatus;
  password_hash: string | null;
}

export async function insertAccount(db: Queryable, account: NewAccount): Promise<Account> {
  try {
    const { rows } = await db.query<AccountRow>(
      `INSERT INTO accounts (id, username, display_name, roles, merchant_id, status, password_hash)
       VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING ${COLUMNS}`,
      [
        account.id,
        account.username,
        account.display_name,
        account.roles,
        account.merchant_id,
        account.status,
        account.password_hash,
      ],
    );
    return accountFromRow(rows[0] as AccountRow);
  } catch (error) {
    if (sqlState(error) === '23505')
      throw new Conflict('username_taken', `The username ${account.username} is taken.`);
    throw error;
  }
}

export async function findAccount(
  db: Queryable,
  id: string,
  forUpdate = false,
): Promise<Account | undefined> {
  const { rows } = await db.query<AccountRow>(
    `SELECT ${COLUMNS} FROM accounts WHERE id = $1${forUpdate ? ' FOR UPDATE' : ''}`,
    [id],
  );
  return rows[0] === undefined ? undefined : accountFromRow(rows[0]);
}

/** The accounts of these ids (at most a page's worth); unknown ids are left out. */
export async function findAccountsByIds(db: Queryable, ids: readonly string[]): Promise<Account[]> {
  const { rows } = await db.query<AccountRow>(`SELECT ${COLUMNS} FROM accounts WHERE id = ANY ($1::uuid[])`, [
    ids,
  ]);
  return rows.map(accountFromRow);
}

/** Usernames are unique whatever their case: `Admin` and `admin` are one person. */
export async function findAccountByUsername(db: Queryable, username: string): Promise<Account | undefined> {
  const { rows } = await db.query<AccountRow>(
    `SELECT ${COLUMNS} FROM accounts WHERE lower(username) = lower($1)`,
    [username],
  );
  return rows[0] === undefined ? undefined : accountFromRow(rows[0]);
}

export async function listAccounts(db: Queryable, page: PageRequest): Promise<Page<Account>> {
  const { rows } = await db.query<AccountRow>(
    `SELECT ${COLUMNS} FROM accounts WHERE ($1::uuid IS NULL OR (created_at, id) > (SELECT created_at, id FROM accounts WHERE id = $1))
     ORDER BY created_at, id LIMIT $2`,
    [page.starting_after ?? null, pageRowsLimit(page)],
  );
  return pageOf(rows.map(accountFromRow), page);
}

export async function updateProfile(
  db: Queryable,
  id: string,
  change: { roles: readonly OperatorRole[]; display_name: string },
): Promise<Account> {
  const { rows } = await db.query<AccountRow>(
    `UPDATE accounts SET roles = $2, display_name = $3, updated_at = now() WHERE id = $1 RETURNING ${COLUMNS}`,
    [id, change.roles, change.display_name],
  );
  return accountFromRow(rows[0] as AccountRow);
}

export async function activateWithPassword(db: Queryable, id: string, passwordHash: string): Promise<void> {
  await db.query(
    `UPDATE accounts SET password_hash = $2, status = 'active', updated_at = now() WHERE id = $1 AND status = 'invited'`,
    [id, passwordHash],
  );
}

/** Replaces the hash of an unchanged password (new Argon2 parameters), if it is still `previous`. */
export async function replacePasswordHash(
  db: Queryable,
  id: string,
  previous: string,
  next: string,
): Promise<void> {
  await db.query(`UPDATE accounts SET password_hash = $3 WHERE id = $1 AND password_hash = $2`, [
    id,
    previous,
    next,
  ]);
}

export async function disableAccount(
  db: Queryable,
  id: string,
  reason: string,
  by: string,
): Promise<Account> {
  const { rows } = await db.query<AccountRow>(
    `UPDATE accounts SET status = 'disabled', disabled_reason = $2, disabled_by = $3, disabled_at = now(), updated_at = now()
     WHERE id = $1 RETURNING ${COLUMNS}`,
    [id, reason, by],
  );
  return accountFromRow(rows[0] as AccountRow);
}

export async function setPendingTotpSecret(db: Queryable, id: string, sealed: string): Promise<void> {
  await db.query(`UPDATE accounts SET totp_pending_secret_sealed = $2, updated_at = now() WHERE id = $1`, [
    id,
    sealed,
  ]);
}

/** Confirms the pending secret with the code of `step`; false when it changed meanwhile. */
export async function confirmTotpSecret(
  db: Queryable,
  id: string,
  sealed: string,
  step: number,
): Promise<boolean> {
  const { rowCount } = await db.query(
    `UPDATE accounts SET totp_secret_sealed = totp_pending_secret_sealed, totp_pending_secret_sealed = NULL,
       totp_last_step = $3, updated_at = now()
     WHERE id = $1 AND totp_pending_secret_sealed = $2`,
    [id, sealed, step],
  );
  return rowCount === 1;
}

/**
 * Records `step` as the last accepted code's, only if it is later than the one before: false
 * means the code (or an earlier one) was already used, which is how a replay is refused.
 */
export async function advanceTotpStep(db: Queryable, id: string, step: number): Promise<boolean> {
  const { rowCount } = await db.query(
    `UPDATE accounts SET totp_last_step = $2 WHERE id = $1 AND (totp_last_step IS NULL OR totp_last_step < $2)`,
    [id, step],
  );
  return rowCount === 1;
}

/** Forgets the account's second factor: it enrols again at its next sign-in. */
export async function clearTotp(db: Queryable, id: string): Promise<Account> {
  const { rows } = await db.query<AccountRow>(
    `UPDATE accounts SET totp_secret_sealed = NULL, totp_pending_secret_sealed = NULL, totp_last_step = NULL,
       updated_at = now() WHERE id = $1 RETURNING ${COLUMNS}`,
    [id],
  );
  return accountFromRow(rows[0] as AccountRow);
}

export async function lockAccount(db: Queryable, id: string, until: Date): Promise<void> {
  await db.query(`UPDATE accounts SET locked_until = $2 WHERE id = $1`, [id, until]);
}

export async function countActiveAdmins(db: Queryable): Promise<number> {
  const { rows } = await db.query<{ count: string }>(
    `SELECT count(*) AS count FROM accounts WHERE status = 'active' AND 'admin' = ANY (roles)`,
  );
  return Number(rows[0]?.count ?? 0);
}
