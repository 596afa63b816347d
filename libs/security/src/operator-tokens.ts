/**
 * Operator tokens (DESIGN §8): the console signs short-lived ES256 tokens for a signed-in person;
 * the services verify them against the console's JWKS and cannot mint them.
 *
 * Claims: `iss` puhui-console, `aud` the service the token is for (a development or test token may
 * name several), `sub` the account id, `roles`, `merchant_id` for merchant staff, `jti`, `iat` and
 * `exp` — at most OPERATOR_TOKEN_MAX_SECONDS apart. jose 5 (not 6): 6 is ESM-only and every
 * workspace here compiles to CommonJS, under Jest too.
 */
import { createPrivateKey, randomUUID, sign } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { createLocalJWKSet, createRemoteJWKSet, errors, jwtVerify } from 'jose';
import type { JSONWebKeySet, JWK, JWTVerifyGetKey } from 'jose';
import { z } from 'zod';
import { ServiceUnavailable, Unauthenticated } from '@puhui/errors';

export const OPERATOR_ROLES = ['admin', 'finance', 'auditor', 'merchant_staff'] as const;
export type OperatorRole = (typeof OPERATOR_ROLES)[number];

export const OPERATOR_TOKEN_ISSUER = 'puhui-console';
/** The longest a token may live (`exp - iat`), in seconds. */
export const OPERATOR_TOKEN_MAX_SECONDS = 300;
/** Clock difference between the console and a service that is still accepted. */
const CLOCK_TOLERANCE_SECONDS = 30;
const ALGORITHM = 'ES256';

/** An ES256 private key as a JWK, with its key id. */
export type SigningJwk = JWK & { kty: 'EC'; crv: 'P-256'; d: string; kid: string };

/**
 * The development signing key: the console signs with it and services trust it when nothing else
 * is configured. Both refuse it when NODE_ENV=production. Never protects real data.
 */
export const DEVELOPMENT_OPERATOR_SIGNING_KEY: SigningJwk = {
  kty: 'EC',
  crv: 'P-256',
  x: 'd9R-3rYIiSrnrNIT_gDEKPsr9XAczioXYDT8mVdF1QQ',
  y: '7zB6A-sylqUjm9Zh2ZCnZObJcpXyAOXPpB_noDJ4SkM',
  d: 'cuugcvRFOc6N8HtqdlOOE3M2tly9BMo3PDn8H2iyNaI',
  kid: 'puhui-development-2026-12',
  alg: ALGORITHM,
  use: 'sig',
};

/** The public half of a signing key, as published in the JWKS. */
export function publicJwk(key: SigningJwk): JWK {
  const { d: _private, ...rest } = key;
  return { ...rest, alg: ALGORITHM, use: 'sig' };
}

/** The JWKS that publishes these keys (current first, then those still valid for rotation). */
export function publicJwks(keys: readonly SigningJwk[]): JSONWebKeySet {
  return { keys: keys.map(publicJwk) };
}

export const DEVELOPMENT_OPERATOR_JWKS: JSONWebKeySet = publicJwks([DEVELOPMENT_OPERATOR_SIGNING_KEY]);

export interface OperatorTokenClaims {
  /** The account id. */
  subject: string;
  roles: readonly OperatorRole[];
  /** The merchant a merchant_staff account belongs to. */
  merchantId?: string;
  /** The service (registry name) the token is for; tools may name several. */
  audience: string | readonly string[];
  /** At most OPERATOR_TOKEN_MAX_SECONDS (the default). */
  ttlSeconds?: number;
}

const privateKeys = new Map<string, KeyObject>();

function privateKey(jwk: SigningJwk): KeyObject {
  const cacheKey = `${jwk.kid}:${jwk.x}`;
  let key = privateKeys.get(cacheKey);
  if (key === undefined) {
    key = createPrivateKey({ key: { ...jwk }, format: 'jwk' });
    privateKeys.set(cacheKey, key);
  }
  return key;
}

const base64url = (value: object): string => Buffer.from(JSON.stringify(value), 'utf8').toString('base64url');

/**
 * Signs a compact JWS. Synchronous (node:crypto, ECDSA P-256 with the raw r‖s signature JWS
 * wants), so that tests and tools mint tokens inline; verifying is jose's, below.
 */
export function signOperatorToken(claims: OperatorTokenClaims, key: SigningJwk): string {
  const ttl = claims.ttlSeconds ?? OPERATOR_TOKEN_MAX_SECONDS;
  if (!Number.isInteger(ttl) || ttl < 1 || ttl > OPERATOR_TOKEN_MAX_SECONDS)
    throw new RangeError(`an operator token lives 1 to ${OPERATOR_TOKEN_MAX_SECONDS} seconds, not ${ttl}`);
  const issuedAt = Math.floor(Date.now() / 1000);
  const payload = {
    iss: OPERATOR_TOKEN_ISSUER,
    sub: claims.subject,
    aud: typeof claims.audience === 'string' ? claims.audience : [...claims.audience],
    iat: issuedAt,
    exp: issuedAt + ttl,
    jti: randomUUID(),
    roles: [...claims.roles],
    ...(claims.merchantId === undefined ? {} : { merchant_id: claims.merchantId }),
  };
  const signingInput = `${base64url({ alg: ALGORITHM, kid: key.kid, typ: 'JWT' })}.${base64url(payload)}`;
  const signature = sign('sha256', Buffer.from(signingInput, 'ascii'), {
    key: privateKey(key),
    dsaEncoding: 'ieee-p1363',
  });
  return `${signingInput}.${signature.toString('base64url')}`;
}

