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
import { PROVINCE_CODES, REGION_CODE_REJECTION_MESSAGES, checkRegionCode } from './region';
import { RESIDENT_ID_REJECTION_MESSAGES, checkResidentId } from './resident-id';

/**
 * What each check accepts, for the documents (a generated client shows these) and the stored,
 * normalized form's pattern, which the answers carry.
 */
export const KYC_FIELD_RULES = {
  credit_code: {
    description:
      'Unified social credit code (统一社会信用代码, GB 32100): 18 characters, digits and the letters A–Y except I, O, S, V and Z, positions 3–8 digits, the last a check character; case and surrounding spaces are ignored, kept uppercase.',
    pattern: /^[0-9A-HJ-NP-RT-UW-Y]{2}\d{6}[0-9A-HJ-NP-RT-UW-Y]{10}$/u,
  },
  resident_id: {
    description:
      'Resident identity number (居民身份证号码, GB 11643): 17 digits and a check digit or X, carrying a real birth date from 1900 up to today; never kept, shown masked.',
  },
  mobile: {
    description:
      'Mainland China mobile number: 11 digits starting 1 and 3–9, optionally after +86, spaces and dashes allowed; kept as the 11 digits.',
    pattern: /^1[3-9]\d{9}$/u,
  },
  branch_code: {
    description: 'The bank branch’s 12-digit CNAPS code (联行号).',
    pattern: /^\d{12}$/u,
  },
  region_code: {
    description:
      'Administrative division code (GB/T 2260): 6 digits starting with a province-level code, e.g. 361102 (Shangrao, Jiangxi).',
    pattern: new RegExp(`^(${[...PROVINCE_CODES].join('|')})\\d{4}$`, 'u'),
  },
} as const;

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

export const creditCodeSchema = checkedString(checkCreditCode, CREDIT_CODE_REJECTION_MESSAGES).meta({
  description: KYC_FIELD_RULES.credit_code.description,
});

/** A schema per `today` ("YYYY-MM-DD"), so that birth dates in the future are refused. */
export function residentIdSchema(today: string) {
  return checkedString((input) => checkResidentId(input, today), RESIDENT_ID_REJECTION_MESSAGES).meta({
    description: KYC_FIELD_RULES.resident_id.description,
  });
}

export const mobileSchema = checkedString(checkMobile, MOBILE_REJECTION_MESSAGES).meta({
  description: KYC_FIELD_RULES.mobile.description,
});
export const branchCodeSchema = checkedString(checkBranchCode, BRANCH_CODE_REJECTION_MESSAGES).meta({
  description: KYC_FIELD_RULES.branch_code.description,
});
export const regionCodeSchema = checkedString(checkRegionCode, REGION_CODE_REJECTION_MESSAGES).meta({
  description: KYC_FIELD_RULES.region_code.description,
});

/** A field as the answers show it: its stored, normalized form, with its pattern and rule. */
export function keptKycField(field: 'credit_code' | 'mobile' | 'branch_code' | 'region_code') {
  const rule = KYC_FIELD_RULES[field];
  return z.string().regex(rule.pattern).meta({ description: rule.description });
}
