/**
 * The settings every service parses, and the platform secrets: a service declares the secrets
 * it uses (`serviceEnvironment({ secrets })`). Only those are parsed, so its code cannot read
 * another one by accident, and in production each of them must be set.
 */
import { z } from 'zod';
import { platformEnvironment, port } from '@puhui/config';
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

/** Whether `SERVICE_CREDENTIALS` parses; the message never repeats the value. */
function parsesAsServiceCredentials(text: string): boolean {
  try {
    return parseServiceCredentials(text).length > 0;
  } catch {
    return false;
  }
}

const SECRET_SCHEMAS = {
  /** AES-256-GCM key (32 bytes, base64) sealing account numbers; shared with settlement. */
  FIELD_ENCRYPTION_KEY: z.base64().default(DEVELOPMENT_FIELD_KEY),
  /** HMAC key for matching hashes of ID and account numbers. */
  IDENTITY_HASH_KEY: z.string().min(32).default(DEVELOPMENT_IDENTITY_HASH_KEY),
  /** HMAC key turning card numbers into card tokens; discount-rules and settlement share it. */
  CARD_TOKEN_KEY: z.string().min(32).default(DEVELOPMENT_CARD_TOKEN_KEY),
  /** HMAC key signing rate sheets in Redis (libs/cache signed values); discount-rules and settlement share it. */
  RATE_SHEET_SIGNING_KEY: z.string().min(32).default(DEVELOPMENT_RATE_SHEET_SIGNING_KEY),
  /** This service's own credential for calling another (settlement reading rate sheets): `svc_` + ≥ 32 characters. */
  SERVICE_CREDENTIAL: z
    .string()
    .regex(SERVICE_CREDENTIAL_PATTERN, 'must be svc_ and at least 32 more characters of [A-Za-z0-9_-]')
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
  IDENTITY_HASH_KEY: DEVELOPMENT_IDENTITY_HASH_KEY,
  CARD_TOKEN_KEY: DEVELOPMENT_CARD_TOKEN_KEY,
  RATE_SHEET_SIGNING_KEY: DEVELOPMENT_RATE_SHEET_SIGNING_KEY,
  SERVICE_CREDENTIAL: DEVELOPMENT_SERVICE_CREDENTIAL,
  SERVICE_CREDENTIALS: DEVELOPMENT_SERVICE_CREDENTIALS,
};

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

/** In production, every secret the service declared must be set: its development default is refused. */
export function refuseDevelopmentSecrets(config: ServiceConfig): void {
  if (config.NODE_ENV !== 'production') return;
  const defaulted = (Object.keys(DEVELOPMENT_SECRETS) as SecretName[]).filter(
    (name) => config[name] === DEVELOPMENT_SECRETS[name],
  );
  if (defaulted.length > 0)
    throw new Error(`Set ${defaulted.join(', ')}: development defaults are refused in production.`);
}
