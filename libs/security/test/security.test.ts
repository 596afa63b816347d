import { createCipheriv, randomBytes } from 'node:crypto';
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
  FieldUnsealable,
  isLegacySealedField,
  maskEmail,
  maskPersonName,
  openField,
  parseServiceCredentials,
  resealLegacyField,
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
  const owner = 'mer_0000000000000000000000001';
  const otherOwner = 'mer_0000000000000000000000002';

  it('round-trips and never shows the plaintext', () => {
    const sealed = sealField('6222021234567890123', DEVELOPMENT_FIELD_KEY, owner);
    expect(sealed).toMatch(/^v2\./u);
    expect(sealed).not.toContain('6222021234567890123');
    expect(openField(sealed, DEVELOPMENT_FIELD_KEY, owner)).toBe('6222021234567890123');
    expect(sealField('same', DEVELOPMENT_FIELD_KEY, owner)).not.toBe(
      sealField('same', DEVELOPMENT_FIELD_KEY, owner),
    );
  });

  it('refuses a tampered or foreign-keyed value', () => {
    const sealed = sealField('account', DEVELOPMENT_FIELD_KEY, owner);
    const parts = sealed.split('.');
    const tampered = [...parts.slice(0, 3), Buffer.from('accounu').toString('base64url')].join('.');
    expect(() => openField(tampered, DEVELOPMENT_FIELD_KEY, owner)).toThrow(FieldUnsealable);
    const otherKey = Buffer.alloc(32, 7).toString('base64');
    expect(() => openField(sealed, otherKey, owner)).toThrow(FieldUnsealable);
  });

  it('refuses a value sealed for another owner (pasted onto another row)', () => {
    const sealed = sealField('6222021234567890123', DEVELOPMENT_FIELD_KEY, owner);
    expect(() => openField(sealed, DEVELOPMENT_FIELD_KEY, otherOwner)).toThrow(
      expect.objectContaining({ reason: 'authentication_failed' }),
    );
  });

  it('refuses v1 values, which only resealLegacyField opens, once, into v2 for their owner', () => {
    const legacy = legacySeal('6222021234567890123');
    expect(isLegacySealedField(legacy)).toBe(true);
    expect(() => openField(legacy, DEVELOPMENT_FIELD_KEY, owner)).toThrow(
      expect.objectContaining({ reason: 'legacy_version' }),
    );
    const resealed = resealLegacyField(legacy, DEVELOPMENT_FIELD_KEY, owner);
    expect(resealed).toMatch(/^v2\./u);
    expect(openField(resealed, DEVELOPMENT_FIELD_KEY, owner)).toBe('6222021234567890123');
    expect(() => openField(resealed, DEVELOPMENT_FIELD_KEY, otherOwner)).toThrow(FieldUnsealable);
    // A v2 value stays as it is, and only for its own owner.
    expect(resealLegacyField(resealed, DEVELOPMENT_FIELD_KEY, owner)).toBe(resealed);
    expect(() => resealLegacyField(resealed, DEVELOPMENT_FIELD_KEY, otherOwner)).toThrow(FieldUnsealable);
  });

  it('names a value that is not sealed at all', () => {
    expect(() => openField('6222021234567890123', DEVELOPMENT_FIELD_KEY, owner)).toThrow(
      expect.objectContaining({ reason: 'not_sealed' }),
    );
    expect(() => sealField('x', DEVELOPMENT_FIELD_KEY, '')).toThrow(/owner/u);
  });
});

/** The v1 format as it was sealed before owners (no AAD), to test the upgrade of stored values. */
function legacySeal(plaintext: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', Buffer.from(DEVELOPMENT_FIELD_KEY, 'base64'), iv);
  const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return ['v1', iv, cipher.getAuthTag(), ciphertext]
    .map((part) => (typeof part === 'string' ? part : part.toString('base64url')))
    .join('.');
}

describe('masking people', () => {
  it.each([
    ['张三', '张*'],
    ['王小明', '王**'],
    ['欧阳娜娜', '欧阳**'],
    ['司马相如', '司马**'],
    [' 李 ', '*'],
    ['', '*'],
    ['John Smith', 'Jo********'],
    ['𠀋𠀌', '𠀋*'],
  ])('masks the name %j as %j', (name, masked) => {
    expect(maskPersonName(name)).toBe(masked);
  });

  it.each([
    ['zhang.san@example.com', 'z***@example.com'],
    ['w@example.cn', 'w***@example.cn'],
    ['not-an-address', '***'],
    ['@example.com', '***'],
    ['zhang@', '***'],
  ])('masks the e-mail %j as %j', (email, masked) => {
    expect(maskEmail(email)).toBe(masked);
  });
});
