/**
 * Who is calling and what they may see (DESIGN §8):
 * - people carry short-lived ES256 operator tokens the console signs (./operator-tokens);
 * - merchants carry secret API keys, shown once and stored as SHA-256 hashes;
 * - services carry a service credential with one narrow role (settlement reading rate sheets);
 * - sensitive fields (settlement account numbers, contacts' mobiles and names) are sealed with
 *   AES-256-GCM bound to their owner, and masked when shown (./mask).
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import type { MerchantKeyScope } from '@puhui/contracts';
import { Forbidden } from '@puhui/errors';

import type { OperatorRole } from './operator-tokens';

export * from './operator-tokens';
export * from './mask';

/** The narrow roles a service credential may hold: one per service-to-service call. */
export const SERVICE_ROLES = ['rate_sheet_reader'] as const;
export type ServiceRole = (typeof SERVICE_ROLES)[number];

/**
 * An operator is a person with admin, finance or auditor; merchant staff are a `merchant`
 * (key id `staff:<account id>`, no key scope); a `service` is another Puhui service.
 */
export type Principal =
  | { kind: 'operator'; subject: string; roles: readonly OperatorRole[] }
  | { kind: 'merchant'; merchant_id: string; key_id: string; scopes: readonly MerchantKeyScope[] }
  | { kind: 'service'; subject: string; roles: readonly ServiceRole[] };

/**
 * An operator holding one of `roles`. An auditor passes every role check: authenticate
 * (libs/http) admits an auditor on GET and HEAD only, so what it passes here is a read.
 */
export function requireOperator(principal: Principal, ...roles: OperatorRole[]): void {
  if (
    principal.kind !== 'operator' ||
    !(principal.roles.includes('auditor') || roles.some((role) => principal.roles.includes(role)))
  ) {
    throw new Forbidden(`This needs the ${roles.join(' or ')} role.`);
  }
}

/**
 * An operator holding one of `roles` themselves, the auditor's read-all not counting: for a GET
 * that hands over what moves money (the bank's payment file, with account numbers in the clear,
 * whose download makes its reader an exporter of the batch).
 */
export function requireActingOperator(principal: Principal, ...roles: OperatorRole[]): void {
  if (principal.kind !== 'operator' || !roles.some((role) => principal.roles.includes(role)))
    throw new Forbidden(`This needs the ${roles.join(' or ')} role; an auditor reads but does not export.`);
}

/** A service credential holding `role`; nothing else passes. */
export function requireService(principal: Principal, role: ServiceRole): void {
  if (principal.kind !== 'service' || !principal.roles.includes(role))
    throw new Forbidden(`This needs a service credential with the ${role} role.`);
}

/** A merchant key must hold `scope` (operators are checked by role, not here). */
export function requireMerchantScope(principal: Principal, scope: MerchantKeyScope): void {
  if (principal.kind === 'merchant' && !principal.scopes.includes(scope)) {
    throw new Forbidden(`This key lacks the ${scope} scope.`);
  }
}

/** Who did it, for audit trails: `operator:<account id>`, `merchant:<id>/<key id>` or `service:<name>`. */
export function actorOf(principal: Principal): string {
  switch (principal.kind) {
    case 'operator':
      return `operator:${principal.subject}`;
    case 'merchant':
      return `merchant:${principal.merchant_id}/${principal.key_id}`;
    case 'service':
      return `service:${principal.subject}`;
  }
}

/** Service credentials: `svc_` and at least 32 more characters, stored by the callee as SHA-256. */
export const SERVICE_CREDENTIAL_PREFIX = 'svc_';
export const SERVICE_CREDENTIAL_PATTERN = /^svc_[A-Za-z0-9_-]{32,}$/u;

export function looksLikeServiceCredential(token: string): boolean {
  return token.startsWith(SERVICE_CREDENTIAL_PREFIX);
}

/** SHA-256 hex of a service credential (the same hash as an API key's). */
export function hashServiceCredential(credential: string): string {
  return createHash('sha256').update(credential, 'utf8').digest('hex');
}

/**
 * Settlement's development credential for reading rate sheets; discount-rules' development
 * SERVICE_CREDENTIALS holds its hash. Both are refused when NODE_ENV=production.
 */
export const DEVELOPMENT_SERVICE_CREDENTIAL = 'svc_puhui-development-rate-sheet-reader-0001';
export const DEVELOPMENT_SERVICE_CREDENTIALS = `transaction-settlement:rate_sheet_reader:${hashServiceCredential(DEVELOPMENT_SERVICE_CREDENTIAL)}`;

/** A service credential the callee knows: whose it is, its role, and its hash. */
export interface KnownServiceCredential {
  service: string;
  role: ServiceRole;
  hash: string;
}

const KNOWN_CREDENTIAL = /^([a-z][a-z0-9-]*):([a-z_]+):([0-9a-f]{64})$/u;

/**
 * `SERVICE_CREDENTIALS`: a comma list of `<service>:<role>:<sha256 hex>`. Throws on an entry of
 * another shape or an unknown role, naming the entry's position (never its hash).
 */
