/**
 * Unified social credit code (统一社会信用代码, GB 32100-2015): 18 characters.
 *
 *   position 1      registration authority (9 = market regulation, 5 = civil affairs, ...)
 *   position 2      entity type (1 = company, 2 = individual business, ...)
 *   positions 3–8   administrative division code (6 digits)
 *   positions 9–17  organisation code
 *   position 18     check character
 *
 * The alphabet is the 31 characters 0-9 and A-Y without I, O, Z, S and V (letters people
 * confuse with digits). The check is modulo 31 with weights 3^(i−1) mod 31: because 31 is
 * prime and no weight is 0 mod 31, every single-character substitution changes the sum and
 * is caught. The organisation code's own GB 11714 check (position 17) is not verified here:
 * codes issued to individual businesses do not always carry one.
 */
import type { Check } from './check';
import { accepted, rejected } from './check';

export const CREDIT_CODE_ALPHABET = '0123456789ABCDEFGHJKLMNPQRTUWXY';
export const CREDIT_CODE_LENGTH = 18;
export const CREDIT_CODE_WEIGHTS: readonly number[] = [
  1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28,
];

export type CreditCodeRejection = 'wrong_length' | 'bad_character' | 'check_character_mismatch';

export const CREDIT_CODE_REJECTION_MESSAGES: Readonly<Record<CreditCodeRejection, string>> = {
  wrong_length: `must have ${CREDIT_CODE_LENGTH} characters`,
  bad_character:
    'must use only digits and the letters A–Y except I, O, S, V and Z, with digits in positions 3 to 8',
  check_character_mismatch: 'is not a valid unified social credit code (check character mismatch)',
};

// Each of the 17 payload characters from the alphabet, with positions 3–8 digits only.
const PAYLOAD_PATTERN = /^[0-9A-HJ-NP-RT-UW-Y]{2}\d{6}[0-9A-HJ-NP-RT-UW-Y]{9}$/u;
const CHECK_PATTERN = /^[0-9A-HJ-NP-RT-UW-Y]$/u;

function creditCodeCheckCharacter(payload: string): string {
  let sum = 0;
  CREDIT_CODE_WEIGHTS.forEach((weight, index) => {
    sum += CREDIT_CODE_ALPHABET.indexOf(payload[index] as string) * weight;
  });
  return CREDIT_CODE_ALPHABET[(31 - (sum % 31)) % 31] as string;
}

/** Checks a credit code as typed (surrounding spaces, lower case allowed); returns it upper-cased. */
export function checkCreditCode(input: string): Check<CreditCodeRejection> {
  const code = input.trim().toUpperCase();
  if (code.length !== CREDIT_CODE_LENGTH) return rejected('wrong_length');
  const payload = code.slice(0, -1);
  const check = code.slice(-1);
  if (!PAYLOAD_PATTERN.test(payload) || !CHECK_PATTERN.test(check)) return rejected('bad_character');
  if (creditCodeCheckCharacter(payload) !== check) return rejected('check_character_mismatch');
  return accepted(code);
}

/** Appends the check character to 17 characters: for tests and demo data. */
export function makeCreditCode(first17: string): string {
  const payload = first17.toUpperCase();
  if (!PAYLOAD_PATTERN.test(payload)) {
    throw new RangeError('a credit code payload is 17 alphabet characters with digits in positions 3 to 8');
  }
  return payload + creditCodeCheckCharacter(payload);
}
