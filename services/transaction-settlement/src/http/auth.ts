/**
 * Who calls settlement: merchants by API key (checked against the replica), operators by token.
 * Every merchant route here is the key's `checkout` scope: a `keys`-only key is refused. Merchant
 * staff (a person of the merchant, no key scope) read their merchant's checkouts and batches and
 * move no money: GET and HEAD only.
 */
import type { Request } from 'express';
import { DomainError, NotFound } from '@puhui/errors';
import { authenticate } from '@puhui/http';
import { requireMerchantScope } from '@puhui/security';
import type { OperatorTokenVerifier, Principal } from '@puhui/security';
import type { Pool } from '@puhui/postgres';
import { findMerchant, findWorkingKeyWithMerchant, holdsKeyWithMerchant } from '../store/replicas';
import type { MerchantReplica } from '../domain/merchant';

export interface SettlementAuth {
  /** The service's one operator token verifier (the console's JWKS). */
  verifyOperatorToken: OperatorTokenVerifier;
  principalOf: (request: Request) => Promise<Principal>;
  /** The calling merchant; an operator on a merchant-only route gets 404. */
  asMerchant: (request: Request) => Promise<MerchantReplica>;
  /** The calling merchant, which must be active: a suspended or terminated merchant moves no money. */
  asActiveMerchant: (request: Request) => Promise<MerchantReplica>;
}

export function requireActiveMerchant(merchant: MerchantReplica): void {
  if (merchant.status !== 'active') {
    throw new DomainError('forbidden', 'merchant_not_active', 'Forbidden', {
      detail: `This merchant is ${merchant.status} and moves no money.`,
      extensions: { current_status: merchant.status },
    });
  }
}

const isStaff = (principal: Principal) =>
  principal.kind === 'merchant' && principal.key_id.startsWith('staff:');
const READING_METHODS = new Set(['GET', 'HEAD']);

export function settlementAuth(pool: Pool, verifyOperatorToken: OperatorTokenVerifier): SettlementAuth {
  // The merchant read with the key, per request: asMerchant needs no second query.
  const merchantsByRequest = new WeakMap<Request, MerchantReplica>();
  const principalOf = async (request: Request): Promise<Principal> => {
    const principal = await authenticate(request, {
      verifyOperatorToken,
      findMerchantKey: async (hash) => {
        const found = await findWorkingKeyWithMerchant(pool, hash);
        if (found !== undefined) merchantsByRequest.set(request, found.merchant);
        return found;
      },
      replicaHoldsKey: (hash) => holdsKeyWithMerchant(pool, hash),
    });
    if (!(isStaff(principal) && READING_METHODS.has(request.method)))
      requireMerchantScope(principal, 'checkout');
    return principal;
  };
  const asMerchant = async (request: Request): Promise<MerchantReplica> => {
    const principal = await principalOf(request);
    if (principal.kind !== 'merchant') throw new NotFound('This route');
    const merchant = merchantsByRequest.get(request) ?? (await findMerchant(pool, principal.merchant_id));
    if (merchant === undefined) throw new NotFound('Merchant');
    return merchant;
  };
  return {
    verifyOperatorToken,
    principalOf,
    asMerchant,
    asActiveMerchant: async (request) => {
      const merchant = await asMerchant(request);
      requireActiveMerchant(merchant);
      return merchant;
    },
  };
}
