/**
 * Resident identity number (居民身份证号码, GB 11643-1999): 18 characters.
 *
 *   positions 1–6    address code (region of first registration)
 *   positions 7–14   birth date, YYYYMMDD
 *   positions 15–17  sequence (odd for men, even for women)
 *   position 18      check character, ISO 7064 MOD 11-2: 0–9 or X (for 10)
 *
 * Functions are pure: "today" is a parameter, so that a test and a service agree on it.
 */
import type { Check } from './check';
import { accepted, rejected } from './check';
import { compactIsoDate, isCompactDate } from './calendar';

export const RESIDENT_ID_LENGTH = 18;
export const RESIDENT_ID_WEIGHTS: readonly number[] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const CHECK_CHARACTERS = '10X98765432';

/** Nobody born before 1900 holds a current card; earlier dates are typing errors. */
export const BIRTH_DATE_EARLIEST = '19000101';

export type ResidentIdRejection =
  'wrong_length' | 'bad_character' | 'bad_birth_date' | 'check_digit_mismatch';

export const RESIDENT_ID_REJECTION_MESSAGES: Readonly<Record<ResidentIdRejection, string>> = {
  wrong_length: `must have ${RESIDENT_ID_LENGTH} characters`,
  bad_character: 'must be 17 digits followed by a digit or X',
  bad_birth_date: 'must carry a real birth date from 1900 up to today',
  check_digit_mismatch: 'is not a valid resident identity number (check digit mismatch)',
};

function residentIdCheckCharacter(payload: string): string {
  let sum = 0;
  RESIDENT_ID_WEIGHTS.forEach((weight, index) => {
    sum += Number(payload[index]) * weight;
  });
  return CHECK_CHARACTERS[sum % 11] as string;
}

/**
 * Checks an ID number as typed (surrounding spaces, lower-case x allowed) against `today`
 * ("YYYY-MM-DD"); returns it with an upper-case X.
 */
export function checkResidentId(input: string, today: string): Check<ResidentIdRejection> {
  const todayCompact = compactIsoDate(today);
  const id = input.trim().toUpperCase();
  if (id.length !== RESIDENT_ID_LENGTH) return rejected('wrong_length');
  if (!/^\d{17}[\dX]$/u.test(id)) return rejected('bad_character');
  const birthDate = id.slice(6, 14);
  // Same-length digit strings compare as the dates they spell.
  if (!isCompactDate(birthDate) || birthDate < BIRTH_DATE_EARLIEST || birthDate > todayCompact) {
    return rejected('bad_birth_date');
  }
  if (residentIdCheckCharacter(id.slice(0, 17)) !== id.slice(17)) return rejected('check_digit_mismatch');
  return accepted(id);
}

/** Appends the check character to 17 digits: for tests and demo data. */
export function makeResidentId(first17: string): string {
  if (!/^\d{17}$/u.test(first17)) throw new RangeError('a resident ID payload is 17 digits');
  return first17 + residentIdCheckCharacter(first17);
}
