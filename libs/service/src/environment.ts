/**
 * The settings every service parses, and the platform secrets: a service declares the secrets
 * it uses (`serviceEnvironment({ secrets })`). Only those are parsed, so its code cannot read
 * another one by accident. Secrets fail closed (decision 0020): each is checked for its size and
 * against trivial values whatever NODE_ENV says, two of a service's secrets may not be equal,
 * and in production (which an unset NODE_ENV means) none may be left at a development default.
 */
import { z } from 'zod';
import { platformEnvironment, port, weakSecretProblem } from '@puhui/config';
import type { PlatformConfig } from '@puhui/config';
import {
  DEVELOPMENT_CARD_TOKEN_KEY,
  DEVELOPMENT_FIELD_KEY,
  DEVELOPMENT_IDENTITY_HASH_KEY,
  DEVELOPMENT_RATE_SHEET_SIGNING_KEY,
  DEVELOPMENT_SERVICE_CREDENTIAL,
  DEVELOPMENT_SERVICE_CREDENTIALS,
  SERVICE_CREDENTIAL_PATTERN,
  parseServiceCredentials,
} from '@puhui/security';

/**
 * The development keys of the three secrets decision 0020 split off (here rather than beside the
 * others in @puhui/security: only this file reads them). Refused in production like the others.
 */
export const DEVELOPMENT_IDEMPOTENCY_REQUEST_HASH_KEY = 'puhui-development-idempotency-request-hash-key-01';
export const DEVELOPMENT_CARD_HANDLE_KEY = 'puhui-development-merchant-card-handle-key-0001';
export const DEVELOPMENT_TOTP_SECRET_ENCRYPTION_KEY = Buffer.from(
  'puhui-development-totp-secret-01',
  'utf8',
).toString('base64');

/** HMAC-SHA256 keys are at least as long as the hash (RFC 2104 §3): 32 bytes. */
export const HMAC_KEY_BYTES_MIN = 32;
/** AES-256-GCM takes exactly 32 bytes. */
export const FIELD_KEY_BYTES = 32;
const GENERATE = 'generate one with `openssl rand -base64 32`';
/** Standard base64 with its padding, as `openssl rand -base64` writes it. */
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/u;

/** Whether `SERVICE_CREDENTIALS` parses; the message never repeats the value. */
function parsesAsServiceCredentials(text: string): boolean {
  try {
    return parseServiceCredentials(text).length > 0;
  } catch {
    return false;
  }
}

/** An HMAC key: at least 32 bytes of UTF-8 and not trivial. The messages never repeat the value. */
function hmacKey(developmentDefault: string) {
  return z
    .string()
    .superRefine((value, context) => {
      const bytes = Buffer.byteLength(value, 'utf8');
      if (bytes < HMAC_KEY_BYTES_MIN) {
        context.addIssue({
          code: 'custom',
          message: `must be at least ${HMAC_KEY_BYTES_MIN} bytes, not ${bytes}: ${GENERATE}`,
        });
        return;
      }
      const weak = weakSecretProblem(value);
      if (weak !== undefined) context.addIssue({ code: 'custom', message: `${weak}: ${GENERATE}` });
    })
    .default(developmentDefault);
}

/**
 * The AES-256-GCM field key: base64 that decodes to exactly 32 bytes, checked here rather than at
 * the first seal (a 5-byte key booted and the first merchant save answered 500).
 */
function fieldKey(developmentDefault: string) {
  return z
    .string()
    .superRefine((value, context) => {
      if (!BASE64.test(value)) {
        context.addIssue({ code: 'custom', message: `must be base64: ${GENERATE}` });
        return;
      }
      const key = Buffer.from(value, 'base64');
      if (key.length !== FIELD_KEY_BYTES) {
        context.addIssue({
          code: 'custom',
          message: `must decode to exactly ${FIELD_KEY_BYTES} bytes (AES-256), not ${key.length}: ${GENERATE}`,
        });
        return;
      }
      const weak = weakSecretProblem(key);
      if (weak !== undefined)
        context.addIssue({ code: 'custom', message: `decodes to bytes that ${weak}: ${GENERATE}` });
    })
    .default(developmentDefault);
}

