/**
 * Signing in: the password, then (admin and finance always; others once enrolled) a TOTP code.
 * Failures of either count towards the lockout: 5 within 15 minutes lock the account for 15
 * minutes. Every client address may try CONSOLE_SIGN_IN_RATE_LIMIT_PER_MINUTE times a minute.
 */
import { randomUUID } from 'node:crypto';
import { Conflict, RateLimited } from '@puhui/errors';
import { FieldUnsealable, openField, sealField } from '@puhui/security';
import type { Account } from '../domain/account';
import { countSignIn } from '../metrics/sign-ins';
import { InvalidCredentials, InvalidTotp, SignInLocked, WrongStage } from '../domain/errors';
import { hashPassword, needsRehash, passwordMatches } from '../domain/passwords';
import { SECOND_FACTOR_PENDING_SECONDS, newSecret, sha256, stageAfterPassword } from '../domain/session';
import type { SessionStage } from '../domain/session';
import { acceptedStep, newTotpSecret, totpEnrolment } from '../domain/totp';
import type { TotpEnrolment } from '../domain/totp';
import {
  advanceTotpStep,
  confirmTotpSecret,
  findAccountByUsername,
  lockAccount,
  replacePasswordHash,
  setPendingTotpSecret,
} from '../store/accounts';
import { recordAudit } from '../store/audit';
import { clearFailures, countAttempt, recordFailure } from '../store/sign-in-guards';
import { insertSession, rotateSession } from '../store/sessions';
import type { LiveSession, SessionRow } from '../store/sessions';
import type { ConsoleContext, Origin } from './context';
import { personActor } from './context';

export const LOCKOUT = { failuresMax: 5, windowSeconds: 15 * 60, lockSeconds: 15 * 60 } as const;

export interface StartedSession {
  session: SessionRow;
  /** The cookie's value: returned to the browser once, stored only as its SHA-256. */
  secret: string;
  account: Account;
}

function audit(
  context: ConsoleContext,
  origin: Origin,
  action: string,
  account: Account | undefined,
  detail?: unknown,
) {
  return recordAudit(context.pool, {
    actor: account === undefined ? 'anonymous' : personActor(account.id),
    action,
    accountId: account?.id ?? null,
    ip: origin.ip,
    requestId: origin.requestId,
    detail,
  });
}

function refuseWhileLocked(account: Account | undefined): void {
  const lockedForMs = (account?.locked_until?.getTime() ?? 0) - Date.now();
  if (lockedForMs > 0) {
    countSignIn('locked');
    throw new SignInLocked(Math.ceil(lockedForMs / 1000));
  }
}

/** Counts a failure; the one that reaches the limit locks the account (audited). */
async function countFailure(context: ConsoleContext, origin: Origin, account: Account, what: string) {
  const failures = await recordFailure(context.pool, account.id, LOCKOUT.windowSeconds);
  await audit(context, origin, what, account, { failures_in_window: failures });
  if (failures >= LOCKOUT.failuresMax) {
    await lockAccount(context.pool, account.id, new Date(Date.now() + LOCKOUT.lockSeconds * 1000));
    await audit(context, origin, 'sign_in.locked', account, { lock_seconds: LOCKOUT.lockSeconds });
    context.logger.warn({ principal: personActor(account.id) }, 'account locked after failed sign-ins');
  }
}

async function refuseOverRate(context: ConsoleContext, origin: Origin): Promise<void> {
  const { attempts, retryAfterSeconds } = await countAttempt(context.pool, origin.ip ?? 'unknown');
  if (attempts > context.config.CONSOLE_SIGN_IN_RATE_LIMIT_PER_MINUTE) {
    countSignIn('rate_limited');
    throw new RateLimited(retryAfterSeconds);
  }
}

function expiresAt(context: ConsoleContext, stage: SessionStage, createdAt: Date): Date {
  const absolute = createdAt.getTime() + context.config.CONSOLE_SESSION_ABSOLUTE_SECONDS * 1000;
  if (stage === 'signed_in') return new Date(absolute);
  return new Date(Math.min(absolute, Date.now() + SECOND_FACTOR_PENDING_SECONDS * 1000));
}

