import { randomBytes } from 'node:crypto';
import { loadConfig, platformEnvironment, weakSecretProblem } from '@puhui/config';

describe('weakSecretProblem', () => {
  it.each([
    ['one character repeated', 'a'.repeat(32), /one character repeated/u],
    ['two characters alternating', 'ab'.repeat(16), /block of 2 characters repeated/u],
    ['a word repeated', 'password'.repeat(4), /block of 8 characters repeated/u],
    ['a hex alphabet repeated', '0123456789abcdef'.repeat(4), /block of 16 characters repeated/u],
    ['few distinct characters', 'aabbccddeeffgghhaabbccddeeffggh1', /only 9 distinct characters/u],
  ])('refuses %s, without repeating the value', (_case, secret, reason) => {
    const problem = weakSecretProblem(secret);
    expect(problem).toMatch(reason);
    expect(problem).not.toContain(secret.slice(0, 8));
  });

  it('looks at the bytes of a decoded key', () => {
    expect(weakSecretProblem(Buffer.alloc(32, 7))).toBe('is one character repeated');
    expect(weakSecretProblem(Buffer.from([1, 2, 1, 2, 1, 2, 1, 2]))).toMatch(/block of 2/u);
  });

  it('accepts generated keys: base64, hex and raw bytes', () => {
    for (let attempt = 0; attempt < 200; attempt += 1) {
      expect(weakSecretProblem(randomBytes(32).toString('base64'))).toBeUndefined();
      expect(weakSecretProblem(randomBytes(32).toString('hex'))).toBeUndefined();
      expect(weakSecretProblem(randomBytes(32))).toBeUndefined();
    }
  });
});

describe('NODE_ENV', () => {
  it('is production when unset: a deployment that says nothing gets the strict checks', () => {
    expect(loadConfig(platformEnvironment, {}).NODE_ENV).toBe('production');
    expect(loadConfig(platformEnvironment, { NODE_ENV: '' }).NODE_ENV).toBe('production');
  });

  it('is development or test only when said so', () => {
    expect(loadConfig(platformEnvironment, { NODE_ENV: 'development' }).NODE_ENV).toBe('development');
    expect(loadConfig(platformEnvironment, { NODE_ENV: 'test' }).NODE_ENV).toBe('test');
    expect(() => loadConfig(platformEnvironment, { NODE_ENV: 'dev' })).toThrow(/NODE_ENV/u);
  });
});
