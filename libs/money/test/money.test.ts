import fc from 'fast-check';
import {
  AMOUNT_MINOR_MAX,
  allocateByLargestRemainder,
  applyBps,
  bpsOffToPercent,
  bpsOffToZhe,
  describeRate,
  divideRoundHalfUp,
  formatYuan,
  prorate,
  sumFen,
  yuanDecimal,
  zheToBpsOff,
} from '@puhui/money';

describe('round half up', () => {
  it.each([
    [5n, 2n, 3n],
    [4n, 2n, 2n],
    [7n, 4n, 2n],
    [6n, 4n, 2n],
    [5n, 4n, 1n],
    [-5n, 2n, -3n],
    [0n, 7n, 0n],
  ])('%s / %s = %s', (numerator, denominator, expected) => {
    expect(divideRoundHalfUp(numerator, denominator)).toBe(expected);
  });

  it('applies basis points to the fen, as the seed offers promise', () => {
    expect(applyBps(3555, 500)).toBe(178); // ¥35.55 at 9.5折: 177.75 → ¥1.78 off
    expect(applyBps(18000, 2000)).toBe(3600); // ¥180 examination at 8折
    expect(applyBps(1200, 10000)).toBe(1200); // registration fee waived
    expect(applyBps(1, 5000)).toBe(1); // half a fen rounds up
    expect(applyBps(1, 4999)).toBe(0);
  });

  it('stays exact beyond 2^53 intermediate products', () => {
    expect(applyBps(AMOUNT_MINOR_MAX, 9999)).toBe(999_900_000_000);
    expect(applyBps(999_999_999_999, 3333)).toBe(333_300_000_000);
  });

  it('prorates refunds with the same rounding', () => {
    expect(prorate(178, 1000, 3555)).toBe(50); // 50.07
    expect(prorate(3600, 9000, 18000)).toBe(1800);
  });

  it('refuses fractional fen', () => {
    expect(() => applyBps(10.5, 100)).toThrow(/integer number of fen/);
    expect(() => applyBps(100, 10001)).toThrow(/0 to 10000/);
    expect(() => sumFen([Number.MAX_SAFE_INTEGER, 1])).toThrow(/overflows/);
  });
});

describe('largest remainder allocation', () => {
  it('spreads a cut over lines', () => {
    expect(allocateByLargestRemainder(100, [1, 1, 1])).toEqual([34, 33, 33]);
    expect(allocateByLargestRemainder(10, [5, 3, 2])).toEqual([5, 3, 2]);
    expect(allocateByLargestRemainder(7, [0, 0, 1])).toEqual([0, 0, 7]);
    expect(allocateByLargestRemainder(0, [0, 0])).toEqual([0, 0]);
  });

  it('always sums to the total and stays within one fen of the exact quota', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 10_000_000 }),
        fc.array(fc.integer({ min: 0, max: 1_000_000 }), { minLength: 1, maxLength: 20 }),
        (total, weights) => {
          fc.pre(weights.some((weight) => weight > 0));
          const shares = allocateByLargestRemainder(total, weights);
          const weightSum = weights.reduce((sum, weight) => sum + weight, 0);
          expect(shares.reduce((sum, share) => sum + share, 0)).toBe(total);
          shares.forEach((share, index) => {
            const quota = (total * (weights[index] as number)) / weightSum;
            expect(share).toBeGreaterThanOrEqual(Math.floor(quota));
            expect(share).toBeLessThanOrEqual(Math.ceil(quota));
          });
        },
      ),
    );
  });
});

describe('折 notation', () => {
  it.each([
    ['5折', 5000],
    ['9.5折', 500],
    ['8.5折', 1500],
    ['8折', 2000],
    ['7.8折', 2200],
    ['8.85折', 1150],
    ['10折', 0],
    ['免费', 10000],
  ])('%s is %i bps off', (text, bps) => {
    expect(zheToBpsOff(text)).toBe(bps);
  });

  it.each([
    [2200, '7.8折', '22% off'],
    [500, '9.5折', '5% off'],
    [1150, '8.85折', '11.5% off'],
    [10000, '免费', '100% off'],
  ])('%i bps off reads %s and %s', (bps, zhe, percent) => {
    expect(bpsOffToZhe(bps)).toBe(zhe);
    expect(bpsOffToPercent(bps)).toBe(percent);
  });

  it('shows both forms to people', () => {
    expect(describeRate(2200)).toBe('7.8折 · 22% off');
  });

  it('round-trips every whole basis point that a 折 can express', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1000 }), (tens) => {
        const bps = tens * 10;
        expect(zheToBpsOff(bpsOffToZhe(bps))).toBe(bps);
      }),
    );
  });

  it.each(['7.8', '11折', 'abc折', '7.8888折', ''])('rejects "%s"', (text) => {
    expect(() => zheToBpsOff(text)).toThrow();
  });
});

describe('display', () => {
  it('formats yuan', () => {
    expect(formatYuan(3555)).toBe('¥35.55');
    expect(formatYuan(-120)).toBe('−¥1.20');
    expect(formatYuan(123456789)).toBe('¥1,234,567.89');
  });
});

describe('yuan for files people open', () => {
  it.each([
    [0, '0.00'],
    [5, '0.05'],
    [123456, '1234.56'],
    [-505, '-5.05'],
    [-5, '-0.05'],
    [1_000_000_000_000, '10000000000.00'],
  ])('%d fen → %s', (fen, yuan) => {
    expect(yuanDecimal(fen)).toBe(yuan);
  });
});
