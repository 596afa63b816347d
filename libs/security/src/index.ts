/**
 * Who is calling and what they may see (DESIGN §8):
 * - operators (admin, finance) carry HS256 bearer tokens with roles;
 * - merchants carry secret API keys, shown once and stored as SHA-256 hashes;
 * - sensitive fields (settlement account numbers) are sealed with AES-256-GCM.
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { z } from 'zod';
import type { MerchantKeyScope } from '@puhui/contracts';
import { Forbidden, Unauthenticated } from '@puhui/errors';

import { OPERATOR_ROLES } from './operator-tokens';
import type { OperatorRole } from './operator-tokens';

export * from './operator-tokens';

export type Principal =
  | { kind: 'operator'; subject: string; roles: readonly OperatorRole[] }
  | { kind: 'merchant'; merchant_id: string; key_id: string; scopes: readonly MerchantKeyScope[] };

const TOKEN_ISSUER = 'puhui';
const TOKEN_AUDIENCE = 'puhui-api';
const tokenClaims = z.object({
  sub: z.string().min(1),
  roles: z.array(z.enum(OPERATOR_ROLES)).min(1),
});

/** A development token secret; services refuse it when NODE_ENV=production. */
export const DEVELOPMENT_TOKEN_SECRET = 'puhui-development-token-secret-change-me-in-production';

export function mintOperatorToken(
  settings: { subject: string; roles: readonly OperatorRole[]; ttlSeconds: number },
  secret: string,
): string {
  return jwt.sign({ roles: settings.roles }, secret, {
    algorithm: 'HS256',
    subject: settings.subject,
    issuer: TOKEN_ISSUER,
    audience: TOKEN_AUDIENCE,
    expiresIn: settings.ttlSeconds,
  });
}

export function verifyOperatorToken(token: string, secret: string): Principal {
  let payload: unknown;
  try {
    payload = jwt.verify(token, secret, {
      algorithms: ['HS256'],
      issuer: TOKEN_ISSUER,
      audience: TOKEN_AUDIENCE,
    });
  } catch {
    throw new Unauthenticated('The bearer token is invalid or expired.');
  }
  const claims = tokenClaims.safeParse(payload);
  if (!claims.success) throw new Unauthenticated('The bearer token carries no operator roles.');
  return { kind: 'operator', subject: claims.data.sub, roles: claims.data.roles };
}

export function requireOperator(principal: Principal, ...roles: OperatorRole[]): void {
  if (principal.kind !== 'operator' || !roles.some((role) => principal.roles.includes(role))) {
    throw new Forbidden(`This needs the ${roles.join(' or ')} role.`);
  }
}

/** A merchant key must hold `scope` (operators are checked by role, not here). */
export function requireMerchantScope(principal: Principal, scope: MerchantKeyScope): void {
  if (principal.kind === 'merchant' && !principal.scopes.includes(scope)) {
    throw new Forbidden(`This key lacks the ${scope} scope.`);
  }
}

/** Who did it, for audit trails: `operator:<subject>` or `merchant:<id>/<key id>`. */
export function actorOf(principal: Principal): string {
  return principal.kind === 'operator'
    ? `operator:${principal.subject}`
    : `merchant:${principal.merchant_id}/${principal.key_id}`;
}

export const API_KEY_PREFIX = 'sk_live_';
const API_KEY_SECRET_BYTES = 32;
/**
 * The last bytes of a key's 32 carry the time it was minted (ms, 48 bits), so that a service
 * holding a replica of the keys can tell a key created a moment ago from a wrong one; the first
 * 26 (208 bits) are random, the visible prefix among them.
 */
const API_KEY_TIME_BYTES = 6;
/** Characters of the key kept visible for support ("sk_live_Ab3dE6"). */
const API_KEY_VISIBLE_LENGTH = API_KEY_PREFIX.length + 6;

export interface NewApiKey {
  /** The whole secret: returned to the merchant once, never stored. */
  secret: string;
  /** The first characters, stored and shown so support can tell keys apart. */
  prefix: string;
  /** SHA-256 of the secret. A key has 208 random bits, so a fast hash is enough. */
  hash: string;
}

export function generateApiKey(now: number = Date.now()): NewApiKey {
  const time = Buffer.alloc(API_KEY_TIME_BYTES);
  time.writeUIntBE(now, 0, API_KEY_TIME_BYTES);
  const bytes = Buffer.concat([randomBytes(API_KEY_SECRET_BYTES - API_KEY_TIME_BYTES), time]);
  const secret = `${API_KEY_PREFIX}${bytes.toString('base64url')}`;
  return { secret, prefix: secret.slice(0, API_KEY_VISIBLE_LENGTH), hash: hashApiKey(secret) };
}

export function hashApiKey(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

/** When a key of generateApiKey's shape says it was minted (ms); undefined for another string. */
export function apiKeyCreatedAt(secret: string): number | undefined {
  const body = secret.slice(API_KEY_PREFIX.length);
  if (!looksLikeApiKey(secret) || !/^[A-Za-z0-9_-]{43}$/u.test(body)) return undefined;
  const bytes = Buffer.from(body, 'base64url');
  return bytes.readUIntBE(API_KEY_SECRET_BYTES - API_KEY_TIME_BYTES, API_KEY_TIME_BYTES);
}

export function looksLikeApiKey(token: string): boolean {
  return token.startsWith(API_KEY_PREFIX);
}

/** The bearer credential of an `Authorization` header, or undefined. */
export function bearerCredential(header: string | undefined): string | undefined {
  const match = /^Bearer\s+(\S+)\s*$/iu.exec(header ?? '');
  return match?.[1];
}

const SEAL_VERSION = 'v1';
const SEAL_IV_BYTES = 12;

function encryptionKey(keyBase64: string): Buffer {
  const key = Buffer.from(keyBase64, 'base64');
  if (key.length !== 32) throw new Error('the field encryption key must be 32 bytes, base64-encoded');
  return key;
}

/** AES-256-GCM: `v1.<iv>.<tag>.<ciphertext>`, base64url parts. Tampering fails to open. */
export function sealField(plaintext: string, keyBase64: string): string {
  const iv = randomBytes(SEAL_IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', encryptionKey(keyBase64), iv);
  const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return [SEAL_VERSION, iv, cipher.getAuthTag(), ciphertext]
    .map((part) => (typeof part === 'string' ? part : part.toString('base64url')))
    .join('.');
}

export function openField(sealed: string, keyBase64: string): string {
  const [version, iv, tag, ciphertext] = sealed.split('.');
  if (version !== SEAL_VERSION || iv === undefined || tag === undefined || ciphertext === undefined) {
    throw new Error('not a sealed field');
  }
  const decipher = createDecipheriv('aes-256-gcm', encryptionKey(keyBase64), Buffer.from(iv, 'base64url'));
  decipher.setAuthTag(Buffer.from(tag, 'base64url'));
  return Buffer.concat([decipher.update(Buffer.from(ciphertext, 'base64url')), decipher.final()]).toString(
    'utf8',
  );
}

/** A development field key (32 zero-free bytes); services refuse it when NODE_ENV=production. */
export const DEVELOPMENT_FIELD_KEY = Buffer.from('puhui-development-field-key-0001', 'utf8').toString(
  'base64',
);

/** A development HMAC key for identity hashes; services refuse it when NODE_ENV=production. */
export const DEVELOPMENT_IDENTITY_HASH_KEY = 'puhui-development-identity-hash-key-0001';

/** A development HMAC key for card tokens; services refuse it when NODE_ENV=production. */
export const DEVELOPMENT_CARD_TOKEN_KEY = 'puhui-development-card-token-key-00001';
