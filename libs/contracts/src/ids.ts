import { randomBytes } from 'node:crypto';

const ID_SHAPE = /^[a-z]{2,5}_[0-9a-z]{9}[0-9a-z]{16}$/u;

/**
 * `<prefix>_<time><random>`: 9 base-36 characters of milliseconds (sortable until the year
 * 5188) and 16 random ones (≈ 82 bits), so ids sort by creation time and serve as
 * pagination cursors.
 */
export function newId(prefix: string, now: number = Date.now()): string {
  const time = now.toString(36).padStart(9, '0');
  const random = [...randomBytes(16)].map((byte) => (byte % 36).toString(36)).join('');
  return `${prefix}_${time}${random}`;
}

export function isId(value: string, prefix: string): boolean {
  return value.startsWith(`${prefix}_`) && ID_SHAPE.test(value);
}

/** When `value` was minted (its time part, in ms), or undefined for a string that is no such id. */
export function idCreatedAt(value: string, prefix: string): number | undefined {
  if (!isId(value, prefix)) return undefined;
  return Number.parseInt(value.slice(prefix.length + 1, prefix.length + 10), 36);
}
