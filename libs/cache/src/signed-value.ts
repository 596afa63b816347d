/**
 * Signed cache values: what one Puhui service writes into Redis for another to trust (rate
 * sheets, DESIGN §7) carries an HMAC-SHA256 over the key name and the exact stored bytes,
 * so a value written by anyone without the key, or moved to another key (another card's,
 * another ruleset's), is refused. Readers treat a refusal as a miss.
 *
 * The stored text is `ps1.<43 base64url characters of HMAC>.<value>`; `ps1` is the format's
 * version (a later format gets a new prefix, and a reader refuses prefixes it does not know).
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export const SIGNED_VALUE_FORMAT = 'ps1';
const PREFIX = `${SIGNED_VALUE_FORMAT}.`;
/** base64url of a 32-byte HMAC-SHA256, unpadded. */
const MAC_CHARACTERS = 43;
const HEADER_LENGTH = PREFIX.length + MAC_CHARACTERS + 1;

/** Why a stored value was refused: no signed envelope at all, a broken one, or a wrong MAC. */
export type SignedValueRefusal = 'unsigned' | 'malformed' | 'bad_signature';
export type OpenedValue = { ok: true; value: string } | { ok: false; reason: SignedValueRefusal };

function mac(secret: string, key: string, value: string): Buffer {
  // The key's length first, so no (key, value) pair can be re-split into another.
  return createHmac('sha256', secret)
    .update(`${Buffer.byteLength(key, 'utf8')}:${key}:`, 'utf8')
    .update(value, 'utf8')
    .digest();
}

/** The text to store under `key`: `value` in a signed envelope. */
export function signCacheValue(secret: string, key: string, value: string): string {
  return `${PREFIX}${mac(secret, key, value).toString('base64url')}.${value}`;
}

/** The value stored under `key` if its envelope is intact and was signed with `secret` for this key. */
export function openCacheValue(secret: string, key: string, stored: string): OpenedValue {
  if (!stored.startsWith(PREFIX)) return { ok: false, reason: 'unsigned' };
  if (stored.length < HEADER_LENGTH || stored[HEADER_LENGTH - 1] !== '.')
    return { ok: false, reason: 'malformed' };
  const given = Buffer.from(stored.slice(PREFIX.length, HEADER_LENGTH - 1), 'base64url');
  const value = stored.slice(HEADER_LENGTH);
  const expected = mac(secret, key, value);
  if (given.length !== expected.length) return { ok: false, reason: 'malformed' };
  if (!timingSafeEqual(given, expected)) return { ok: false, reason: 'bad_signature' };
  return { ok: true, value };
}
