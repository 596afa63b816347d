/**
 * Mainland China mobile numbers: an optional +86 or 86, then 1, a digit 3–9 and 9 more digits.
 * Spaces and dashes people group numbers with are ignored; the value kept is the 11 digits.
 */
import type { Check } from './check';
import { accepted, rejected } from './check';

export const MOBILE_LENGTH = 11;

export type MobileRejection = 'bad_character' | 'wrong_length' | 'not_mainland_mobile';

export const MOBILE_REJECTION_MESSAGES: Readonly<Record<MobileRejection, string>> = {
  bad_character: 'must contain only digits, spaces, dashes and a leading +',
  wrong_length: `must have ${MOBILE_LENGTH} digits after an optional +86`,
  not_mainland_mobile: 'must be a mainland China mobile number (1 and a digit from 3 to 9, optional +86)',
};

/** "+86 138-0013-8000" → "13800138000". */
export function checkMobile(input: string): Check<MobileRejection> {
  let digits = input.trim().replace(/[ -]/gu, '');
  if (!/^\+?\d+$/u.test(digits)) return rejected('bad_character');
  if (digits.startsWith('+')) {
    if (!digits.startsWith('+86')) return rejected('not_mainland_mobile');
    digits = digits.slice(3);
  } else if (digits.length === MOBILE_LENGTH + 2 && digits.startsWith('86')) {
    // 13 digits starting 86: the country code without its +. An 11-digit number starts with 1.
    digits = digits.slice(2);
  }
  if (digits.length !== MOBILE_LENGTH) return rejected('wrong_length');
  if (!/^1[3-9]/u.test(digits)) return rejected('not_mainland_mobile');
  return accepted(digits);
}
