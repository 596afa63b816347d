import {
  DEVELOPMENT_SERVICE_CREDENTIAL,
  DEVELOPMENT_SERVICE_CREDENTIALS,
  SERVICE_CREDENTIAL_PATTERN,
  apiKeyCreatedAt,
  bearerCredential,
  DEVELOPMENT_FIELD_KEY,
  generateApiKey,
  hashApiKey,
  hashServiceCredential,
  looksLikeApiKey,
  openField,
  parseServiceCredentials,
  sealField,
} from '@puhui/security';

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

describe('service credentials', () => {
  it('are known to the callee by service, role and hash', () => {
    expect(DEVELOPMENT_SERVICE_CREDENTIAL).toMatch(SERVICE_CREDENTIAL_PATTERN);
    expect(parseServiceCredentials(DEVELOPMENT_SERVICE_CREDENTIALS)).toEqual([
      {
        service: 'transaction-settlement',
        role: 'rate_sheet_reader',
        hash: hashServiceCredential(DEVELOPMENT_SERVICE_CREDENTIAL),
      },
    ]);
    const other = `svc_${'x'.repeat(40)}`;
    expect(
      parseServiceCredentials(
        `${DEVELOPMENT_SERVICE_CREDENTIALS}, bench:rate_sheet_reader:${hashServiceCredential(other)}`,
      ),
    ).toHaveLength(2);
    expect(() => parseServiceCredentials('transaction-settlement:admin:' + 'a'.repeat(64))).toThrow(
      /entry 1/u,
    );
    expect(() => parseServiceCredentials('transaction-settlement:rate_sheet_reader:xyz')).toThrow(/entry 1/u);
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
