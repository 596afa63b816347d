/**
 * Money in integer fen (minor units of CNY). No floats touch an amount: products that can
 * exceed 2^53 (10^12 fen × 10^4 bps) are computed in BigInt and brought back checked.
 */
import assert from 'node:assert/strict';

/** Largest amount a single checkout line or transfer may carry: 10^12 fen (¥10 billion). */
export const AMOUNT_MINOR_MAX = 1_000_000_000_000;
export const BPS_WHOLE = 10_000;

export class MoneyError extends Error {
  readonly code = 'invalid_money';
}

/** True for a safe integer number of fen (may be negative, e.g. a balance). */
export function isFen(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value);
}

export function assertFen(value: unknown, what = 'amount'): asserts value is number {
  if (!isFen(value)) throw new MoneyError(`${what} must be an integer number of fen, got ${String(value)}`);
}

export function assertBps(value: unknown, what = 'bps'): asserts value is number {
  if (!Number.isInteger(value) || (value as number) < 0 || (value as number) > BPS_WHOLE) {
    throw new MoneyError(`${what} must be an integer from 0 to ${BPS_WHOLE}, got ${String(value)}`);
  }
}

function toSafeNumber(value: bigint, what: string): number {
  if (value > BigInt(Number.MAX_SAFE_INTEGER) || value < BigInt(Number.MIN_SAFE_INTEGER)) {
    throw new MoneyError(`${what} overflows the safe integer range`);
  }
  return Number(value);
}

/** Sum of fen amounts; throws rather than lose precision. */
export function sumFen(amounts: Iterable<number>): number {
  let total = 0n;
  for (const amount of amounts) {
    assertFen(amount);
    total += BigInt(amount);
  }
  return toSafeNumber(total, 'sum');
}

/**
 * numerator / denominator rounded half up (half away from zero for negatives), exactly.
 * round_half_up(7 / 2) = 4, round_half_up(-7 / 2) = -4.
 */
export function divideRoundHalfUp(numerator: bigint, denominator: bigint): bigint {
  assert.ok(denominator > 0n, 'denominator must be positive');
  const negative = numerator < 0n;
  const magnitude = negative ? -numerator : numerator;
  const quotient = (magnitude * 2n + denominator) / (denominator * 2n);
  return negative ? -quotient : quotient;
}

/** round_half_up(amount × bps / 10000), the rule for percent_off and funding splits. */
export function applyBps(amountMinor: number, bps: number): number {
  assertFen(amountMinor, 'amount_minor');
  assertBps(bps);
  return toSafeNumber(divideRoundHalfUp(BigInt(amountMinor) * BigInt(bps), BigInt(BPS_WHOLE)), 'product');
}

/** Fen as a plain decimal yuan string for files people open: 123456 → "1234.56", -5 → "-0.05". */
export function yuanDecimal(amountMinor: number): string {
  assert.ok(Number.isSafeInteger(amountMinor), 'amount_minor must be a whole number of fen');
  const magnitude = Math.abs(amountMinor);
  const sign = amountMinor < 0 ? '-' : '';
  return `${sign}${Math.floor(magnitude / 100)}.${String(magnitude % 100).padStart(2, '0')}`;
}

/** round_half_up(amount × part / whole): proportional shares, e.g. of a refund. */
export function prorate(amountMinor: number, part: number, whole: number): number {
  assertFen(amountMinor, 'amount_minor');
  assertFen(part, 'part');
  assertFen(whole, 'whole');
  assert.ok(whole > 0, 'whole must be positive');
  return toSafeNumber(divideRoundHalfUp(BigInt(amountMinor) * BigInt(part), BigInt(whole)), 'prorated');
}

/**
 * Splits `total` over `weights` in proportion, by largest remainder: each share is the
 * floor of its exact quota, and the fen left over go one each to the largest remainders
 * (ties to the earlier index). Shares sum to `total` exactly and share_i ≤ ceil(quota_i).
 */
