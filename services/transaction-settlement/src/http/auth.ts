/** Who calls settlement: merchants by API key (checked against the replica), operators by token. */
import type { Request } from 'express';
import { NotFound } from '@puhui/errors';
import { authenticate } from '@puhui/http';
import type { Principal } from '@puhui/security';
import type { Pool } from '@puhui/postgres';
import { findMerchant, findWorkingKeyWithMerchant } from '../store/replicas';
import type { MerchantReplica } from '../store/replicas';

export interface SettlementAuth {
  principalOf: (request: Request) => Promise<Principal>;
  /** The calling merchant; an operator on a merchant-only route gets 404. */
  asMerchant: (request: Request) => Promise<MerchantReplica>;
}

export function settlementAuth(pool: Pool, operatorTokenSecret: string): SettlementAuth {
  // The merchant read with the key, per request: asMerchant needs no second query.
  const merchantsByRequest = new WeakMap<Request, MerchantReplica>();
  const principalOf = (request: Request): Promise<Principal> =>
    authenticate(request, {
      operatorTokenSecret,
      findMerchantKey: async (hash) => {
        const found = await findWorkingKeyWithMerchant(pool, hash);
        if (found !== undefined) merchantsByRequest.set(request, found.merchant);
        return found;
      },
    });
  return {
    principalOf,
    asMerchant: async (request) => {
      const principal = await principalOf(request);
      if (principal.kind !== 'merchant') throw new NotFound('This route');
      const merchant = merchantsByRequest.get(request) ?? (await findMerchant(pool, principal.merchant_id));
      if (merchant === undefined) throw new NotFound('Merchant');
      return merchant;
    },
  };
}
