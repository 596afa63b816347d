/**
 * Secrets fail closed (decision 0020): each is checked for its size and against trivial values
 * when the configuration is parsed, whatever NODE_ENV says; at boot, no two of a service's
 * secrets may be equal, and in production — NODE_ENV=production, or NODE_ENV unset — none may
 * be a development default.
 */
import { randomBytes } from 'node:crypto';
import { ConfigError, loadConfig } from '@puhui/config';
import { dropDatabase } from '@puhui/postgres';
import { DEVELOPMENT_CARD_TOKEN_KEY, DEVELOPMENT_FIELD_KEY } from '@puhui/security';
import { serviceEnvironment, startService } from '@puhui/service';
import type { SecretName } from '@puhui/service';
import { testPostgresUrl } from '@puhui/testing';
import { postgresOnly, testEnvironment } from './widget-service';

const EVERY_SECRET: readonly SecretName[] = [
  'FIELD_ENCRYPTION_KEY',
  'TOTP_SECRET_ENCRYPTION_KEY',
  'IDENTITY_HASH_KEY',
  'IDEMPOTENCY_REQUEST_HASH_KEY',
  'CARD_TOKEN_KEY',
  'CARD_HANDLE_KEY',
  'RATE_SHEET_SIGNING_KEY',
  'SERVICE_CREDENTIAL',
  'SERVICE_CREDENTIALS',
];
const environment = serviceEnvironment({ port: 0, databaseName: 'unused', secrets: EVERY_SECRET });

/** A fresh random value of each secret's shape, as `openssl rand -base64 32` makes them. */
function generatedSecrets(): Record<SecretName, string> {
  return {
    FIELD_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
    TOTP_SECRET_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
    IDENTITY_HASH_KEY: randomBytes(32).toString('base64'),
    IDEMPOTENCY_REQUEST_HASH_KEY: randomBytes(32).toString('hex'),
    CARD_TOKEN_KEY: randomBytes(32).toString('base64'),
    CARD_HANDLE_KEY: randomBytes(40).toString('base64'),
    RATE_SHEET_SIGNING_KEY: randomBytes(48).toString('base64url'),
    SERVICE_CREDENTIAL: `svc_${randomBytes(32).toString('base64url')}`,
    SERVICE_CREDENTIALS: `transaction-settlement:rate_sheet_reader:${randomBytes(32).toString('hex')}`,
  };
}

