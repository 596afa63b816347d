/**
 * Bank branch codes (CNAPS 联行号 / 支付系统行号): 12 digits, commonly read as a 3-digit bank
 * code, a 4-digit city code, a 4-digit branch number and a final check digit. The check digit's
 * algorithm is not in any public standard we could verify, so only the format is checked here:
 * a well-formed but wrong code is caught when the bank rejects the first payment.
 */
import type { Check } from './check';
import { accepted, rejected } from './check';

export const BRANCH_CODE_LENGTH = 12;

export type BranchCodeRejection = 'wrong_length' | 'bad_character';

export const BRANCH_CODE_REJECTION_MESSAGES: Readonly<Record<BranchCodeRejection, string>> = {
  wrong_length: `must have ${BRANCH_CODE_LENGTH} digits`,
  bad_character: 'must contain only digits',
};

export function checkBranchCode(input: string): Check<BranchCodeRejection> {
  const code = input.trim();
  if (code.length !== BRANCH_CODE_LENGTH) return rejected('wrong_length');
  if (!/^\d+$/u.test(code)) return rejected('bad_character');
  return accepted(code);
}