const SECRET_SCHEMAS = {
  /** AES-256-GCM key (32 bytes, base64) sealing account numbers; shared with settlement. */
  FIELD_ENCRYPTION_KEY: fieldKey(DEVELOPMENT_FIELD_KEY),
  /**
   * AES-256-GCM key (32 bytes, base64) sealing the console's TOTP secrets: not FIELD_ENCRYPTION_KEY,
   * so that the console holds no key that opens a merchant's account number.
   */
  TOTP_SECRET_ENCRYPTION_KEY: fieldKey(DEVELOPMENT_TOTP_SECRET_ENCRYPTION_KEY),
  /** HMAC key for matching hashes of ID and account numbers (merchant-onboarding). */
  IDENTITY_HASH_KEY: hmacKey(DEVELOPMENT_IDENTITY_HASH_KEY),
  /**
   * HMAC key of idempotency request hashes (libs/idempotency: the same key with another body is
   * refused); its own key, so that its hashes tell nothing about identity hashes and back.
   */
  IDEMPOTENCY_REQUEST_HASH_KEY: hmacKey(DEVELOPMENT_IDEMPOTENCY_REQUEST_HASH_KEY),
  /** HMAC key turning card numbers into card tokens; discount-rules and settlement share it. */
  CARD_TOKEN_KEY: hmacKey(DEVELOPMENT_CARD_TOKEN_KEY),
  /**
   * HMAC key of the card handles a merchant sees instead of the card token (settlement only): not
   * CARD_TOKEN_KEY, so that the key every card token hangs on serves that one purpose.
   */
  CARD_HANDLE_KEY: hmacKey(DEVELOPMENT_CARD_HANDLE_KEY),
  /** HMAC key signing rate sheets in Redis (libs/cache signed values); discount-rules and settlement share it. */
  RATE_SHEET_SIGNING_KEY: hmacKey(DEVELOPMENT_RATE_SHEET_SIGNING_KEY),
  /** This service's own credential for calling another (settlement reading rate sheets): `svc_` + ≥ 32 characters. */
  SERVICE_CREDENTIAL: z
    .string()
    .regex(SERVICE_CREDENTIAL_PATTERN, 'must be svc_ and at least 32 more characters of [A-Za-z0-9_-]')
    .superRefine((value, context) => {
      const weak = SERVICE_CREDENTIAL_PATTERN.test(value)
        ? weakSecretProblem(value.slice('svc_'.length))
        : undefined;
      if (weak !== undefined) context.addIssue({ code: 'custom', message: `after svc_ ${weak}` });
    })
    .default(DEVELOPMENT_SERVICE_CREDENTIAL),
  /** The credentials other services call this one with: comma list of `<service>:<role>:<sha256 hex>`. */
  SERVICE_CREDENTIALS: z
    .string()
    .refine(parsesAsServiceCredentials, 'must be a comma list of <service>:<role>:<sha256 hex>')
    .default(DEVELOPMENT_SERVICE_CREDENTIALS),
};
export type SecretName = keyof typeof SECRET_SCHEMAS;

/** The defaults above: they work on a developer machine and must never protect production data. */
const DEVELOPMENT_SECRETS: Readonly<Record<SecretName, string>> = {
  FIELD_ENCRYPTION_KEY: DEVELOPMENT_FIELD_KEY,
  TOTP_SECRET_ENCRYPTION_KEY: DEVELOPMENT_TOTP_SECRET_ENCRYPTION_KEY,
  IDENTITY_HASH_KEY: DEVELOPMENT_IDENTITY_HASH_KEY,
  IDEMPOTENCY_REQUEST_HASH_KEY: DEVELOPMENT_IDEMPOTENCY_REQUEST_HASH_KEY,
  CARD_TOKEN_KEY: DEVELOPMENT_CARD_TOKEN_KEY,
  CARD_HANDLE_KEY: DEVELOPMENT_CARD_HANDLE_KEY,
  RATE_SHEET_SIGNING_KEY: DEVELOPMENT_RATE_SHEET_SIGNING_KEY,
  SERVICE_CREDENTIAL: DEVELOPMENT_SERVICE_CREDENTIAL,
  SERVICE_CREDENTIALS: DEVELOPMENT_SERVICE_CREDENTIALS,
};
const SECRET_NAMES = Object.keys(SECRET_SCHEMAS) as SecretName[];

