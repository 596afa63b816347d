/**
 * How the services reach Kafka and Redis when those ask for authentication and encryption
 * (decision 0021): Kafka over TLS with SASL/SCRAM, Redis with AUTH over TLS (`rediss://`). Unset,
 * everything stays as on a developer machine: PLAINTEXT 127.0.0.1:9092 and
 * redis://127.0.0.1:6379 without a password. Defined apart from the rest of platformEnvironment
 * (which spreads them) so that they read together with the checks that combine them.
 *
 * The two passwords are secrets: they never appear in a problem message, and the logger redacts
 * `password` keys. A CA file is read here, once at boot, so that a missing or wrong file stops
 * the service with its variable named instead of failing the first connection.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { ConfigError } from './errors';
import { weakSecretProblem } from './secret-strength';

const flag = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((value) => value === 'true' || value === '1' || value === 'yes');

/** The URL, or undefined when z.url() has already reported it (zod runs refinements after a failure). */
function urlOrUndefined(value: string): URL | undefined {
  return URL.canParse(value) ? new URL(value) : undefined;
}

/** redis:// or rediss://, with no user or password in it: a URL gets logged, a password must not be. */
const redisUrl = z
  .url()
  .refine(
    (value) => /^(rediss?:)?$/u.test(urlOrUndefined(value)?.protocol ?? ''),
    'must start with redis:// or rediss:// (TLS)',
  )
  .refine((value) => {
    const url = urlOrUndefined(value);
    return url === undefined || (url.username === '' && url.password === '');
  }, 'must not carry a user or password: set REDIS_USERNAME / REDIS_PASSWORD instead');

export const KAFKA_CONNECTION_SETTINGS = {
  /** Encrypt the connections to the brokers (their SSL or SASL_SSL listener). */
  KAFKA_TLS: flag.default(false),
  /** PEM file of the CA certificate(s) the brokers' certificates chain to; unset, Node's trusted CAs. */
  KAFKA_TLS_CA_FILE: z.string().optional(),
  /** Authenticate with SASL/SCRAM (the password never crosses the wire); unset, no SASL. */
  KAFKA_SASL_MECHANISM: z.enum(['scram-sha-512', 'scram-sha-256']).optional(),
  KAFKA_SASL_USERNAME: z.string().optional(),
  /** Secret. */
  KAFKA_SASL_PASSWORD: z.string().optional(),
};

export const REDIS_CONNECTION_SETTINGS = {
  /** `rediss://host:port` for TLS. */
  REDIS_URL: redisUrl.default('redis://127.0.0.1:6379'),
  /** An ACL user (Redis 6+); unset, AUTH with the password alone (`requirepass`). */
  REDIS_USERNAME: z.string().optional(),
  /** Secret. Sent with AUTH on every connection. */
  REDIS_PASSWORD: z.string().optional(),
  /** PEM file of the CA certificate(s) Redis's certificate chains to (rediss:// only); unset, Node's trusted CAs. */
  REDIS_TLS_CA_FILE: z.string().optional(),
};

type KafkaConnectionConfig = { NODE_ENV: string } & z.infer<z.ZodObject<typeof KAFKA_CONNECTION_SETTINGS>>;
type RedisConnectionConfig = { NODE_ENV: string } & z.infer<z.ZodObject<typeof REDIS_CONNECTION_SETTINGS>>;

/** What a Kafka client needs beyond the broker list; an absent part is not used (PLAINTEXT, no SASL). */
export interface KafkaConnection {
  tls?: { ca?: string[] };
  sasl?: { mechanism: 'scram-sha-512' | 'scram-sha-256'; username: string; password: string };
}

/** What a Redis client needs beyond its URL; `tls` is present exactly when the URL is rediss://. */
export interface RedisConnection {
  url: string;
  username?: string;
  password?: string;
  tls?: { ca?: string };
}

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/u;

/** The PEM text of a CA file, or a problem naming the variable (the path is not secret, the file's reason is). */
function readCaFile(variable: string, file: string, problems: string[]): string | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'unreadable';
    problems.push(`${variable}: cannot read ${file} (${code})`);
    return undefined;
  }
  if (!PEM_CERTIFICATE.test(text)) {
    problems.push(`${variable}: ${file} holds no PEM certificate (-----BEGIN CERTIFICATE-----)`);
    return undefined;
  }
  return text;
}

