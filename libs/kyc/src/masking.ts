/**
 * Masked forms for screens and statements. Each shows a fixed number of characters and
 * masks the rest; input that is not the expected shape is masked entirely, so a typo never
 * reveals more than a well-formed value would.
 */
import { checkMobile } from './mobile';
import { RESIDENT_ID_LENGTH } from './resident-id';

/** "361102199001011234" → "361***********1234": region of the first 3 and the last 4 stay. */
export function maskResidentId(id: string): string {
  const normalized = id.trim().toUpperCase();
  if (normalized.length !== RESIDENT_ID_LENGTH) return '*'.repeat(RESIDENT_ID_LENGTH);
  return `${normalized.slice(0, 3)}${'*'.repeat(RESIDENT_ID_LENGTH - 7)}${normalized.slice(-4)}`;
}

/**
 * Fewer characters than this and the last 4 would give away too much of the number; real
 * settlement accounts have 12 to 30.
 */
const BANK_ACCOUNT_LENGTH_MIN_TO_SHOW = 8;

/**
 * "6222 0212 3456 7894" → "**** **** 7894". The masked form always has three groups, so it
 * does not reveal the account number's length either.
 */
export function maskBankAccount(accountNumber: string): string {
  const compact = accountNumber.replace(/[\s-]/gu, '');
  if (compact.length < BANK_ACCOUNT_LENGTH_MIN_TO_SHOW) return '**** **** ****';
  return `**** **** ${compact.slice(-4)}`;
}

/** "+86 138 0013 8000" → "138****8000". */
export function maskMobile(mobile: string): string {
  const result = checkMobile(mobile);
  if (!result.ok) return '*'.repeat(11);
  return `${result.value.slice(0, 3)}****${result.value.slice(-4)}`;
}
