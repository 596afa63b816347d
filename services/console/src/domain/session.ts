/** Sessions: opaque secrets, their hashes and their stages (pure, no I/O). */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Account } from './account';
import { needsSecondFactor } from './account';

export const SESSION_STAGES = ['totp_enrolment_required', 'totp_required', 'signed_in'] as const;
export type SessionStage = (typeof SESSION_STAGES)[number];

export const SESSION_COOKIE = 'puhui_session';
/** 32 random bytes (256 bits): guessing one is hopeless, so a fast hash at rest is enough. */
const SECRET_BYTES = 32;
/** A session waiting for its second factor lives at most 10 minutes. */
export const SECOND_FACTOR_PENDING_SECONDS = 600;
/** last_seen_at is written at most this often: the idle timeout is 30 minutes, 15 s is noise. */
export const LAST_SEEN_WRITE_SECONDS = 15;

export function newSecret(): string {
  return randomBytes(SECRET_BYTES).toString('base64url');
}

export function sha256(secret: string): Buffer {
  return createHash('sha256').update(secret, 'utf8').digest();
}

/** Compares two tokens in constant time (a CSRF token against the session's). */
export function sameToken(offered: string, expected: string): boolean {
  const a = Buffer.from(offered, 'utf8');
  const b = Buffer.from(expected, 'utf8');
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Where a correct password leads: the second factor (enrolled, or to enrol) or straight in. */
export function stageAfterPassword(account: Account): SessionStage {
  if (account.totp_secret_sealed !== null) return 'totp_required';
  return needsSecondFactor(account.roles) ? 'totp_enrolment_required' : 'signed_in';
}
