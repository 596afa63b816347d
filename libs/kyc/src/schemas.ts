/**
 * zod schemas for HTTP bodies. Each turns the check's reason into a readable field error
 * (with the machine reason in `params.reason`) and outputs the normalized value. zod does
 * not copy the input into issues unless asked to, so ID numbers never reach an error body.
 */
import { z } from 'zod';
import type { Check } from './check';
import { BRANCH_CODE_REJECTION_MESSAGES, checkBranchCode } from './bank';
import { CREDIT_CODE_REJECTION_MESSAGES, checkCreditCode } from './credit-code';
import { MOBILE_REJECTION_MESSAGES, checkMobile } from './mobile';
import { REGION_CODE_REJECTION_MESSAGES, checkRegionCode } from './region';
import { RESIDENT_ID_REJECTION_MESSAGES, checkResidentId } from './resident-id';

function checkedString<Reason extends string>(
  check: (input: string) => Check<Reason>,
  messages: Readonly<Record<Reason, string>>,
) {
  return z.string().transform((input, context) => {
    const result = check(input);
    if (result.ok) return result.value;
    context.addIssue({ code: 'custom', message: messages[result.reason], params: { reason: result.reason } });
    return z.NEVER;
  });
}

export const creditCodeSchema = checkedString(checkCreditCode, CREDIT_CODE_REJECTION_MESSAGES);

/** A schema per `today` ("YYYY-MM-DD"), so that birth dates in the future are refused. */
export function residentIdSchema(today: string) {
  return checkedString((input) => checkResidentId(input, today), RESIDENT_ID_REJECTION_MESSAGES);
}

export const mobileSchema = checkedString(checkMobile, MOBILE_REJECTION_MESSAGES);
export const branchCodeSchema = checkedString(checkBranchCode, BRANCH_CODE_REJECTION_MESSAGES);
export const regionCodeSchema = checkedString(checkRegionCode, REGION_CODE_REJECTION_MESSAGES);
