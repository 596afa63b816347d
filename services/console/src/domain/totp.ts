/**
 * TOTP (RFC 6238) as every authenticator app reads it: SHA-1, 6 digits, 30-second steps; a code
 * of the step before or after is accepted (clock drift), and the step of the last accepted code
 * is kept so that no code is accepted twice.
 */
import { Secret, TOTP } from 'otpauth';
import QRCode from 'qrcode';

const ISSUER = 'Puhui';
const PERIOD_SECONDS = 30;
/** Steps either side of now that are accepted: ±30 s of clock difference. */
const WINDOW_STEPS = 1;

function totpOf(secretBase32: string, username: string): TOTP {
  return new TOTP({
    issuer: ISSUER,
    label: username,
    algorithm: 'SHA1',
    digits: 6,
    period: PERIOD_SECONDS,
    secret: Secret.fromBase32(secretBase32),
  });
}

/** A new secret (160 bits, as RFC 4226 recommends), base32. */
export function newTotpSecret(): string {
  return new Secret({ size: 20 }).base32;
}

export interface TotpEnrolment {
  secret: string;
  otpauth_uri: string;
  qr_svg: string;
}

export async function totpEnrolment(secretBase32: string, username: string): Promise<TotpEnrolment> {
  const uri = totpOf(secretBase32, username).toString();
  const svg = await QRCode.toString(uri, { type: 'svg', errorCorrectionLevel: 'M', margin: 2 });
  return { secret: secretBase32, otpauth_uri: uri, qr_svg: svg };
}

/** The step a valid `code` belongs to, or undefined when it is not valid now (±1 step). */
export function acceptedStep(
  secretBase32: string,
  username: string,
  code: string,
  now: number = Date.now(),
): number | undefined {
  if (!/^\d{6}$/u.test(code)) return undefined;
  const delta = totpOf(secretBase32, username).validate({
    token: code,
    timestamp: now,
    window: WINDOW_STEPS,
  });
  if (delta === null) return undefined;
  return Math.floor(now / 1000 / PERIOD_SECONDS) + delta;
}

/** The code of `secretBase32` at `timestamp` (tests and the demo). */
export function totpCode(secretBase32: string, timestamp: number = Date.now()): string {
  return totpOf(secretBase32, 'code').generate({ timestamp });
}