export async function signInWithPassword(
  context: ConsoleContext,
  origin: Origin,
  credentials: { username: string; password: string },
): Promise<StartedSession> {
  await refuseOverRate(context, origin);
  const account = await findAccountByUsername(context.pool, credentials.username);
  refuseWhileLocked(account);
  // An unknown, invited or disabled account spends the same Argon2 time and gets the same answer.
  const usable = account?.status === 'active' ? account : undefined;
  const matches = await passwordMatches(usable?.password_hash ?? null, credentials.password);
  if (!matches || usable === undefined) {
    if (account === undefined)
      await audit(context, origin, 'sign_in.failed', undefined, { reason: 'unknown_username' });
    else await countFailure(context, origin, account, 'sign_in.failed');
    countSignIn('wrong_password');
    throw new InvalidCredentials();
  }
  await clearFailures(context.pool, usable.id);
  // A hash made with older parameters is replaced while the password is at hand.
  const storedHash = usable.password_hash as string;
  if (needsRehash(storedHash))
    await replacePasswordHash(context.pool, usable.id, storedHash, await hashPassword(credentials.password));
  const stage = stageAfterPassword(usable);
  const secret = newSecret();
  const now = new Date();
  const session = await insertSession(context.pool, {
    id: randomUUID(),
    secretSha256: sha256(secret),
    accountId: usable.id,
    stage,
    csrfToken: newSecret(),
    expiresAt: expiresAt(context, stage, now),
    userAgent: origin.userAgent,
    ip: origin.ip,
  });
  await audit(
    context,
    origin,
    stage === 'signed_in' ? 'sign_in.succeeded' : 'sign_in.password_accepted',
    usable,
    {
      session_id: session.id,
      stage,
    },
  );
  countSignIn(stage === 'signed_in' ? 'ok' : 'password_accepted');
  return { session, secret, account: usable };
}

/** A new TOTP secret to enrol: while enrolment is required, or for someone signed in without one. */
export async function startTotpEnrolment(
  context: ConsoleContext,
  origin: Origin,
  live: LiveSession,
): Promise<TotpEnrolment> {
  const { session, account } = live;
  const optional = session.stage === 'signed_in' && account.totp_secret_sealed === null;
  if (session.stage !== 'totp_enrolment_required' && !optional)
    throw new WrongStage(session.stage, 'A second factor is enrolled already.');
  const secret = newTotpSecret();
  await setPendingTotpSecret(
    context.pool,
    account.id,
    // Bound to the account (AAD): a secret copied onto another person's row does not open.
    sealField(secret, context.config.TOTP_SECRET_ENCRYPTION_KEY, account.id),
  );
  await audit(context, origin, 'totp.enrolment_started', account, { session_id: session.id });
  return totpEnrolment(secret, account.username);
}

/**
 * The person's TOTP secret, sealed for their account (AAD = account id, decision 0016). One that
 * does not open — copied from another person's row, tampered, or sealed before the console's key
 * or format changed (decision 0020) — answers 409 `second_factor_unreadable`, never a 500: another
 * admin resets it (`POST /console/v1/accounts/{id}/reset_totp`) and the person enrols again.
 */
function openedTotpSecret(sealed: string, key: string, accountId: string): string {
  try {
    return openField(sealed, key, accountId);
  } catch (error) {
    if (!(error instanceof FieldUnsealable)) throw error;
    countSignIn('second_factor_unreadable');
    throw new Conflict(
      'second_factor_unreadable',
      'Your second factor cannot be read: ask another admin to reset it, then enrol again.',
      { reason: error.reason },
    );
  }
}

/**
 * A TOTP code: confirms the enrolment under way, or passes the second factor. Either way the
 * session becomes signed_in under a new secret (the one that only knew the password is retired).
 */
export async function verifyTotp(
  context: ConsoleContext,
  origin: Origin,
  live: LiveSession,
  code: string,
): Promise<StartedSession> {
  const { session, account } = live;
  refuseWhileLocked(account);
  const key = context.config.TOTP_SECRET_ENCRYPTION_KEY;
  const enrolling = account.totp_pending_secret_sealed !== null && session.stage !== 'totp_required';
  if (!enrolling && session.stage !== 'totp_required')
    throw new WrongStage(
      session.stage,
      'Start the enrolment first (POST /console/v1/session/totp/enrolment).',
    );
  const sealed = enrolling ? account.totp_pending_secret_sealed : account.totp_secret_sealed;
  const step =
    sealed === null
      ? undefined
      : acceptedStep(openedTotpSecret(sealed, key, account.id), account.username, code);
  const accepted =
    step !== undefined &&
    (enrolling
      ? await confirmTotpSecret(context.pool, account.id, sealed as string, step)
      : await advanceTotpStep(context.pool, account.id, step));
  if (!accepted) {
    await countFailure(
      context,
      origin,
      account,
      step === undefined ? 'sign_in.totp_failed' : 'sign_in.totp_replayed',
    );
    countSignIn('second_factor_failed');
    throw new InvalidTotp();
  }
  await clearFailures(context.pool, account.id);
  if (enrolling) await audit(context, origin, 'totp.enrolled', account, { session_id: session.id });
  const secret = newSecret();
  const rotated = await rotateSession(context.pool, session.id, {
    secretSha256: sha256(secret),
    csrfToken: newSecret(),
    stage: 'signed_in',
    expiresAt: expiresAt(context, 'signed_in', session.created_at),
  });
  if (session.stage !== 'signed_in') {
    await audit(context, origin, 'sign_in.succeeded', account, {
      session_id: session.id,
      second_factor: 'totp',
    });
    countSignIn('ok');
  }
  return { session: rotated, secret, account: { ...account, totp_secret_sealed: sealed } };
}
