import fc from 'fast-check';
import {
  CARD_TOKEN_PATTERN,
  CardNumberError,
  cardNumberSchema,
  cardTokenSchema,
  checkUnionPayPan,
  generateTestPan,
  isCardToken,
  lastFour,
  luhnCheckDigit,
  luhnValid,
  normalizePan,
  testPanSerialMax,
  tokenizePan,
} from '@puhui/cards';

const KEY = 'k'.repeat(32);

function thrownBy(work: () => unknown): Error {
  try {
    work();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a throw');
}
const OTHER_KEY = Buffer.alloc(32, 7);

// Card numbers published for testing: Stripe's UnionPay 16- and 19-digit numbers, Visa, Discover.
const UNIONPAY_16 = '6200000000000005';
const UNIONPAY_19 = '6205500000000000004';
const VISA = '4111111111111111';
const DISCOVER = '6011111111111117';

describe('Luhn', () => {
  it('checks 6222021234567890 by hand: it fails, and its check digit is 4', () => {
    // Digits from the right, doubling every second one: 0 9 8 7 6 5 4 3 2 1 2 0 2 2 2 6.
    // Doubled (9 7 5 3 1 0 2 6 → 18 14 10 6 2 0 4 12 → digit sums 9 5 1 6 2 0 4 3) = 30;
    // the others (0 8 6 4 2 2 2 2) = 26; 56 is not a multiple of 10. 56 − 0 + 4 = 60.
    expect(luhnValid('6222021234567890')).toBe(false);
    expect(luhnCheckDigit('622202123456789')).toBe('4');
    expect(luhnValid('6222021234567894')).toBe(true);
  });

  it.each([
    UNIONPAY_16,
    UNIONPAY_19,
    VISA,
    DISCOVER,
    '620000000000000',
    '62000000000000000005',
    '0',
    '18',
    '79927398713',
  ])('%s is valid', (digits) => {
    expect(luhnValid(digits)).toBe(true);
  });

  it.each(['', '1', '6200000000000006', '79927398710', '6200 0000 0000 0005', 'abc'])(
    '"%s" is not valid',
    (digits) => {
      expect(luhnValid(digits)).toBe(false);
    },
  );

  it('refuses to compute a check digit for a non-digit payload', () => {
    expect(() => luhnCheckDigit('')).toThrow(TypeError);
    expect(() => luhnCheckDigit('62a')).toThrow(TypeError);
  });
});

describe('normalizing', () => {
  it('strips the spaces and dashes people group card numbers with', () => {
    expect(normalizePan('6200 0000 0000 0005')).toBe(UNIONPAY_16);
    expect(normalizePan('6200-0000-0000-0005')).toBe(UNIONPAY_16);
    expect(normalizePan(' 6200 0000-0000 0005 ')).toBe(UNIONPAY_16);
  });

  it.each([
    '6200.0000.0000.0005',
    '6200000000000005\n',
    '６２00000000000005',
    '62000000000O0005',
    '+6200000000000005',
  ])('treats any other character as invalid: %j', (input) => {
    expect(normalizePan(input)).toBeUndefined();
  });

  it('refuses input far longer than any card number', () => {
    expect(normalizePan(`${' '.repeat(60)}${UNIONPAY_16}`)).toBeUndefined();
  });
});

describe('checking a UnionPay card number', () => {
  it.each([
    [UNIONPAY_16, UNIONPAY_16],
    [UNIONPAY_19, UNIONPAY_19],
    ['6200 0000 0000 0005', UNIONPAY_16],
    ['6205-5000-0000-0000-004', UNIONPAY_19],
    ['6222021234567894', '6222021234567894'],
  ])('accepts %s', (input, pan) => {
    expect(checkUnionPayPan(input)).toEqual({ ok: true, pan });
  });

  it.each([
    ['6200 0000 0000 000a', 'not_digits'],
    ['6200/0000/0000/0005', 'not_digits'],
    ['', 'wrong_length'],
    ['620000000000000', 'wrong_length'], // 15 digits, Luhn-valid
    ['62000000000000000005', 'wrong_length'], // 20 digits, Luhn-valid
    [`${' '.repeat(65)}${UNIONPAY_16}`, 'wrong_length'],
    [VISA, 'not_unionpay'],
    [DISCOVER, 'not_unionpay'],
    ['6222021234567890', 'luhn_failed'],
    ['6200000000000006', 'luhn_failed'],
  ])('rejects %j as %s', (input, reason) => {
    expect(checkUnionPayPan(input)).toEqual({ ok: false, reason });
  });

  it('keeps only the last 4', () => {
    expect(lastFour('6200 0000 0000 0005')).toBe('0005');
    expect(lastFour(UNIONPAY_19)).toBe('0004');
    expect(() => lastFour(VISA)).toThrow(CardNumberError);
  });
});

describe('keyed tokens', () => {
  it('matches HMAC-SHA256 computed independently (openssl dgst -sha256 -hmac, base64url)', () => {
    expect(tokenizePan(UNIONPAY_16, KEY)).toBe('ctok_Ix-obqn82B0nKbr-T46Q9BDvSXjo2_0E');
  });

  it('is the same for the same card and key, however the number was typed', () => {
    const token = tokenizePan(UNIONPAY_16, KEY);
    expect(tokenizePan('6200 0000-0000 0005', KEY)).toBe(token);
    expect(tokenizePan(UNIONPAY_16, Buffer.from(KEY, 'utf8'))).toBe(token);
    expect(token).toMatch(CARD_TOKEN_PATTERN);
    expect(isCardToken(token)).toBe(true);
  });

  it('differs across keys and across cards', () => {
    expect(tokenizePan(UNIONPAY_16, KEY)).not.toBe(tokenizePan(UNIONPAY_16, OTHER_KEY));
    expect(tokenizePan(UNIONPAY_16, KEY)).not.toBe(tokenizePan(generateTestPan(1), KEY));
  });

  it('carries neither the number nor its last 4', () => {
    for (const pan of [UNIONPAY_16, UNIONPAY_19, generateTestPan(262_999)]) {
      const token = tokenizePan(pan, KEY);
      expect(token).not.toContain(pan);
      expect(token).not.toContain(pan.slice(-4));
    }
  });

  it('refuses an invalid card number without echoing it', () => {
    const error = thrownBy(() => tokenizePan('6222021234567890', KEY));
    expect(error).toBeInstanceOf(CardNumberError);
    expect(error).toMatchObject({ code: 'invalid_card_number', reason: 'luhn_failed' });
    expect(error.message).not.toContain('6222021234567890');
  });

  it('refuses a key shorter than 32 bytes', () => {
    expect(() => tokenizePan(UNIONPAY_16, 'short-key')).toThrow(/at least 32 bytes/);
    expect(() => tokenizePan(UNIONPAY_16, Buffer.alloc(31))).toThrow(/at least 32 bytes/);
  });

  it('never carries a run of 6 of the card digits, for any generated card', () => {
    fc.assert(
      fc.property(fc.nat({ max: testPanSerialMax() }), (serial) => {
        const pan = generateTestPan(serial);
        const token = tokenizePan(pan, KEY);
        expect(token).toMatch(CARD_TOKEN_PATTERN);
        for (let start = 0; start + 6 <= pan.length; start += 1) {
          expect(token).not.toContain(pan.slice(start, start + 6));
        }
      }),
    );
  });
});

describe('test card numbers', () => {
  it('are fixed per serial', () => {
    expect(generateTestPan(0)).toBe(UNIONPAY_16);
    expect(generateTestPan(1)).toBe('6200000000000013');
    expect(generateTestPan(262_999)).toBe('6200000002629991');
    expect(generateTestPan(42, { prefix: '6212', length: 19 })).toBe('6212000000000000427');
  });

  it('give 263,000 distinct valid cards for the programme', () => {
    const pans = new Set<string>();
    for (let serial = 0; serial < 263_000; serial += 1) pans.add(generateTestPan(serial));
    expect(pans.size).toBe(263_000);
    expect([...pans].every((pan) => checkUnionPayPan(pan).ok)).toBe(true);
  });

  it('refuse serials, prefixes and lengths that cannot make a UnionPay number', () => {
    expect(() => generateTestPan(-1)).toThrow(RangeError);
    expect(() => generateTestPan(1.5)).toThrow(RangeError);
    expect(() => generateTestPan(10 ** 13)).toThrow(RangeError);
    expect(() => generateTestPan(0, { prefix: '4' })).toThrow(RangeError);
    expect(() => generateTestPan(0, { length: 15 })).toThrow(RangeError);
    expect(() => generateTestPan(0, { length: 20 })).toThrow(RangeError);
    expect(() => generateTestPan(0, { prefix: '621234567890123' })).toThrow(RangeError);
  });

  it('always pass the UnionPay check, at every length', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 16, max: 19 }),
        fc.constantFrom('62', '6212', '622202'),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (length, prefix, fraction) => {
          const serial = Math.floor(fraction * testPanSerialMax({ prefix, length }));
          const pan = generateTestPan(serial, { prefix, length });
          expect(pan).toHaveLength(length);
          expect(checkUnionPayPan(pan)).toEqual({ ok: true, pan });
        },
      ),
    );
  });

  it('fail Luhn after any single-digit change', () => {
    fc.assert(
      fc.property(
        fc.nat({ max: testPanSerialMax({ length: 19 }) }),
        fc.integer({ min: 16, max: 19 }),
        fc.nat(),
        fc.integer({ min: 1, max: 9 }),
        (serialSeed, length, positionSeed, shift) => {
          const pan = generateTestPan(serialSeed % (testPanSerialMax({ length }) + 1), { length });
          const position = positionSeed % pan.length;
          const changed = String((Number(pan[position]) + shift) % 10);
          const altered = pan.slice(0, position) + changed + pan.slice(position + 1);
          expect(luhnValid(altered)).toBe(false);
          expect(checkUnionPayPan(altered).ok).toBe(false);
        },
      ),
    );
  });
});