export function parseServiceCredentials(text: string): KnownServiceCredential[] {
  return text
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '')
    .map((entry, index) => {
      const match = KNOWN_CREDENTIAL.exec(entry);
      const role = match?.[2];
      if (match === null || !(SERVICE_ROLES as readonly string[]).includes(role ?? ''))
        throw new Error(
          `entry ${index + 1} is not <service>:<role>:<sha256 hex> with a role of ${SERVICE_ROLES.join(', ')}`,
        );
      return { service: match[1] ?? '', role: role as ServiceRole, hash: match[3] ?? '' };
    });
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

/**
 * Sealed fields are `v2.<iv>.<tag>.<ciphertext>` (base64url parts), AES-256-GCM with the owner's
 * id (a merchant id, a console account id) as additional authenticated data: a value copied
 * onto another owner's row fails to open, as a tampered one does (decision 0016). `v1` values
 * were sealed without an owner; they are only opened by resealLegacyField, which the services'
 * boot steps run once over what they store, and refused everywhere else.
 */
const SEAL_VERSION = 'v2';
const LEGACY_SEAL_VERSION = 'v1';
const SEAL_IV_BYTES = 12;

/** Why a sealed field did not open; never the value or the key. */
export type UnsealableReason = 'not_sealed' | 'legacy_version' | 'authentication_failed';

/**
 * A sealed field that does not open: not a sealed value, a v1 value (re-seal it first), or one
 * whose key, owner or bytes differ from the sealing (tampered, pasted from another owner).
 * Callers map it to their own 409/422 problem: which one depends on what they were doing.
 */
export class FieldUnsealable extends Error {
  constructor(readonly reason: UnsealableReason) {
    super(`the sealed field does not open (${reason})`);
    this.name = 'FieldUnsealable';
  }
}

function encryptionKey(keyBase64: string): Buffer {
  const key = Buffer.from(keyBase64, 'base64');
  if (key.length !== 32) throw new Error('the field encryption key must be 32 bytes, base64-encoded');
  return key;
}

function ownerData(owner: string): Buffer {
  if (owner === '') throw new Error('a sealed field needs its owner (the AAD)');
  return Buffer.from(owner, 'utf8');
}

/** AES-256-GCM under `keyBase64`, bound to `owner`: `v2.<iv>.<tag>.<ciphertext>`. */
export function sealField(plaintext: string, keyBase64: string, owner: string): string {
  const iv = randomBytes(SEAL_IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', encryptionKey(keyBase64), iv);
  cipher.setAAD(ownerData(owner));
  const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return [SEAL_VERSION, iv, cipher.getAuthTag(), ciphertext]
    .map((part) => (typeof part === 'string' ? part : part.toString('base64url')))
    .join('.');
}

function decrypt(parts: string[], keyBase64: string, aad: Buffer | undefined): string {
  const [, iv, tag, ciphertext] = parts;
  if (iv === undefined || tag === undefined || ciphertext === undefined || parts.length !== 4)
    throw new FieldUnsealable('not_sealed');
  const key = encryptionKey(keyBase64);
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
    if (aad !== undefined) decipher.setAAD(aad);
    decipher.setAuthTag(Buffer.from(tag, 'base64url'));
    return Buffer.concat([decipher.update(Buffer.from(ciphertext, 'base64url')), decipher.final()]).toString(
      'utf8',
    );
  } catch {
    throw new FieldUnsealable('authentication_failed');
  }
}

/** The plaintext of a v2 value sealed for `owner`; FieldUnsealable otherwise (v1 included). */
export function openField(sealed: string, keyBase64: string, owner: string): string {
  const parts = sealed.split('.');
  if (parts[0] === LEGACY_SEAL_VERSION) throw new FieldUnsealable('legacy_version');
  if (parts[0] !== SEAL_VERSION) throw new FieldUnsealable('not_sealed');
  return decrypt(parts, keyBase64, ownerData(owner));
}

/** Whether a stored value is still of the v1 format (sealed without an owner). */
export function isLegacySealedField(sealed: string): boolean {
  return sealed.startsWith(`${LEGACY_SEAL_VERSION}.`);
}

/**
 * A v1 value opened (it has no owner to check) and sealed again as v2 for `owner`; a v2 value is
 * returned as it is once it opens for `owner`. Only the boot steps that upgrade stored values
 * call this: a v1 value is trusted as far as its row is, once, and never again.
 */
export function resealLegacyField(sealed: string, keyBase64: string, owner: string): string {
  if (!isLegacySealedField(sealed)) {
    openField(sealed, keyBase64, owner);
    return sealed;
  }
  return sealField(decrypt(sealed.split('.'), keyBase64, undefined), keyBase64, owner);
}

/** A development field key (32 zero-free bytes); services refuse it when NODE_ENV=production. */
export const DEVELOPMENT_FIELD_KEY = Buffer.from('puhui-development-field-key-0001', 'utf8').toString(
  'base64',
);

/** A development HMAC key for identity hashes; services refuse it when NODE_ENV=production. */
export const DEVELOPMENT_IDENTITY_HASH_KEY = 'puhui-development-identity-hash-key-0001';

/** A development HMAC key for card tokens; services refuse it when NODE_ENV=production. */
export const DEVELOPMENT_CARD_TOKEN_KEY = 'puhui-development-card-token-key-00001';

/** A development HMAC key for rate sheets in Redis; services refuse it when NODE_ENV=production. */
export const DEVELOPMENT_RATE_SHEET_SIGNING_KEY = 'puhui-development-rate-sheet-signing-key-01';
