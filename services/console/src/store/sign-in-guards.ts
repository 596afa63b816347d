/** What limits guessing: failures per account (lockout) and attempts per client address. */
import type { Queryable } from '@puhui/postgres';

/** Records a failure and answers how many the account has had within `windowSeconds`. */
export async function recordFailure(
  db: Queryable,
  accountId: string,
  windowSeconds: number,
): Promise<number> {
  const { rows } = await db.query<{ failures: string }>(
    `WITH recorded AS (INSERT INTO sign_in_failures (account_id) VALUES ($1))
     SELECT count(*) + 1 AS failures FROM sign_in_failures
     WHERE account_id = $1 AND failed_at > now() - make_interval(secs => $2)`,
    [accountId, windowSeconds],
  );
  return Number(rows[0]?.failures ?? 1);
}

export async function clearFailures(db: Queryable, accountId: string): Promise<void> {
  await db.query(`DELETE FROM sign_in_failures WHERE account_id = $1`, [accountId]);
}

/** Counts an attempt from `ip` in the current minute; answers the minute's count so far. */
export async function countAttempt(
  db: Queryable,
  ip: string,
): Promise<{ attempts: number; retryAfterSeconds: number }> {
  const { rows } = await db.query<{ attempts: number; retry_after_seconds: string }>(
    `INSERT INTO sign_in_attempts (ip, window_start, attempts) VALUES ($1, date_trunc('minute', now()), 1)
     ON CONFLICT (ip, window_start) DO UPDATE SET attempts = sign_in_attempts.attempts + 1
     RETURNING attempts, ceil(extract(epoch FROM date_trunc('minute', now()) + interval '1 minute' - now())) AS retry_after_seconds`,
    [ip],
  );
  const row = rows[0];
  return {
    attempts: row?.attempts ?? 1,
    retryAfterSeconds: Math.max(1, Number(row?.retry_after_seconds ?? 60)),
  };
}

/** Forgets attempts and failures older than an hour (the windows are a minute and 15 minutes). */
export async function pruneSignInGuards(db: Queryable): Promise<void> {
  await db.query(
    `WITH attempts AS (DELETE FROM sign_in_attempts WHERE window_start < now() - interval '1 hour')
     DELETE FROM sign_in_failures WHERE failed_at < now() - interval '1 hour'`,
  );
}
