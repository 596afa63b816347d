/**
 * Administrative division codes (行政区划代码, GB/T 2260): 6 digits, province, prefecture,
 * county two by two, e.g. 361100 Shangrao, Jiangxi. Only the province is checked against the
 * list below; prefectures and counties change every year and belong in reference data.
 */
import type { Check } from './check';
import { accepted, rejected } from './check';

export const REGION_CODE_LENGTH = 6;

/**
 * Province-level codes: 11–15 North, 21–23 North-east, 31–37 East, 41–46 South-central,
 * 50–54 South-west, 61–65 North-west, 71 Taiwan, 81 Hong Kong, 82 Macao.
 */
export const PROVINCE_CODES: ReadonlySet<string> = new Set([
  ...['11', '12', '13', '14', '15'],
  ...['21', '22', '23'],
  ...['31', '32', '33', '34', '35', '36', '37'],
  ...['41', '42', '43', '44', '45', '46'],
  ...['50', '51', '52', '53', '54'],
  ...['61', '62', '63', '64', '65'],
  ...['71', '81', '82'],
]);

export type RegionCodeRejection = 'wrong_length' | 'bad_character' | 'unknown_province';

export const REGION_CODE_REJECTION_MESSAGES: Readonly<Record<RegionCodeRejection, string>> = {
  wrong_length: `must have ${REGION_CODE_LENGTH} digits`,
  bad_character: 'must contain only digits',
  unknown_province: 'must start with a province-level code (e.g. 36 for Jiangxi)',
};

export function checkRegionCode(input: string): Check<RegionCodeRejection> {
  const code = input.trim();
  if (code.length !== REGION_CODE_LENGTH) return rejected('wrong_length');
  if (!/^\d+$/u.test(code)) return rejected('bad_character');
  if (!PROVINCE_CODES.has(code.slice(0, 2))) return rejected('unknown_province');
  return accepted(code);
}
