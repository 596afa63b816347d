/**
 * Keyed card tokens. The token is how every service, event and log line names a card.
 *
 * token = "ctok_" + the first 32 characters of base64url(HMAC-SHA256(key, normalized PAN)).
 *
 * Why truncating to 32 characters (192 bits) is safe:
 * - Collisions: among n = 10^6 cards (the largest deployment planned) the chance that any two
 *   share a token is about n² / 2^193 ≈ 8 × 10^-47.
 * - Forgery: without the key, hitting a given card's token takes 2^192 tries on average.
 * - Reversal: the PAN space is small (fewer than 10^19 ≈ 2^63 numbers, far fewer valid), so no
 *   unkeyed hash of any length would hide a PAN. What hides it is the secret key (at least
 *   256 bits); the output length does not change that. NIST SP 800-107 permits truncated
 *   HMAC output, and 192 bits is well above its floor.
 */
import { createHmac } from 'node:crypto';
import { requireUnionPayPan } from './pan';

export const CARD_TOKEN_PREFIX = 'ctok_';
export const CARD_TOKEN_BODY_LENGTH = 32;
export const CARD_TOKEN_PATTERN = /^ctok_[A-Za-z0-9_-]{32}$/u;

/**
 * HMAC keys shorter than the hash output (32 bytes for SHA-256) weaken it (RFC 2104 §3),
 * so a shorter key is refused rather than silently accepted.
 */
export const CARD_TOKEN_KEY_BYTES_MIN = 32;

function keyLength(key: Buffer | string): number {
  return typeof key === 'string' ? Buffer.byteLength(key, 'utf8') : key.length;
}

/**
 * The card's token: the same PAN (however it was spaced) and key always give the same token.
 * Throws CardNumberError unless `pan` is a valid UnionPay number, and TypeError for a short key.
 */
export function tokenizePan(pan: string, key: Buffer | string): string {
  if (keyLength(key) < CARD_TOKEN_KEY_BYTES_MIN) {
    throw new TypeError(`the card token key must be at least ${CARD_TOKEN_KEY_BYTES_MIN} bytes`);
  }
  const normalized = requireUnionPayPan(pan);
  const digest = createHmac('sha256', key).update(normalized, 'utf8').digest('base64url');
  return CARD_TOKEN_PREFIX + digest.slice(0, CARD_TOKEN_BODY_LENGTH);
}

export function isCardToken(value: string): boolean {
  return CARD_TOKEN_PATTERN.test(value);
}
