/**
 * Card numbers (PAN). A PAN arrives, is checked here, becomes a keyed token (token.ts) and
 * its last 4; nothing else of it is kept. No function here puts a PAN into an error message.
 */

/** UnionPay cards start with 62 and have 16 to 19 digits (DESIGN.md §8). */
export const UNIONPAY_PREFIX = '62';
export const UNIONPAY_LENGTH_MIN = 16;
export const UNIONPAY_LENGTH_MAX = 19;

/**
 * Longest input looked at: 19 digits with a separator between every two is 37 characters;
 * 64 leaves room for stray spaces without letting a megabyte through the regular expressions.
 */
export const PAN_INPUT_LENGTH_MAX = 64;

export type PanRejection = 'not_digits' | 'wrong_length' | 'not_unionpay' | 'luhn_failed';

export type PanCheck = { ok: true; pan: string } | { ok: false; reason: PanRejection };

/** What each rejection says to a person, e.g. in a 400's `invalid_params`. */
export const PAN_REJECTION_MESSAGES: Readonly<Record<PanRejection, string>> = {
  not_digits: 'must contain only digits, spaces and dashes',
  wrong_length: `must have ${UNIONPAY_LENGTH_MIN} to ${UNIONPAY_LENGTH_MAX} digits`,
  not_unionpay: `must be a UnionPay card number (starting with ${UNIONPAY_PREFIX})`,
  luhn_failed: 'is not a valid card number (check digit mismatch)',
};

export class CardNumberError extends Error {
  readonly code = 'invalid_card_number';
  constructor(readonly reason: PanRejection) {
    // The message names the reason only, never the number.
    super(`invalid card number: ${reason}`);
  }
}

/**
 * "6200 0000-0000 0003" → "6200000000000003". Spaces and dashes are how people group a
 * card number; any other non-digit makes the input invalid (undefined), including an
 * input too long to be a card number.
 */
export function normalizePan(input: string): string | undefined {
  if (input.length > PAN_INPUT_LENGTH_MAX) return undefined;
  const digits = input.replace(/[ -]/gu, '');
  return /^\d*$/u.test(digits) ? digits : undefined;
}

function luhnSum(digits: string, doubleEvenFromRight: boolean): number {
  let sum = 0;
  for (let index = 0; index < digits.length; index += 1) {
    const positionFromRight = digits.length - 1 - index;
    let digit = Number(digits[index]);
    if ((positionFromRight % 2 === 0) === doubleEvenFromRight) {
      digit *= 2;
      if (digit > 9) digit -= 9;
    }
    sum += digit;
  }
  return sum;
}

/** True when `digits` is a non-empty digit string whose last digit is its Luhn check digit. */
export function luhnValid(digits: string): boolean {
  if (!/^\d+$/u.test(digits)) return false;
  return luhnSum(digits, false) % 10 === 0;
}

/** The digit that, appended to `payload`, makes it Luhn-valid. */
export function luhnCheckDigit(payload: string): string {
  if (!/^\d+$/u.test(payload)) throw new TypeError('a Luhn payload must be a non-empty digit string');
  // With the check digit appended, every payload digit moves one place left, so the digits
  // that get doubled are those at even positions from the right of the payload.
  return String((10 - (luhnSum(payload, true) % 10)) % 10);
}

/** Checks a PAN as typed (spaces and dashes allowed) and returns it normalized. */
export function checkUnionPayPan(input: string): PanCheck {
  const pan = normalizePan(input);
  if (pan === undefined) {
    return { ok: false, reason: input.length > PAN_INPUT_LENGTH_MAX ? 'wrong_length' : 'not_digits' };
  }
  if (pan.length < UNIONPAY_LENGTH_MIN || pan.length > UNIONPAY_LENGTH_MAX) {
    return { ok: false, reason: 'wrong_length' };
  }
  if (!pan.startsWith(UNIONPAY_PREFIX)) return { ok: false, reason: 'not_unionpay' };
  if (!luhnValid(pan)) return { ok: false, reason: 'luhn_failed' };
  return { ok: true, pan };
}

/** The normalized PAN; throws CardNumberError (without the number) unless it is valid. */
export function requireUnionPayPan(input: string): string {
  const result = checkUnionPayPan(input);
  if (!result.ok) throw new CardNumberError(result.reason);
  return result.pan;
}

/** The last 4 digits, the only part of a PAN that is kept and shown (e.g. on receipts). */
export function lastFour(pan: string): string {
  return requireUnionPayPan(pan).slice(-4);
}
