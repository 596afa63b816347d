import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  ConfigError,
  kafkaConnectionOf,
  loadConfig,
  platformEnvironment,
  redisConnectionOf,
} from '@puhui/config';

const PASSWORD = 'scram-password-that-must-never-be-repeated';
const CERTIFICATE = '-----BEGIN CERTIFICATE-----\nMIIBdummy\n-----END CERTIFICATE-----\n';
let directory: string;
let caFile: string;

beforeAll(() => {
  directory = mkdtempSync(path.join(os.tmpdir(), 'puhui-connections-'));
  caFile = path.join(directory, 'ca.pem');
  writeFileSync(caFile, CERTIFICATE);
  writeFileSync(path.join(directory, 'not-a-certificate.pem'), 'hello');
});

afterAll(() => rmSync(directory, { recursive: true, force: true }));

function config(environment: Record<string, string>) {
  return loadConfig(platformEnvironment, { NODE_ENV: 'test', ...environment });
}

/** The problems a configuration error lists; fails the test when there is none. */
function problemsOf(work: () => unknown): string[] {
  try {
    work();
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('kafkaConnectionOf', () => {
  it('is PLAINTEXT without SASL when nothing is set (the local broker on 9092)', () => {
    expect(kafkaConnectionOf(config({}))).toEqual({});
  });

  it('gives TLS with the CA file read and SCRAM credentials when all are set', () => {
    const connection = kafkaConnectionOf(
      config({
        KAFKA_TLS: 'true',
        KAFKA_TLS_CA_FILE: caFile,
        KAFKA_SASL_MECHANISM: 'scram-sha-512',
        KAFKA_SASL_USERNAME: 'puhui',
        KAFKA_SASL_PASSWORD: PASSWORD,
      }),
    );
    expect(connection).toEqual({
      tls: { ca: [CERTIFICATE] },
      sasl: { mechanism: 'scram-sha-512', username: 'puhui', password: PASSWORD },
    });
  });

  it("trusts Node's CAs when TLS is on without a CA file", () => {
    expect(kafkaConnectionOf(config({ KAFKA_TLS: 'yes' }))).toEqual({ tls: {} });
  });

  it('refuses SASL settings that would be half used or silently ignored, never repeating the password', () => {
    const withoutPassword = problemsOf(() =>
      kafkaConnectionOf(config({ KAFKA_SASL_MECHANISM: 'scram-sha-256', KAFKA_SASL_USERNAME: 'puhui' })),
    );
    expect(withoutPassword).toEqual([
      'KAFKA_SASL_PASSWORD: required with KAFKA_SASL_MECHANISM=scram-sha-256',
    ]);
    const withoutMechanism = problemsOf(() =>
      kafkaConnectionOf(config({ KAFKA_SASL_USERNAME: 'puhui', KAFKA_SASL_PASSWORD: PASSWORD })),
    );
    expect(withoutMechanism).toEqual([
      'KAFKA_SASL_MECHANISM: set it (scram-sha-512 or scram-sha-256) to use KAFKA_SASL_USERNAME/PASSWORD',
    ]);
    expect(withoutMechanism.join('\n')).not.toContain(PASSWORD);
  });

  it('refuses a mechanism other than SCRAM (PLAIN would send the password itself)', () => {
    expect(() => config({ KAFKA_SASL_MECHANISM: 'plain' })).toThrow(/KAFKA_SASL_MECHANISM/u);
  });

  it('refuses a CA file without TLS, an unreadable one and one without a certificate', () => {
    expect(problemsOf(() => kafkaConnectionOf(config({ KAFKA_TLS_CA_FILE: caFile })))).toEqual([
      'KAFKA_TLS_CA_FILE: set KAFKA_TLS=true too, or unset it',
    ]);
    const missing = path.join(directory, 'missing.pem');
    expect(
      problemsOf(() => kafkaConnectionOf(config({ KAFKA_TLS: 'true', KAFKA_TLS_CA_FILE: missing }))),
    ).toEqual([`KAFKA_TLS_CA_FILE: cannot read ${missing} (ENOENT)`]);
    const wrong = path.join(directory, 'not-a-certificate.pem');
    expect(
      problemsOf(() => kafkaConnectionOf(config({ KAFKA_TLS: 'true', KAFKA_TLS_CA_FILE: wrong }))),
    ).toEqual([`KAFKA_TLS_CA_FILE: ${wrong} holds no PEM certificate (-----BEGIN CERTIFICATE-----)`]);
  });

  it('refuses SASL without TLS in production only (SASL_PLAINTEXT stays possible on a developer machine)', () => {
    const scram = {
      KAFKA_SASL_MECHANISM: 'scram-sha-512',
      KAFKA_SASL_USERNAME: 'puhui',
      KAFKA_SASL_PASSWORD: PASSWORD,
    };
    expect(kafkaConnectionOf(config(scram)).tls).toBeUndefined();
    expect(problemsOf(() => kafkaConnectionOf(config({ ...scram, NODE_ENV: 'production' })))).toEqual([
      'KAFKA_TLS: must be true with KAFKA_SASL_MECHANISM in production (events would travel in clear)',
    ]);
  });
});

describe('passwords', () => {
  it('refuses a typed rather than generated password in any NODE_ENV, without repeating it', () => {
    const problems = problemsOf(() =>
      kafkaConnectionOf(
        config({
          KAFKA_SASL_MECHANISM: 'scram-sha-512',
          KAFKA_SASL_USERNAME: 'puhui',
          KAFKA_SASL_PASSWORD: 'abcabcabc',
        }),
      ),
    );
    expect(problems).toEqual(['KAFKA_SASL_PASSWORD: is a block of 3 characters repeated']);
    expect(problemsOf(() => redisConnectionOf(config({ REDIS_PASSWORD: 'passwordpassword' })))).toEqual([
      'REDIS_PASSWORD: is a block of 8 characters repeated',
    ]);
    expect(problemsOf(() => redisConnectionOf(config({ REDIS_PASSWORD: 'aaaa' })))).toEqual([
      'REDIS_PASSWORD: is one character repeated',
    ]);
  });

  it("accepts the local broker's development password", () => {
    const scram = { KAFKA_SASL_MECHANISM: 'scram-sha-512', KAFKA_SASL_USERNAME: 'puhui' };
    expect(
      kafkaConnectionOf(config({ ...scram, KAFKA_SASL_PASSWORD: 'puhui-local-scram-password' })).sasl,
    ).toBeDefined();
  });
});

describe('redisConnectionOf', () => {
  it('is the plain local URL without a password when nothing is set', () => {
    expect(redisConnectionOf(config({}))).toEqual({ url: 'redis://127.0.0.1:6379' });
  });

  it('gives the password, the user and TLS with the CA for a rediss:// URL', () => {
    const connection = redisConnectionOf(
      config({
        REDIS_URL: 'rediss://cache.example:6380',
        REDIS_USERNAME: 'discount-rules',
        REDIS_PASSWORD: PASSWORD,
        REDIS_TLS_CA_FILE: caFile,
      }),
    );
    expect(connection).toEqual({
      url: 'rediss://cache.example:6380',
      username: 'discount-rules',
      password: PASSWORD,
      tls: { ca: CERTIFICATE },
    });
    expect(redisConnectionOf(config({ REDIS_URL: 'rediss://cache.example:6380' })).tls).toEqual({});
  });

  it('refuses a password (or user) inside REDIS_URL, without repeating it', () => {
    const problems = problemsOf(() => config({ REDIS_URL: `redis://:${PASSWORD}@127.0.0.1:6379` }));
    expect(problems).toEqual([
      'REDIS_URL: must not carry a user or password: set REDIS_USERNAME / REDIS_PASSWORD instead',
    ]);
    expect(problems.join('\n')).not.toContain(PASSWORD);
    expect(() => config({ REDIS_URL: 'http://127.0.0.1:6379' })).toThrow(
      /REDIS_URL: must start with redis:\/\//u,
    );
  });

  it('refuses a user without a password and a CA file with a redis:// URL', () => {
    expect(
      problemsOf(() =>
        redisConnectionOf(config({ REDIS_USERNAME: 'discount-rules', REDIS_TLS_CA_FILE: caFile })),
      ),
    ).toEqual([
      'REDIS_PASSWORD: required with REDIS_USERNAME',
      'REDIS_TLS_CA_FILE: needs a rediss:// REDIS_URL, or unset it',
    ]);
  });

  it('refuses a password over redis:// in production only', () => {
    expect(redisConnectionOf(config({ REDIS_PASSWORD: PASSWORD })).password).toBe(PASSWORD);
    expect(
      problemsOf(() => redisConnectionOf(config({ REDIS_PASSWORD: PASSWORD, NODE_ENV: 'production' }))),
    ).toEqual([
      'REDIS_URL: must be rediss:// with REDIS_PASSWORD in production (AUTH would send it in clear)',
    ]);
  });
});