/** Who an operator token speaks for, once verified. */
export interface VerifiedOperator {
  subject: string;
  roles: readonly OperatorRole[];
  merchantId?: string;
  tokenId: string;
}

const verifiedClaims = z
  .object({
    sub: z.string().min(1),
    jti: z.string().min(1),
    iat: z.number().int(),
    exp: z.number().int(),
    roles: z.array(z.enum(OPERATOR_ROLES)).min(1),
    merchant_id: z.string().min(1).optional(),
  })
  .refine((claims) => claims.exp - claims.iat <= OPERATOR_TOKEN_MAX_SECONDS, {
    message: `the token lives longer than ${OPERATOR_TOKEN_MAX_SECONDS} seconds`,
  })
  .refine((claims) => !(claims.roles.includes('admin') && claims.roles.includes('finance')), {
    message: 'one person is never admin and finance',
  })
  .refine(
    (claims) =>
      claims.roles.includes('merchant_staff')
        ? claims.roles.length === 1 && claims.merchant_id !== undefined
        : claims.merchant_id === undefined,
    { message: 'merchant staff carry their merchant_id and no other role' },
  );

/** Where a service finds the console's public keys. */
export type OperatorKeySource =
  | { jwks: JSONWebKeySet }
  | {
      url: URL;
      /** How long a fetched JWKS is used before it is fetched again. */
      cacheMaxAgeMs?: number;
      /** The least time between two fetches for an unknown `kid` (key rotation). */
      cooldownMs?: number;
      timeoutMs?: number;
    };

export type OperatorTokenVerifier = (token: string) => Promise<VerifiedOperator>;

function keySet(source: OperatorKeySource): JWTVerifyGetKey {
  if ('jwks' in source) return createLocalJWKSet(source.jwks);
  return createRemoteJWKSet(source.url, {
    cacheMaxAge: source.cacheMaxAgeMs ?? 10 * 60_000,
    cooldownDuration: source.cooldownMs ?? 30_000,
    timeoutDuration: source.timeoutMs ?? 2_000,
  });
}

/**
 * A fetch of the console's keys that failed says nothing about the token: 503, not 401 —
 * unreachable or timed out, an answer other than 200 or not JSON (jose's generic JOSEError), or
 * not a key set.
 */
function keysUnavailable(error: unknown): boolean {
  if (!(error instanceof errors.JOSEError)) return true;
  return (
    error instanceof errors.JWKSTimeout ||
    error instanceof errors.JWKSInvalid ||
    error.code === errors.JOSEError.code
  );
}

/**
 * Verifies operator tokens meant for `audience`: ES256 only, signed by a key of the source, from
 * the console, with `exp`, `iat`, `sub` and `jti`, living at most OPERATOR_TOKEN_MAX_SECONDS.
 * Anything else (an HS256 token of the old shared secret, no `exp`, `exp` in 2126) is 401.
 */
export function operatorTokenVerifier(
  source: OperatorKeySource,
  audience: string | readonly string[],
): OperatorTokenVerifier {
  const keys = keySet(source);
  return async (token) => {
    let payload: unknown;
    try {
      ({ payload } = await jwtVerify(token, keys, {
        algorithms: [ALGORITHM],
        issuer: OPERATOR_TOKEN_ISSUER,
        audience: typeof audience === 'string' ? audience : [...audience],
        requiredClaims: ['exp', 'iat', 'sub', 'jti'],
        clockTolerance: CLOCK_TOLERANCE_SECONDS,
      }));
    } catch (error) {
      if (keysUnavailable(error))
        throw new ServiceUnavailable(
          'operator_keys_unavailable',
          "The console's signing keys could not be fetched; try again shortly.",
          error,
        );
      throw new Unauthenticated('The bearer token is invalid or expired.');
    }
    const claims = verifiedClaims.safeParse(payload);
    if (!claims.success)
      throw new Unauthenticated(
        `The bearer token is not an operator token: ${claims.error.issues[0]?.message ?? 'bad claims'}.`,
      );
    const { sub, roles, merchant_id: merchantId, jti } = claims.data;
    return { subject: sub, roles, tokenId: jti, ...(merchantId === undefined ? {} : { merchantId }) };
  };
}

/**
 * The key development tools (`npm run token`, the demo, benches) sign with: the first of
 * CONSOLE_SIGNING_KEYS when set — the console's own, so the services trust it through its JWKS —
 * else the development key. Never for production: people get tokens from the console.
 */
export function toolSigningKey(environment: Record<string, string | undefined> = process.env): {
  key: SigningJwk;
  source: 'CONSOLE_SIGNING_KEYS' | 'development key';
} {
  const configured = environment.CONSOLE_SIGNING_KEYS;
  if (configured === undefined || configured.trim() === '')
    return { key: DEVELOPMENT_OPERATOR_SIGNING_KEY, source: 'development key' };
  const keys = JSON.parse(configured) as unknown;
  const first: unknown = Array.isArray(keys) ? keys[0] : undefined;
  const key = first as Partial<SigningJwk> | undefined;
  if (key?.kty !== 'EC' || key.crv !== 'P-256' || typeof key.d !== 'string' || typeof key.kid !== 'string')
    throw new Error('CONSOLE_SIGNING_KEYS must be a JSON array of private ES256 JWKs with kid');
  return { key: key as SigningJwk, source: 'CONSOLE_SIGNING_KEYS' };
}