export interface ServiceConfig extends PlatformConfig, Partial<Record<SecretName, string>> {
  PORT: number;
  DATABASE_NAME: string;
  MERCHANT_RATE_LIMIT_PER_SECOND: number;
  OPERATOR_JWKS_URL?: string;
}

/** The platform settings, the two every service sets its own default for, and its secrets. */
export function serviceEnvironment<Secret extends SecretName = never>(defaults: {
  port: number;
  databaseName: string;
  /** The platform secrets the service uses; only these are parsed. */
  secrets?: readonly Secret[];
}) {
  const secrets = Object.fromEntries(
    (defaults.secrets ?? []).map((name) => [name, SECRET_SCHEMAS[name]]),
  ) as Pick<typeof SECRET_SCHEMAS, Secret>;
  return platformEnvironment.extend({
    PORT: port.default(defaults.port),
    DATABASE_NAME: z
      .string()
      .regex(/^[a-z_][a-z0-9_]{0,62}$/u)
      .default(defaults.databaseName),
    /** Requests per second each merchant secret key may make (then 429 with Retry-After). */
    MERCHANT_RATE_LIMIT_PER_SECOND: z.coerce.number().int().positive().default(500),
    /**
     * The console's JWKS (`<console>/.well-known/jwks.json`): the keys operator tokens are
     * verified with. Unset, a developer machine trusts the development key; production refuses
     * to start a service that verifies operator tokens without it (operatorTokenVerifierFor).
     */
    OPERATOR_JWKS_URL: z.url().optional(),
    ...secrets,
  });
}

/**
 * The boot check of the secrets a service declared (startService runs it before it touches
 * anything). In production — NODE_ENV=production, or NODE_ENV unset — every one must be set and
 * none may be any development default (they are in this repository); whatever NODE_ENV says, no
 * two may be equal, since one key per purpose is the point of having several. Each variable's own
 * size and strength were checked when the configuration was parsed. Messages name variables,
 * never values.
 */
export function refuseUnsafeSecrets(config: ServiceConfig): void {
  const declared = SECRET_NAMES.filter((name) => config[name] !== undefined);
  const problems: string[] = [];
  if (config.NODE_ENV === 'production') {
    const developmentValues = new Set(Object.values(DEVELOPMENT_SECRETS));
    const defaulted = declared.filter((name) => developmentValues.has(config[name] as string));
    if (defaulted.length > 0)
      problems.push(
        `Set ${defaulted.join(', ')}: development defaults are refused in production ` +
          '(NODE_ENV=production, which an unset NODE_ENV means; a developer machine says NODE_ENV=development).',
      );
  }
  const namesByValue = new Map<string, SecretName[]>();
  for (const name of declared) {
    const value = config[name] as string;
    namesByValue.set(value, [...(namesByValue.get(value) ?? []), name]);
  }
  for (const names of namesByValue.values())
    if (names.length > 1)
      problems.push(`${names.join(' and ')} have the same value: each purpose needs its own key.`);
  if (config.METRICS_SCRAPE_TOKEN_PREVIOUS !== undefined && config.METRICS_SCRAPE_TOKEN === undefined)
    problems.push(
      'METRICS_SCRAPE_TOKEN_PREVIOUS is set without METRICS_SCRAPE_TOKEN: it is the old token of a rotation, ' +
        'admitted beside the new one; set METRICS_SCRAPE_TOKEN to the new token.',
    );
  if (problems.length > 0) throw new Error(problems.join(' '));
}
