import fc from 'fast-check';
import { CREDIT_CODE_ALPHABET, checkCreditCode, makeCreditCode } from '@puhui/kyc';

// Codes as printed on business licences. The first is the example cited in most write-ups
// of GB 32100-2015; the others are Huawei Technologies (Shenzhen) and Shenzhen Tencent
// Computer Systems. Each one's check character agrees with the modulo-31 rule.
const PUBLISHED_CODES = ['91350100M000100Y43', '914403001922038216', '9144030071526726XG'];

const payloadCharacter = fc.constantFrom(...CREDIT_CODE_ALPHABET);
const digit = fc.constantFrom(...'0123456789');
const creditCodePayload = fc
  .tuple(
    fc.array(payloadCharacter, { minLength: 2, maxLength: 2 }),
    fc.array(digit, { minLength: 6, maxLength: 6 }),
    fc.array(payloadCharacter, { minLength: 9, maxLength: 9 }),
  )
  .map((parts) => parts.flat().join(''));

describe('unified social credit codes', () => {
  it.each(PUBLISHED_CODES)('accepts the published code %s', (code) => {
    expect(checkCreditCode(code)).toEqual({ ok: true, value: code });
  });

  it('accepts lower case and surrounding spaces, and returns the code upper-cased', () => {
    expect(checkCreditCode(' 9144030071526726xg ')).toEqual({ ok: true, value: '9144030071526726XG' });
  });

  it('makes a code for Shangrao, Jiangxi (361100) that checks out', () => {
    expect(makeCreditCode('91361100MA35G0K1X')).toBe('91361100MA35G0K1X7');
    expect(checkCreditCode('91361100MA35G0K1X7').ok).toBe(true);
    expect(makeCreditCode('91350100M000100Y4')).toBe('91350100M000100Y43'); // sum 1640, 1640 mod 31 = 28
    // Weighted sum 1612 = 52 × 31: 31 − 0 = 31, which wraps to check character 0.
    expect(makeCreditCode('91361100MA35G0K16')).toBe('91361100MA35G0K160');
  });

  it.each([
    ['', 'wrong_length'],
    ['91350100M000100Y4', 'wrong_length'],
    ['91350100M000100Y433', 'wrong_length'],
    ['91350100M000100I43', 'bad_character'], // I is not in the alphabet
    ['91350100M0O0100Y43', 'bad_character'], // nor O
    ['91350100M000100Y4Z', 'bad_character'], // nor Z, even as the check character
    ['91A50100M000100Y43', 'bad_character'], // positions 3–8 are digits
    ['91350100M000100Y4-', 'bad_character'],
    ['91350100M000100Y44', 'check_character_mismatch'],
    ['91350100M000100Y34', 'check_character_mismatch'], // two characters swapped
    ['914403001922038217', 'check_character_mismatch'],
  ])('rejects %j as %s', (code, reason) => {
    expect(checkCreditCode(code)).toEqual({ ok: false, reason });
  });

  it('refuses to make a code from a malformed payload', () => {
    expect(() => makeCreditCode('91350100M000100Y')).toThrow(RangeError);
    expect(() => makeCreditCode('9135010OM000100Y4')).toThrow(RangeError);
  });

  it('validates every code it makes', () => {
    fc.assert(
      fc.property(creditCodePayload, (payload) => {
        const code = makeCreditCode(payload);
        expect(code.startsWith(payload)).toBe(true);
        expect(checkCreditCode(code)).toEqual({ ok: true, value: code });
      }),
    );
  });

  it('rejects any code with one character changed', () => {
    fc.assert(
      fc.property(
        creditCodePayload,
        fc.nat({ max: 17 }),
        fc.constantFrom(...CREDIT_CODE_ALPHABET, 'I', 'O', 'S', 'V', 'Z', '-', '*'),
        (payload, position, replacement) => {
          const code = makeCreditCode(payload);
          fc.pre(code[position] !== replacement);
          const altered = code.slice(0, position) + replacement + code.slice(position + 1);
          expect(checkCreditCode(altered).ok).toBe(false);
        },
      ),
    );
  });
});
