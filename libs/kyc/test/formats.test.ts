import fc from 'fast-check';
import { PROVINCE_CODES, checkBranchCode, checkMobile, checkRegionCode } from '@puhui/kyc';

describe('mobile numbers', () => {
  it.each([
    ['13800138000', '13800138000'],
    ['19912345678', '19912345678'],
    ['+8613800138000', '13800138000'],
    ['8613800138000', '13800138000'],
    ['+86 138 0013 8000', '13800138000'],
    ['138-0013-8000', '13800138000'],
    [' 15912345678 ', '15912345678'],
  ])('accepts %j as %s', (input, mobile) => {
    expect(checkMobile(input)).toEqual({ ok: true, value: mobile });
  });

  it.each([
    ['1380013800O', 'bad_character'],
    ['(+86)13800138000', 'bad_character'],
    ['138+00138000', 'bad_character'],
    ['', 'bad_character'],
    ['1380013800', 'wrong_length'],
    ['138001380001', 'wrong_length'],
    ['+86138001380001', 'wrong_length'],
    ['008613800138000', 'wrong_length'],
    ['12800138000', 'not_mainland_mobile'], // 12x is not a mobile range
    ['10086000000', 'not_mainland_mobile'],
    ['86138001380', 'not_mainland_mobile'], // 11 digits: 86 is not taken for a country code
    ['+852 9123 4567', 'not_mainland_mobile'],
    ['+1 415 555 0100', 'not_mainland_mobile'],
  ])('rejects %j as %s', (input, reason) => {
    expect(checkMobile(input)).toEqual({ ok: false, reason });
  });

  it('normalizes every mainland number, with or without the country code, to the same 11 digits', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 3, max: 9 }),
        fc.integer({ min: 0, max: 999_999_999 }),
        fc.constantFrom('', '86', '+86', '+86 '),
        (second, rest, prefix) => {
          const mobile = `1${second}${String(rest).padStart(9, '0')}`;
          expect(checkMobile(prefix + mobile)).toEqual({ ok: true, value: mobile });
        },
      ),
    );
  });
});

describe('bank branch codes', () => {
  it('accepts 12 digits (ICBC head-office clearing centre, 102100099996)', () => {
    expect(checkBranchCode('102100099996')).toEqual({ ok: true, value: '102100099996' });
    expect(checkBranchCode(' 102100099996 ')).toEqual({ ok: true, value: '102100099996' });
  });

  it.each([
    ['', 'wrong_length'],
    ['10210009999', 'wrong_length'],
    ['1021000999960', 'wrong_length'],
    ['10210009999A', 'bad_character'],
    ['1021-0009999', 'bad_character'],
  ])('rejects %j as %s', (input, reason) => {
    expect(checkBranchCode(input)).toEqual({ ok: false, reason });
  });
});

describe('region codes', () => {
  it.each(['361100', '110105', '540000', '650100', '710000', '810000', '820000'])('accepts %s', (code) => {
    expect(checkRegionCode(code)).toEqual({ ok: true, value: code });
  });

  it('knows Shangrao, Jiangxi', () => {
    expect(checkRegionCode('361100')).toEqual({ ok: true, value: '361100' });
  });

  it.each([
    ['36110', 'wrong_length'],
    ['3611000', 'wrong_length'],
    ['36110A', 'bad_character'],
    ['36-110', 'bad_character'],
    ['000000', 'unknown_province'],
    ['161100', 'unknown_province'],
    ['381100', 'unknown_province'],
    ['471100', 'unknown_province'],
    ['551100', 'unknown_province'],
    ['661100', 'unknown_province'],
    ['721100', 'unknown_province'],
    ['831100', 'unknown_province'],
    ['991100', 'unknown_province'],
  ])('rejects %j as %s', (input, reason) => {
    expect(checkRegionCode(input)).toEqual({ ok: false, reason });
  });

  it('has the 34 province-level codes', () => {
    expect(PROVINCE_CODES.size).toBe(34);
  });

  it('accepts a code exactly when its first two digits are a province', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 999_999 }), (number) => {
        const code = String(number).padStart(6, '0');
        expect(checkRegionCode(code).ok).toBe(PROVINCE_CODES.has(code.slice(0, 2)));
      }),
    );
  });
});