export function allocateByLargestRemainder(total: number, weights: readonly number[]): number[] {
  assertFen(total, 'total');
  assert.ok(total >= 0, 'total must not be negative');
  weights.forEach((weight) => {
    assertFen(weight, 'weight');
    assert.ok(weight >= 0, 'weights must not be negative');
  });
  const weightSum = weights.reduce((sum, weight) => sum + BigInt(weight), 0n);
  if (weightSum === 0n) {
    assert.ok(total === 0, 'cannot allocate a positive total over zero weights');
    return weights.map(() => 0);
  }
  const exact = weights.map((weight) => BigInt(total) * BigInt(weight));
  const shares = exact.map((product) => product / weightSum);
  let leftover = BigInt(total) - shares.reduce((sum, share) => sum + share, 0n);
  const order = exact
    .map((product, index) => ({ index, remainder: product % weightSum }))
    .sort((a, b) => (a.remainder === b.remainder ? a.index - b.index : a.remainder > b.remainder ? -1 : 1));
  for (const { index } of order) {
    if (leftover === 0n) break;
    shares[index] = (shares[index] as bigint) + 1n;
    leftover -= 1n;
  }
  return shares.map((share) => Number(share));
}

const ZHE_PATTERN = /^\s*(\d{1,2}(?:\.\d{1,3})?)\s*折\s*$/u;
const FREE_WORDS = new Set(['免费', 'free', 'waived']);

/**
 * "7.8折" (the member pays 78%) → 2200 bps off. "免费" → 10000.
 * N折 means the member pays N/10 of the price, so bps off = 10000 − N × 1000.
 */
export function zheToBpsOff(text: string): number {
  if (FREE_WORDS.has(text.trim())) return BPS_WHOLE;
  const match = ZHE_PATTERN.exec(text);
  if (!match?.[1]) throw new MoneyError(`not a 折 rate: "${text}"`);
  const [whole, fraction = ''] = match[1].split('.');
  const payBps = Number(whole) * 1000 + Number(fraction.padEnd(3, '0'));
  if (payBps > BPS_WHOLE) throw new MoneyError(`a 折 rate is at most 10折, got "${text}"`);
  return BPS_WHOLE - payBps;
}

function trimDecimal(thousandths: number, scale: number): string {
  const whole = Math.trunc(thousandths / scale);
  const fraction = String(thousandths % scale)
    .padStart(String(scale).length - 1, '0')
    .replace(/0+$/u, '');
  return fraction === '' ? String(whole) : `${whole}.${fraction}`;
}

/** 2200 bps off → "7.8折"; 10000 → "免费"; 0 → "10折" (no discount). */
export function bpsOffToZhe(bpsOff: number): string {
  assertBps(bpsOff, 'discount_bps');
  if (bpsOff === BPS_WHOLE) return '免费';
  return `${trimDecimal(BPS_WHOLE - bpsOff, 1000)}折`;
}

/** 2200 → "22% off"; 1150 → "11.5% off". */
export function bpsOffToPercent(bpsOff: number): string {
  assertBps(bpsOff, 'discount_bps');
  return `${trimDecimal(bpsOff, 100)}% off`;
}

/** Both forms for people: "7.8折 · 22% off". */
export function describeRate(bpsOff: number): string {
  return `${bpsOffToZhe(bpsOff)} · ${bpsOffToPercent(bpsOff)}`;
}

/** 3555 → "¥35.55"; −120 → "−¥1.20". For display only; APIs carry integer fen. */
export function formatYuan(amountMinor: number): string {
  assertFen(amountMinor);
  const sign = amountMinor < 0 ? '−' : '';
  const magnitude = Math.abs(amountMinor);
  const yuan = Math.trunc(magnitude / 100).toLocaleString('en-US');
  return `${sign}¥${yuan}.${String(magnitude % 100).padStart(2, '0')}`;
}
