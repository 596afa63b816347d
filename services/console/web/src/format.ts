/**
 * The console's one place for showing money, discounts and times (STYLE.md: money in one function,
 * 折 in one function, times in one). Plain functions without DOM or React, so the console's jest
 * tests them directly.
 */

const FEN_PER_YUAN = 100;
const BASIS_POINTS_WHOLE = 10_000;
/** 1 折 is a tenth of the price: 10,000 basis points of price are 10 折. */
const BASIS_POINTS_PER_ZHE = 1_000;
const BASIS_POINTS_PER_PERCENT = 100;

function groupThousands(digits: string): string {
  return digits.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/**
 * Integer fen as yuan with exact fen: 123456 → "¥1,234.56", -5 → "-¥0.05". Integer arithmetic only, so
 * no amount is ever rounded by floating point.
 */
export function formatYuan(fen: number): string {
  if (!Number.isSafeInteger(fen)) throw new RangeError(`an amount in fen must be a safe integer, not ${fen}`);
  const sign = fen < 0 ? '-' : '';
  const magnitude = Math.abs(fen);
  const yuan = Math.floor(magnitude / FEN_PER_YUAN);
  const remainder = magnitude % FEN_PER_YUAN;
  return `${sign}¥${groupThousands(String(yuan))}.${String(remainder).padStart(2, '0')}`;
}

/** `whole` and a fraction of `scale` as a decimal without trailing zeros: (7, 800, 1000) → "7.8". */
function decimal(whole: number, fraction: number, scale: number): string {
  if (fraction === 0) return String(whole);
  const digits = String(scale).length - 1;
  return `${whole}.${String(fraction).padStart(digits, '0').replace(/0+$/, '')}`;
}

/**
 * A discount given in basis points off the price, in 折 notation and as a percentage:
 * 2200 → "7.8折 · 22% off" (the customer pays 78%), 2250 → "7.75折 · 22.5% off".
 */
export function formatZhe(basisPointsOff: number): string {
  if (!Number.isSafeInteger(basisPointsOff) || basisPointsOff < 0 || basisPointsOff > BASIS_POINTS_WHOLE) {
    throw new RangeError(`a discount must be 0–10000 basis points, not ${basisPointsOff}`);
  }
  const paid = BASIS_POINTS_WHOLE - basisPointsOff;
  const zhe = decimal(
    Math.floor(paid / BASIS_POINTS_PER_ZHE),
    paid % BASIS_POINTS_PER_ZHE,
    BASIS_POINTS_PER_ZHE,
  );
  const percent = decimal(
    Math.floor(basisPointsOff / BASIS_POINTS_PER_PERCENT),
    basisPointsOff % BASIS_POINTS_PER_PERCENT,
    BASIS_POINTS_PER_PERCENT,
  );
  return `${zhe}折 · ${percent}% off`;
}

export const CONSOLE_TIME_ZONE = 'Asia/Shanghai';

const shanghaiParts = new Intl.DateTimeFormat('en-GB', {
  timeZone: CONSOLE_TIME_ZONE,
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
  hourCycle: 'h23',
});

/**
 * An instant as wall-clock time in Asia/Shanghai, "2026-12-01 16:09:36", whatever the browser's own
 * time zone: the programme runs on Beijing time. Null or an unreadable value shows as "—".
 */
export function formatShanghaiTime(instant: string | number | Date | null | undefined): string {
  if (instant === null || instant === undefined || instant === '') return '—';
  const date = instant instanceof Date ? instant : new Date(instant);
  if (Number.isNaN(date.getTime())) return '—';
  const part: Record<string, string> = {};
  for (const { type, value } of shanghaiParts.formatToParts(date)) part[type] = value;
  return `${part.year}-${part.month}-${part.day} ${part.hour}:${part.minute}:${part.second}`;
}

/** Whole minutes to wait for a number of seconds (a Retry-After), at least 1: 61 → 2. */
export function minutesToWait(seconds: number): number {
  return Math.max(1, Math.ceil(seconds / 60));
}

const BROWSERS: ReadonlyArray<[RegExp, string]> = [
  [/Edg(?:e|A|iOS)?\/(\d+)/u, 'Edge'],
  [/OPR\/(\d+)/u, 'Opera'],
  [/Firefox\/(\d+)/u, 'Firefox'],
  [/HeadlessChrome\/(\d+)/u, 'Chrome (headless)'],
  [/(?:Chrome|CriOS)\/(\d+)/u, 'Chrome'],
  [/Version\/(\d+)[\d.]* (?:Mobile\/\S+ )?Safari\//u, 'Safari'],
];

const SYSTEMS: ReadonlyArray<[RegExp, string]> = [
  [/Windows/u, 'Windows'],
  [/iPhone|iPad|iPod/u, 'iOS'],
  [/Mac OS X|Macintosh/u, 'macOS'],
  [/Android/u, 'Android'],
  [/CrOS/u, 'ChromeOS'],
  [/Linux|X11/u, 'Linux'],
];

/**
 * A User-Agent as a person reads it: "Chrome 131 · Linux". Unknown browsers keep the agent's first
 * words; no agent shows as "—".
 */
export function describeUserAgent(userAgent: string | null | undefined): string {
  if (userAgent === null || userAgent === undefined || userAgent.trim() === '') return '—';
  const browser = BROWSERS.find(([pattern]) => pattern.test(userAgent));
  const system = SYSTEMS.find(([pattern]) => pattern.test(userAgent))?.[1];
  if (browser === undefined) return userAgent.length > 40 ? `${userAgent.slice(0, 40)}…` : userAgent;
  const version = browser[0].exec(userAgent)?.[1];
  const name = version === undefined ? browser[1] : `${browser[1]} ${version}`;
  return system === undefined ? name : `${name} · ${system}`;
}