describe('schemas', () => {
  it('turn a typed card number into the normalized PAN', () => {
    expect(cardNumberSchema.parse('6200 0000 0000 0005')).toBe(UNIONPAY_16);
  });

  it.each([
    ['6200 0000 0000 000a', 'not_digits', 'must contain only digits, spaces and dashes'],
    ['620000000000000', 'wrong_length', 'must have 16 to 19 digits'],
    [VISA, 'not_unionpay', 'must be a UnionPay card number (starting with 62)'],
    ['6222021234567890', 'luhn_failed', 'is not a valid card number (check digit mismatch)'],
  ])('name the field error for %s: %s', (input, reason, message) => {
    const result = cardNumberSchema.safeParse(input);
    expect(result.success).toBe(false);
    expect(result.error?.issues).toEqual([
      expect.objectContaining({ code: 'custom', message, params: { reason } }),
    ]);
    expect(JSON.stringify(result.error?.issues)).not.toContain(input);
  });

  it('reject a non-string card number', () => {
    expect(cardNumberSchema.safeParse(6200000000000005).success).toBe(false);
  });

  it('accept only well-formed card tokens', () => {
    expect(cardTokenSchema.parse(tokenizePan(UNIONPAY_16, KEY))).toMatch(/^ctok_/);
    for (const bad of [
      'ctok_short',
      `ctok_${'a'.repeat(33)}`,
      `ctik_${'a'.repeat(32)}`,
      `ctok_${'+'.repeat(32)}`,
    ]) {
      expect(cardTokenSchema.safeParse(bad).success).toBe(false);
    }
  });
});
