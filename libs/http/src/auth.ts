/**
 * Who is calling: an operator with a bearer token, or a merchant with a secret API key.
 * Each service says how to find a merchant key (its own table, or a replica of it).
 */
import type { Request } from 'express';
import { NOT_YET_AVAILABLE_RETRY_AFTER_SECONDS, mayBeReplicating } from '@puhui/contracts';
import type { MerchantKeyScope } from '@puhui/contracts';
import { NotYetAvailable, Unauthenticated } from '@puhui/errors';
import {
  DEVELOPMENT_OPERATOR_JWKS,
  apiKeyCreatedAt,
  bearerCredential,
  hashApiKey,
  looksLikeApiKey,
  operatorTokenVerifier,
  verifyOperatorToken,
} from '@puhui/security';
import type { Principal } from '@puhui/security';

type MerchantKey = { merchant_id: string; key_id: string; scopes: readonly MerchantKeyScope[] };

export interface AuthenticationSettings {
  operatorTokenSecret: string;
  /** The merchant owning a working key with this SHA-256 hash, or undefined. */
  findMerchantKey: (keyHash: string) => Promise<MerchantKey | undefined>;
  /**
   * For a service whose keys are a replica of merchant-onboarding's (settlement): whether the
   * replica holds the key and its merchant at all, working or not. A key it does not hold, minted
   * within REPLICATION_WINDOW_MS, may be on its way and answers `not_yet_available`, not 401.
   */
  replicaHoldsKey?: (keyHash: string) => Promise<boolean>;
}

/**
 * A key not found working: `not_yet_available` while a replica may still be receiving it, else
 * 401. One the replica received between the two reads is read again, not refused.
 */
async function keyNotFound(credential: string, hash: string, settings: AuthenticationSettings) {
  const holds = settings.replicaHoldsKey;
  if (holds !== undefined && mayBeReplicating(apiKeyCreatedAt(credential))) {
    if (!(await holds(hash)))
      throw new NotYetAvailable('This API key', NOT_YET_AVAILABLE_RETRY_AFTER_SECONDS);
    const arrived = await settings.findMerchantKey(hash);
    if (arrived !== undefined) return arrived;
  }
  throw new Unauthenticated('The API key is unknown, revoked or expired.');
}

/** TRANSITIONAL (issue 16, until every service verifies against the console's JWKS only). */
const developmentVerifier = operatorTokenVerifier({ jwks: DEVELOPMENT_OPERATOR_JWKS }, [
  'merchant-onboarding',
  'discount-rules',
  'transaction-settlement',
]);

function isEs256(token: string): boolean {
  try {
    const header: unknown = JSON.parse(Buffer.from(token.split('.')[0] ?? '', 'base64url').toString('utf8'));
    return typeof header === 'object' && header !== null && (header as { alg?: unknown }).alg === 'ES256';
  } catch {
    return false;
  }
}

async function verifyOperator(credential: string, settings: AuthenticationSettings): Promise<Principal> {
  if (!isEs256(credential)) return verifyOperatorToken(credential, settings.operatorTokenSecret);
  const operator = await developmentVerifier(credential);
  if (operator.roles.includes('merchant_staff'))
    throw new Unauthenticated('Merchant staff tokens are not accepted yet.');
  return {
    kind: 'operator',
    subject: operator.subject,
    roles: operator.roles.filter((role) => role === 'admin' || role === 'finance'),
  };
}

export async function authenticate(request: Request, settings: AuthenticationSettings): Promise<Principal> {
  const credential = bearerCredential(request.header('authorization'));
  if (credential === undefined) throw new Unauthenticated('Send Authorization: Bearer <token or API key>.');
  if (!looksLikeApiKey(credential)) return verifyOperator(credential, settings);
  const hash = hashApiKey(credential);
  const key = (await settings.findMerchantKey(hash)) ?? (await keyNotFound(credential, hash, settings));
  return { kind: 'merchant', merchant_id: key.merchant_id, key_id: key.key_id, scopes: key.scopes };
}
