import fc from 'fast-check';
import { checkResidentId, makeResidentId } from '@puhui/kyc';

const TODAY = '2025-06-01';

// The two examples GB 11643-1999 itself prints, and numbers made for Shangrao, Jiangxi.
const STANDARD_EXAMPLE_1949 = '11010519491231002X';
const STANDARD_EXAMPLE_1880 = '440524188001010014';

describe('resident identity numbers', () => {
  it.each([STANDARD_EXAMPLE_1949, '361102199001011230', '36110220000229002X', '361102202506010019'])(
    'accepts %s',
    (id) => {
      expect(checkResidentId(id, TODAY)).toEqual({ ok: true, value: id });
    },
  );

  it('accepts a lower-case x and surrounding spaces, and returns an upper-case X', () => {
    expect(checkResidentId(' 11010519491231002x ', TODAY)).toEqual({
      ok: true,
      value: STANDARD_EXAMPLE_1949,
    });
  });

  it('makes the check character, X included', () => {
    expect(makeResidentId('11010519491231002')).toBe(STANDARD_EXAMPLE_1949);
    expect(makeResidentId('36110219900101123')).toBe('361102199001011230');
    expect(() => makeResidentId('3611021990010112')).toThrow(RangeError);
    expect(() => makeResidentId('3611021990010112X')).toThrow(RangeError);
  });

  it.each([
    ['', 'wrong_length'],
    ['11010519491231002', 'wrong_length'],
    ['11010519491231002X1', 'wrong_length'],
    ['1101051949123100X2', 'bad_character'], // X only as the check character
    ['11010519491231002Y', 'bad_character'],
    ['110105 9491231002X', 'bad_character'],
    [STANDARD_EXAMPLE_1880, 'bad_birth_date'], // right check digit, born before 1900
    ['361102190002290015', 'bad_birth_date'], // 1900 was not a leap year
    ['361102199002300018', 'bad_birth_date'], // 30 February
    ['361102199013010018', 'bad_birth_date'], // month 13
    ['361102199001000018', 'bad_birth_date'], // day 0
    ['361102202506020014', 'bad_birth_date'], // the day after today
    ['110105194912310020', 'check_digit_mismatch'],
    ['361102199001011231', 'check_digit_mismatch'],
    ['361102199001011203', 'check_digit_mismatch'], // two digits swapped
  ])('rejects %j as %s', (id, reason) => {
    expect(checkResidentId(id, TODAY)).toEqual({ ok: false, reason });
  });

  it('keeps the check digit valid where the date is the problem', () => {
    expect(makeResidentId(STANDARD_EXAMPLE_1880.slice(0, 17))).toBe(STANDARD_EXAMPLE_1880);
    expect(makeResidentId('36110220250602001')).toBe('361102202506020014');
  });

  it('takes today as a parameter, so the same number is refused yesterday and accepted today', () => {
    expect(checkResidentId('361102202506010019', '2025-05-31')).toEqual({
      ok: false,
      reason: 'bad_birth_date',
    });
    expect(checkResidentId('361102202506010019', '2025-06-01').ok).toBe(true);
  });

  it.each(['2025-6-1', '2025-02-30', '20250601', ''])('refuses a malformed today %j', (today) => {
    expect(() => checkResidentId(STANDARD_EXAMPLE_1949, today)).toThrow(RangeError);
  });
});

const birthDate = fc
  .date({ min: new Date('1900-01-01T00:00:00Z'), max: new Date(`${TODAY}T00:00:00Z`), noInvalidDate: true })
  .map((date) => date.toISOString().slice(0, 10).replace(/-/gu, ''));
const digits = (length: number) =>
  fc
    .array(fc.constantFrom(...'0123456789'), { minLength: length, maxLength: length })
    .map((list) => list.join(''));
const residentIdPayload = fc
  .tuple(digits(6), birthDate, digits(3))
  .map(([region, birth, sequence]) => region + birth + sequence);

describe('resident identity number properties', () => {
  it('validates every number it makes with a birth date from 1900 to today', () => {
    fc.assert(
      fc.property(residentIdPayload, (payload) => {
        const id = makeResidentId(payload);
        expect(checkResidentId(id, TODAY)).toEqual({ ok: true, value: id });
      }),
    );
  });

  it('rejects any number with one character changed', () => {
    fc.assert(
      fc.property(
        residentIdPayload,
        fc.nat({ max: 17 }),
        fc.constantFrom(...'0123456789X', 'Y', ' '),
        (payload, position, replacement) => {
          const id = makeResidentId(payload);
          fc.pre(id[position] !== replacement);
          const altered = id.slice(0, position) + replacement + id.slice(position + 1);
          expect(checkResidentId(altered, TODAY).ok).toBe(false);
        },
      ),
    );
  });
});
