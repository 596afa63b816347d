/**
 * What makes a configured secret too weak to boot on (decision 0020), whatever NODE_ENV says:
 * a key someone typed rather than generated. A random key of 32 bytes (`openssl rand -base64 32`,
 * or `-hex 32`) passes every check with overwhelming probability; `aaaa…`, `abab…`,
 * `passwordpassword…` and `0123456789abcdef0123…` do not.
 */

/** Fewer distinct characters (or bytes) than this is not a random key: a hex key has 16 to choose from. */
export const SECRET_DISTINCT_SYMBOLS_MIN = 10;

/**
 * Why `secret` (its characters, or the bytes a key decodes to) is trivial, or undefined when
 * it is not. The reason never repeats the value.
 */
export function weakSecretProblem(secret: string | Uint8Array): string | undefined {
  const symbols: readonly (string | number)[] = typeof secret === 'string' ? [...secret] : [...secret];
  const distinct = new Set(symbols).size;
  if (symbols.length > 0 && distinct === 1) return 'is one character repeated';
  const block = shortestRepeatedBlock(symbols);
  if (block !== undefined) return `is a block of ${block} characters repeated`;
  if (distinct < SECRET_DISTINCT_SYMBOLS_MIN)
    return `has only ${distinct} distinct characters (a random key has at least ${SECRET_DISTINCT_SYMBOLS_MIN})`;
  return undefined;
}

/** The length of the shortest block the whole value repeats (at least twice), if any. */
function shortestRepeatedBlock(symbols: readonly (string | number)[]): number | undefined {
  const length = symbols.length;
  for (let block = 1; block <= length / 2; block += 1) {
    if (length % block !== 0) continue;
    let repeats = true;
    for (let index = block; index < length && repeats; index += 1)
      repeats = symbols[index] === symbols[index - block];
    if (repeats) return block;
  }
  return undefined;
}
