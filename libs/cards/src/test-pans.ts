/**
 * Deterministic, Luhn-valid UnionPay numbers for demo data and tests. Serial n gives
 * prefix + n zero-padded + check digit, so serials 0..262,999 are 263,000 distinct cards
 * (the programme's card count) and the same serial always gives the same number.
 */
import { UNIONPAY_LENGTH_MAX, UNIONPAY_LENGTH_MIN, UNIONPAY_PREFIX, luhnCheckDigit } from './pan';

export interface TestPanOptions {
  /** Digits the number starts with; must start with 62 so that it is UnionPay. */
  prefix?: string;
  /** Total digits, 16 to 19. */
  length?: number;
}

/** Largest serial that fits between `prefix` and the check digit of a `length`-digit number. */
export function testPanSerialMax({
  prefix = UNIONPAY_PREFIX,
  length = UNIONPAY_LENGTH_MIN,
}: TestPanOptions = {}): number {
  const serialDigits = length - prefix.length - 1;
  return serialDigits <= 0 ? 0 : Math.min(10 ** serialDigits - 1, Number.MAX_SAFE_INTEGER);
}

export function generateTestPan(
  serial: number,
  { prefix = UNIONPAY_PREFIX, length = UNIONPAY_LENGTH_MIN }: TestPanOptions = {},
): string {
  if (!/^\d+$/u.test(prefix) || !prefix.startsWith(UNIONPAY_PREFIX)) {
    throw new RangeError(`a test PAN prefix must be digits starting with ${UNIONPAY_PREFIX}`);
  }
  if (!Number.isInteger(length) || length < UNIONPAY_LENGTH_MIN || length > UNIONPAY_LENGTH_MAX) {
    throw new RangeError(
      `a test PAN has ${UNIONPAY_LENGTH_MIN} to ${UNIONPAY_LENGTH_MAX} digits, got ${length}`,
    );
  }
  const serialDigits = length - prefix.length - 1;
  if (serialDigits < 1)
    throw new RangeError(`prefix ${prefix} leaves no room for a serial in ${length} digits`);
  const serialMax = testPanSerialMax({ prefix, length });
  if (!Number.isSafeInteger(serial) || serial < 0 || serial > serialMax) {
    throw new RangeError(`serial must be an integer from 0 to ${serialMax}, got ${serial}`);
  }
  const payload = prefix + String(serial).padStart(serialDigits, '0');
  return payload + luhnCheckDigit(payload);
}