/** The problems loadConfig names for `variables`, or [] when it parses. */
function problemsOf(variables: Record<string, string>): string[] {
  try {
    loadConfig(environment, variables);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
}

/** Boots the Postgres-only widget service on `variables` and stops it again; rejects as startService does. */
async function boots(variables: Record<string, string>): Promise<void> {
  const config = loadConfig(environment, testEnvironment(variables));
  try {
    const service = await startService(postgresOnly(config));
    await service.shutdown('test over');
  } finally {
    await dropDatabase(testPostgresUrl(), config.DATABASE_NAME);
  }
}

describe('when the configuration is parsed, in every NODE_ENV', () => {
  it.each(['development', 'test', 'production'])('takes generated keys (%s)', (NODE_ENV) => {
    expect(problemsOf({ NODE_ENV, ...generatedSecrets() })).toEqual([]);
  });

  it.each([
    ['5 bytes', randomBytes(5).toString('base64'), /must decode to exactly 32 bytes \(AES-256\), not 5/u],
    ['31 bytes', randomBytes(31).toString('base64'), /exactly 32 bytes \(AES-256\), not 31/u],
    ['33 bytes', randomBytes(33).toString('base64'), /exactly 32 bytes \(AES-256\), not 33/u],
    ['not base64', 'this is not base64 at all, is it?', /must be base64/u],
    [
      '32 equal bytes',
      Buffer.alloc(32, 7).toString('base64'),
      /decodes to bytes that is one character repeated/u,
    ],
  ])(
    'refuses an AES key (FIELD_ENCRYPTION_KEY, TOTP_SECRET_ENCRYPTION_KEY) of %s, naming it and not its value',
    (_case, key, message) => {
      for (const name of ['FIELD_ENCRYPTION_KEY', 'TOTP_SECRET_ENCRYPTION_KEY'])
        for (const NODE_ENV of ['development', 'test', 'production']) {
          const problems = problemsOf({ NODE_ENV, [name]: key });
          expect(problems).toEqual([expect.stringMatching(new RegExp(`^${name}: `, 'u'))]);
          expect(problems[0]).toMatch(message);
          expect(problems[0]).not.toContain(key);
        }
    },
  );

  it.each([
    'IDENTITY_HASH_KEY',
    'IDEMPOTENCY_REQUEST_HASH_KEY',
    'CARD_TOKEN_KEY',
    'CARD_HANDLE_KEY',
    'RATE_SHEET_SIGNING_KEY',
  ])('refuses an HMAC key %s shorter than 32 bytes, or trivial', (name) => {
    const refusals: Array<[string, RegExp]> = [
      [randomBytes(23).toString('base64').slice(0, 31), /must be at least 32 bytes, not 31/u],
      ['a'.repeat(32), /one character repeated/u],
      ['k'.repeat(64), /one character repeated/u],
      ['ab'.repeat(20), /block of 2 characters repeated/u],
      ['changeme'.repeat(4), /block of 8 characters repeated/u],
      ['aabbccddeeffgghhaabbccddeeffggh1', /only 9 distinct characters/u],
    ];
    for (const [value, message] of refusals) {
      const problems = problemsOf({ NODE_ENV: 'development', [name]: value });
      expect(problems).toEqual([expect.stringMatching(new RegExp(`^${name}: `, 'u'))]);
      expect(problems[0]).toMatch(message);
      expect(problems[0]).not.toContain(value);
    }
    // Bytes, not characters: eleven three-byte characters are 33 bytes.
    expect(problemsOf({ [name]: '工会普惠卡商户折扣结算密钥' })).toEqual([]);
  });

  it('refuses a SERVICE_CREDENTIAL whose characters after svc_ are trivial', () => {
    expect(problemsOf({ SERVICE_CREDENTIAL: `svc_${'c'.repeat(40)}` })).toEqual([
      'SERVICE_CREDENTIAL: after svc_ is one character repeated',
    ]);
  });
});

describe('at boot', () => {
  it('treats an unset NODE_ENV as production: every development default is named and refused', async () => {
    const config = loadConfig(environment, {});
    expect(config.NODE_ENV).toBe('production');
    await expect(startService(postgresOnly(config))).rejects.toThrow(
      `Set ${EVERY_SECRET.join(', ')}: development defaults are refused in production`,
    );
  });

  it('refuses one development default left among set secrets, and another secret’s default too', async () => {
    const { SERVICE_CREDENTIAL: _left, ...others } = generatedSecrets();
    await expect(boots({ NODE_ENV: 'production', ...others })).rejects.toThrow(
      /^Set SERVICE_CREDENTIAL: development defaults are refused in production/u,
    );
    await expect(
      boots({ ...generatedSecrets(), NODE_ENV: 'production', IDENTITY_HASH_KEY: DEVELOPMENT_CARD_TOKEN_KEY }),
    ).rejects.toThrow(/^Set IDENTITY_HASH_KEY: development defaults/u);
  });

  it('boots in production when every secret is set, and on the defaults when NODE_ENV says development or test', async () => {
    await expect(boots({ NODE_ENV: 'production', ...generatedSecrets() })).resolves.toBeUndefined();
    await expect(boots({ NODE_ENV: 'development' })).resolves.toBeUndefined();
    await expect(boots({ NODE_ENV: 'test' })).resolves.toBeUndefined();
  });

  it('refuses two secrets with the same value in every NODE_ENV: one key per purpose', async () => {
    const shared = randomBytes(32).toString('base64');
    for (const NODE_ENV of ['development', 'production']) {
      await expect(
        boots({
          ...generatedSecrets(),
          NODE_ENV,
          IDENTITY_HASH_KEY: shared,
          IDEMPOTENCY_REQUEST_HASH_KEY: shared,
          CARD_TOKEN_KEY: shared,
        }),
      ).rejects.toThrow(
        /^IDENTITY_HASH_KEY and IDEMPOTENCY_REQUEST_HASH_KEY and CARD_TOKEN_KEY have the same value: each purpose needs its own key\.$/u,
      );
    }
    // The field key's base64 text counts as its value too.
    await expect(
      boots({
        ...generatedSecrets(),
        NODE_ENV: 'test',
        FIELD_ENCRYPTION_KEY: shared,
        CARD_TOKEN_KEY: shared,
      }),
    ).rejects.toThrow(/^FIELD_ENCRYPTION_KEY and CARD_TOKEN_KEY have the same value/u);
    expect(DEVELOPMENT_FIELD_KEY).not.toBe(shared);
  });
});
