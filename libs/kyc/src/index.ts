/**
 * @puhui/kyc: checks for a merchant's papers (China): unified social credit codes, resident
 * ID numbers, mobile numbers, bank branch and region codes; masked display forms; keyed
 * hashes for matching people without storing their numbers. Pure functions, no I/O.
 */
export type { Check } from './check';
export {
  CREDIT_CODE_ALPHABET,
  CREDIT_CODE_LENGTH,
  CREDIT_CODE_REJECTION_MESSAGES,
  CREDIT_CODE_WEIGHTS,
  checkCreditCode,
  makeCreditCode,
} from './credit-code';
export type { CreditCodeRejection } from './credit-code';
export {
  BIRTH_DATE_EARLIEST,
  RESIDENT_ID_LENGTH,
  RESIDENT_ID_REJECTION_MESSAGES,
  RESIDENT_ID_WEIGHTS,
  checkResidentId,
  makeResidentId,
} from './resident-id';
export type { ResidentIdRejection } from './resident-id';
export { MOBILE_LENGTH, MOBILE_REJECTION_MESSAGES, checkMobile } from './mobile';
export type { MobileRejection } from './mobile';
export { BRANCH_CODE_LENGTH, BRANCH_CODE_REJECTION_MESSAGES, checkBranchCode } from './bank';
export type { BranchCodeRejection } from './bank';
export {
  PROVINCE_CODES,
  REGION_CODE_LENGTH,
  REGION_CODE_REJECTION_MESSAGES,
  checkRegionCode,
} from './region';
export type { RegionCodeRejection } from './region';
export { maskBankAccount, maskMobile, maskResidentId } from './masking';
export { KEYED_HASH_KEY_BYTES_MIN, keyedHash, normalizeForHash } from './keyed-hash';
export {
  KYC_FIELD_RULES,
  branchCodeSchema,
  creditCodeSchema,
  keptKycField,
  mobileSchema,
  regionCodeSchema,
  residentIdSchema,
} from './schemas';
