import jwt from 'jsonwebtoken';
import {
  actorOf,
  apiKeyCreatedAt,
  bearerCredential,
  DEVELOPMENT_FIELD_KEY,
  generateApiKey,
  hashApiKey,
  looksLikeApiKey,
  mintOperatorToken,
  openField,
  requireOperator,
  sealField,
  verifyOperatorToken,
} from '@puhui/security';

const SECRET = 'test-secret-test-secret-test-secret';

describe('operator tokens', () => {
  it('round-trips subject and roles', () => {
    const token = mintOperatorToken({ subject: 'li.na', roles: ['admin'], ttlSeconds: 60 }, SECRET);
    expect(verifyOperatorToken(token, SECRET)).toEqual({
      kind: 'operator',
      subject: 'li.na',
      roles: ['admin'],
    });
  });

  it('rejects a token signed with another secret, an expired one, and one without roles', () => {
    const other = mintOperatorToken({ subject: 'x', roles: ['admin'], ttlSeconds: 60 }, 'another-secret');
    expect(() => verifyOperatorToken(other, SECRET)).toThrow(/invalid or expired/);
    const expired = mintOperatorToken({ subject: 'x', roles: ['admin'], ttlSeconds: -10 }, SECRET);
    expect(() => verifyOperatorToken(expired, SECRET)).toThrow(/invalid or expired/);
    const roleless = jwt.sign({}, SECRET, { subject: 'x', issuer: 'puhui', audience: 'puhui-api' });
    expect(() => verifyOperatorToken(roleless, SECRET)).toThrow(/no operator roles/);
    const unsigned = jwt.sign({ roles: ['admin'] }, '', { algorithm: 'none' } as jwt.SignOptions);
    expect(() => verifyOperatorToken(unsigned, SECRET)).toThrow();
  });

  it('lets the right role through and forbids the others', () => {
    const finance = verifyOperatorToken(
      mintOperatorToken({ subject: 'f', roles: ['finance'], ttlSeconds: 60 }, SECRET),
      SECRET,
    );
    expect(() => requireOperator(finance, 'finance')).not.toThrow();
    expect(() => requireOperator(finance, 'admin')).toThrow(/admin role/);
    expect(() =>
      requireOperator(
        { kind: 'merchant', merchant_id: 'mer_1', key_id: 'key_1', scopes: ['checkout'] },
        'admin',
      ),
    ).toThrow();
    expect(actorOf(finance)).toBe('operator:f');
  });
});

describe('merchant API keys', () => {
  it('are long random secrets with a visible prefix, stored only as a hash', () => {
    const key = generateApiKey();
    expect(key.secret).toMatch(/^sk_live_[A-Za-z0-9_-]{43}$/);
    expect(key.secret.startsWith(key.prefix)).toBe(true);
    expect(key.prefix).toHaveLength(14);
    expect(key.hash).toBe(hashApiKey(key.secret));
    expect(key.hash).not.toContain(key.secret.slice(8));
    expect(generateApiKey().secret).not.toBe(key.secret);
    expect(looksLikeApiKey(key.secret)).toBe(true);
  });

  it('carry the time they were minted, so a replica can tell a new key from a wrong one', () => {
    const mintedAt = Date.UTC(2026, 11, 1, 6, 30);
    expect(apiKeyCreatedAt(generateApiKey(mintedAt).secret)).toBe(mintedAt);
    // Keys minted in the same millisecond still differ, in their visible prefix too.
    const [first, second] = [generateApiKey(mintedAt), generateApiKey(mintedAt)];
    expect(first.prefix).not.toBe(second?.prefix);
    expect(apiKeyCreatedAt(`sk_live_${'A'.repeat(43)}`)).toBe(0);
    expect(apiKeyCreatedAt('sk_live_short')).toBeUndefined();
    expect(apiKeyCreatedAt('not a key')).toBeUndefined();
  });

  it('reads the bearer credential of an Authorization header', () => {
    expect(bearerCredential('Bearer abc.def')).toBe('abc.def');
    expect(bearerCredential('bearer   sk_live_x ')).toBe('sk_live_x');
    expect(bearerCredential('Basic abc')).toBeUndefined();
    expect(bearerCredential(undefined)).toBeUndefined();
  });
});

describe('field sealing', () => {
  it('round-trips and never shows the plaintext', () => {
    const sealed = sealField('6222021234567890123', DEVELOPMENT_FIELD_KEY);
    expect(sealed).not.toContain('6222021234567890123');
    expect(openField(sealed, DEVELOPMENT_FIELD_KEY)).toBe('6222021234567890123');
    expect(sealField('same', DEVELOPMENT_FIELD_KEY)).not.toBe(sealField('same', DEVELOPMENT_FIELD_KEY));
  });

  it('refuses a tampered or foreign-keyed value', () => {
    const sealed = sealField('account', DEVELOPMENT_FIELD_KEY);
    const parts = sealed.split('.');
    const tampered = [...parts.slice(0, 3), Buffer.from('accounu').toString('base64url')].join('.');
    expect(() => openField(tampered, DEVELOPMENT_FIELD_KEY)).toThrow();
    const otherKey = Buffer.alloc(32, 7).toString('base64');
    expect(() => openField(sealed, otherKey)).toThrow();
  });
});
