/**
 * Who is calling: a person with an operator token the console signed (verified against its
 * JWKS), a merchant with a secret API key, or another service with a service credential.
 * Each service says how to find a merchant key (its own table, or a replica of it) and, when
 * it admits services, a service credential. Verified once per request, before its body is read
 * (decision 0018).
 */
import type { Request } from 'express';
import { NOT_YET_AVAILABLE_RETRY_AFTER_SECONDS, mayBeReplicating } from '@puhui/contracts';
import type { MerchantKeyScope } from '@puhui/contracts';
import { DomainError, NotYetAvailable, Unauthenticated } from '@puhui/errors';
import {
  actorOf,
  apiKeyCreatedAt,
  bearerCredential,
  hashApiKey,
  hashServiceCredential,
  looksLikeApiKey,
  looksLikeServiceCredential,
} from '@puhui/security';
import type { OperatorTokenVerifier, Principal, ServiceRole } from '@puhui/security';

type MerchantKey = { merchant_id: string; key_id: string; scopes: readonly MerchantKeyScope[] };

export interface AuthenticationSettings {
  /** Verifies operator tokens meant for this service; built once per service (operatorTokenVerifierFor). */
  verifyOperatorToken: OperatorTokenVerifier;
  /** The merchant owning a working key with this SHA-256 hash, or undefined. */
  findMerchantKey: (keyHash: string) => Promise<MerchantKey | undefined>;
  /**
   * For a service whose keys are a replica of merchant-onboarding's (settlement): whether the
   * replica holds the key and its merchant at all, working or not. A key it does not hold, minted
   * within REPLICATION_WINDOW_MS, may be on its way and answers `not_yet_available`, not 401.
   */
  replicaHoldsKey?: (keyHash: string) => Promise<boolean>;
  /**
   * For a service other services call (discount-rules): the service holding a credential with
   * this SHA-256 hash, and its roles. Without it every `svc_` credential is 401.
   */
  findServiceCredential?: (
    credentialHash: string,
  ) => Promise<{ service: string; roles: readonly ServiceRole[] } | undefined>;
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

/** An auditor reads everything and changes nothing: GET and HEAD only. */
class ReadOnlyRole extends DomainError {
  constructor() {
    super('forbidden', 'read_only_role', 'Forbidden', {
      detail: 'The auditor role reads and never changes anything.',
    });
  }
}

const READING_METHODS = new Set(['GET', 'HEAD']);

async function verifyOperator(
  request: Request,
  token: string,
  settings: AuthenticationSettings,
): Promise<Principal> {
  const operator = await settings.verifyOperatorToken(token);
  // Merchant staff see their merchant's data as the merchant, with no key scope: they move no money.
  if (operator.roles.includes('merchant_staff') && operator.merchantId !== undefined)
    return {
      kind: 'merchant',
      merchant_id: operator.merchantId,
      key_id: `staff:${operator.subject}`,
      scopes: [],
    };
  if (operator.roles.includes('auditor') && !READING_METHODS.has(request.method)) throw new ReadOnlyRole();
  return { kind: 'operator', subject: operator.subject, roles: operator.roles };
}

async function verifyService(credential: string, settings: AuthenticationSettings): Promise<Principal> {
  const found = await settings.findServiceCredential?.(hashServiceCredential(credential));
  if (found === undefined) throw new Unauthenticated('The service credential is unknown.');
  return { kind: 'service', subject: found.service, roles: found.roles };
}

async function verify(request: Request, settings: AuthenticationSettings): Promise<Principal> {
  const credential = bearerCredential(request.header('authorization'));
  if (credential === undefined) throw new Unauthenticated('Send Authorization: Bearer <token or API key>.');
  if (looksLikeServiceCredential(credential)) return verifyService(credential, settings);
  if (!looksLikeApiKey(credential)) return verifyOperator(request, credential, settings);
  const hash = hashApiKey(credential);
  const key = (await settings.findMerchantKey(hash)) ?? (await keyNotFound(credential, hash, settings));
  return { kind: 'merchant', merchant_id: key.merchant_id, key_id: key.key_id, scopes: key.scopes };
}

/** What each request was found to be: one verification per request (caller.ts, decision 0018). */
const principals = new WeakMap<Request, Promise<Principal>>();

/**
 * The request's caller, verified once: the service's caller check (ahead of the body parser)
 * verifies it, and a handler asking again gets the same answer. The principal is also named in
 * the request's log line (`response.locals.principal`, actorOf). One request is one caller, so
 * a second call with other settings still answers what the first found.
 */
export function authenticate(request: Request, settings: AuthenticationSettings): Promise<Principal> {
  const known = principals.get(request);
  if (known !== undefined) return known;
  const found = verify(request, settings).then((principal) => {
    const response = request.res;
    if (response !== undefined && typeof response.locals.principal !== 'string')
      response.locals.principal = actorOf(principal);
    return principal;
  });
  principals.set(request, found);
  return found;
}
