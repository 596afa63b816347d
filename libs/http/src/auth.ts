/**
 * Who is calling: an operator with a bearer token, or a merchant with a secret API key.
 * Each service says how to find a merchant key (its own table, or a replica of it).
 */
import type { Request } from 'express';
import { Unauthenticated } from '@puhui/errors';
import { bearerCredential, hashApiKey, looksLikeApiKey, verifyOperatorToken } from '@puhui/security';
import type { MerchantKeyScope } from '@puhui/contracts';
import type { Principal } from '@puhui/security';

export interface AuthenticationSettings {
  operatorTokenSecret: string;
  /** The merchant owning a working key with this SHA-256 hash, or undefined. */
  findMerchantKey: (
    keyHash: string,
  ) => Promise<{ merchant_id: string; key_id: string; scopes: readonly MerchantKeyScope[] } | undefined>;
}

export async function authenticate(request: Request, settings: AuthenticationSettings): Promise<Principal> {
  const credential = bearerCredential(request.header('authorization'));
  if (credential === undefined) throw new Unauthenticated('Send Authorization: Bearer <token or API key>.');
  if (!looksLikeApiKey(credential)) return verifyOperatorToken(credential, settings.operatorTokenSecret);
  const key = await settings.findMerchantKey(hashApiKey(credential));
  if (key === undefined) throw new Unauthenticated('The API key is unknown, revoked or expired.');
  return { kind: 'merchant', merchant_id: key.merchant_id, key_id: key.key_id, scopes: key.scopes };
}