/** A password somebody typed rather than generated (decision 0020's rule for keys), in any NODE_ENV. */
function checkPassword(variable: string, password: string | undefined, problems: string[]): void {
  const weakness = password === undefined ? undefined : weakSecretProblem(password);
  if (weakness !== undefined) problems.push(`${variable}: ${weakness}`);
}

function throwIfAny(problems: string[]): void {
  if (problems.length > 0) throw new ConfigError(problems);
}

/**
 * The Kafka connection the settings describe, or ConfigError with every inconsistency: a SASL
 * setting without the others (a password set but silently unused is a misconfiguration), a CA
 * file without TLS, and in production SASL without TLS — SCRAM keeps the password off the wire
 * but the events (merchants' personal data) would still travel in clear.
 */
export function kafkaConnectionOf(config: KafkaConnectionConfig): KafkaConnection {
  const problems: string[] = [];
  checkPassword('KAFKA_SASL_PASSWORD', config.KAFKA_SASL_PASSWORD, problems);
  const {
    KAFKA_SASL_MECHANISM: mechanism,
    KAFKA_SASL_USERNAME: username,
    KAFKA_SASL_PASSWORD: password,
  } = config;
  if (mechanism !== undefined) {
    if (username === undefined)
      problems.push(`KAFKA_SASL_USERNAME: required with KAFKA_SASL_MECHANISM=${mechanism}`);
    if (password === undefined)
      problems.push(`KAFKA_SASL_PASSWORD: required with KAFKA_SASL_MECHANISM=${mechanism}`);
    if (config.NODE_ENV === 'production' && !config.KAFKA_TLS)
      problems.push(
        'KAFKA_TLS: must be true with KAFKA_SASL_MECHANISM in production (events would travel in clear)',
      );
  } else if (username !== undefined || password !== undefined) {
    problems.push(
      'KAFKA_SASL_MECHANISM: set it (scram-sha-512 or scram-sha-256) to use KAFKA_SASL_USERNAME/PASSWORD',
    );
  }
  let ca: string | undefined;
  if (config.KAFKA_TLS_CA_FILE !== undefined) {
    if (!config.KAFKA_TLS) problems.push('KAFKA_TLS_CA_FILE: set KAFKA_TLS=true too, or unset it');
    else ca = readCaFile('KAFKA_TLS_CA_FILE', config.KAFKA_TLS_CA_FILE, problems);
  }
  throwIfAny(problems);
  const connection: KafkaConnection = {};
  if (config.KAFKA_TLS) connection.tls = ca === undefined ? {} : { ca: [ca] };
  if (mechanism !== undefined && username !== undefined && password !== undefined)
    connection.sasl = { mechanism, username, password };
  return connection;
}

/**
 * The Redis connection the settings describe, or ConfigError: a user without a password, a CA
 * file with a redis:// URL, and in production a password over redis:// (AUTH sends it in clear).
 */
export function redisConnectionOf(config: RedisConnectionConfig): RedisConnection {
  const problems: string[] = [];
  checkPassword('REDIS_PASSWORD', config.REDIS_PASSWORD, problems);
  const tls = new URL(config.REDIS_URL).protocol === 'rediss:';
  if (config.REDIS_USERNAME !== undefined && config.REDIS_PASSWORD === undefined)
    problems.push('REDIS_PASSWORD: required with REDIS_USERNAME');
  if (config.REDIS_PASSWORD !== undefined && !tls && config.NODE_ENV === 'production')
    problems.push(
      'REDIS_URL: must be rediss:// with REDIS_PASSWORD in production (AUTH would send it in clear)',
    );
  let ca: string | undefined;
  if (config.REDIS_TLS_CA_FILE !== undefined) {
    if (!tls) problems.push('REDIS_TLS_CA_FILE: needs a rediss:// REDIS_URL, or unset it');
    else ca = readCaFile('REDIS_TLS_CA_FILE', config.REDIS_TLS_CA_FILE, problems);
  }
  throwIfAny(problems);
  return {
    url: config.REDIS_URL,
    ...(config.REDIS_USERNAME === undefined ? {} : { username: config.REDIS_USERNAME }),
    ...(config.REDIS_PASSWORD === undefined ? {} : { password: config.REDIS_PASSWORD }),
    ...(tls ? { tls: ca === undefined ? {} : { ca } } : {}),
  };
}
