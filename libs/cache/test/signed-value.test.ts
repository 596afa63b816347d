import { openCacheValue, signCacheValue } from '../src';

const SECRET = 'a-test-signing-key-of-at-least-32-characters';
const KEY = 'puhui:rate_sheet:v3:tok_one';

describe('signed cache values', () => {
  it('opens what it signed, byte for byte', () => {
    const value = '{"card":{"member_id":"工会会员"},"rules":[]}';
    expect(openCacheValue(SECRET, KEY, signCacheValue(SECRET, KEY, value))).toEqual({ ok: true, value });
  });

  it('refuses a value moved to another key, another secret, or changed by one byte', () => {
    const stored = signCacheValue(SECRET, KEY, '{"rules":[]}');
    expect(openCacheValue(SECRET, 'puhui:rate_sheet:v3:tok_two', stored)).toEqual({
      ok: false,
      reason: 'bad_signature',
    });
    expect(openCacheValue(SECRET, 'puhui:rate_sheet:v4:tok_one', stored).ok).toBe(false);
    expect(openCacheValue(`${SECRET}x`, KEY, stored).ok).toBe(false);
    expect(openCacheValue(SECRET, KEY, stored.replace('[]', '[1]')).ok).toBe(false);
    // The key and value cannot be re-split: the key's length is signed too.
    const split = signCacheValue(SECRET, 'k', ':v');
    expect(openCacheValue(SECRET, 'k:', split.replace(':v', 'v')).ok).toBe(false);
  });

  it('refuses unsigned and broken envelopes', () => {
    expect(openCacheValue(SECRET, KEY, '{"rules":[]}')).toEqual({ ok: false, reason: 'unsigned' });
    expect(openCacheValue(SECRET, KEY, 'ps1.short')).toEqual({ ok: false, reason: 'malformed' });
    expect(openCacheValue(SECRET, KEY, `ps1.${'!'.repeat(43)}.{}`)).toEqual({
      ok: false,
      reason: 'malformed',
    });
    expect(openCacheValue(SECRET, KEY, 'ps2.' + signCacheValue(SECRET, KEY, '{}').slice(4))).toEqual({
      ok: false,
      reason: 'unsigned',
    });
  });
});
