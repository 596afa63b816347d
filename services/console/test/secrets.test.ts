/**
 * One key per purpose (decision 0020): the console seals TOTP secrets with its own
 * TOTP_SECRET_ENCRYPTION_KEY and does not even parse FIELD_ENCRYPTION_KEY, the key of merchants'
 * account numbers, so it holds nothing that opens them.
 */
import { randomBytes } from 'node:crypto';
import { ConfigError } from '@puhui/config';
import { loadConsoleConfig } from '../src/config';

it('parses TOTP_SECRET_ENCRYPTION_KEY and never FIELD_ENCRYPTION_KEY', () => {
  const key = randomBytes(32).toString('base64');
  const config = loadConsoleConfig({
    NODE_ENV: 'development',
    TOTP_SECRET_ENCRYPTION_KEY: key,
    FIELD_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
  });
  expect(config.TOTP_SECRET_ENCRYPTION_KEY).toBe(key);
  expect(Object.keys(config)).not.toContain('FIELD_ENCRYPTION_KEY');
  // Not declared, not read: even a broken value there is none of the console's business.
  expect(() => loadConsoleConfig({ NODE_ENV: 'development', FIELD_ENCRYPTION_KEY: 'abc' })).not.toThrow();
});

it('refuses a TOTP_SECRET_ENCRYPTION_KEY that does not decode to 32 bytes, in development too', () => {
  let problems: string[] = [];
  try {
    loadConsoleConfig({
      NODE_ENV: 'development',
      TOTP_SECRET_ENCRYPTION_KEY: randomBytes(16).toString('base64'),
    });
  } catch (error) {
    if (error instanceof ConfigError) problems = error.problems;
  }
  expect(problems).toEqual([
    expect.stringMatching(
      /^TOTP_SECRET_ENCRYPTION_KEY: must decode to exactly 32 bytes \(AES-256\), not 16/u,
    ),
  ]);
});
