/**
 * Keyed hashes for finding a person or merchant again without keeping the number: the same
 * ID number, phone or account always hashes to the same value under one key, and without
 * the key the hashes cannot be tested against guesses (ID numbers and phones are few enough,
 * about 10^11 each, that an unkeyed hash would be reversed by enumeration in hours).
 */
import { createHmac } from 'node:crypto';

/** HMAC keys shorter than SHA-256's 32-byte output weaken it (RFC 2104 §3). */
export const KEYED_HASH_KEY_BYTES_MIN = 32;

/**
 * The normalization every value gets before hashing: surrounding and grouping spaces and
 * dashes dropped, letters upper-cased (an ID's x and X are the same person). Pass values
 * as the check functions return them (`checkMobile` drops +86) so that equal things match.
 */
export function normalizeForHash(value: string): string {
  return value.replace(/[\s-]/gu, '').toUpperCase();
}

/** Hex HMAC-SHA256(key, normalized value): 64 characters. */
export function keyedHash(value: string, key: Buffer | string): string {
  const keyBytes = typeof key === 'string' ? Buffer.byteLength(key, 'utf8') : key.length;
  if (keyBytes < KEYED_HASH_KEY_BYTES_MIN) {
    throw new TypeError(`the keyed hash key must be at least ${KEYED_HASH_KEY_BYTES_MIN} bytes`);
  }
  return createHmac('sha256', key).update(normalizeForHash(value), 'utf8').digest('hex');
}
