/** Who calls settlement: merchants by API key (checked against the replica), operators by token. */
import type { Request } from 'express';
import { NotFound } from '@puhui/errors';
import { authenticate } from '@puhui/http';
import type { Principal } from '@puhui/security';
import type { Pool } from '@puhui/postgres';
import { findMerchant, findWorkingKey } from '../store/replicas';
import type { MerchantReplica } from '../store/replicas';

export interface SettlementAuth {
  principalOf: (request: Request) => Promise<Principal>;
  /** The calling merchant; an operator on a merchant-only route gets 404. */
  asMerchant: (request: Request) => Promise<MerchantReplica>;
}

export function settlementAuth(pool: Pool, operatorTokenSecret: string): SettlementAuth {
  const principalOf = (request: Request): Promise<Principal> =>
    authenticate(request, { operatorTokenSecret, findMerchantKey: (hash) => findWorkingKey(pool, hash) });
  return {
    principalOf,
    asMerchant: async (request) => {
      const principal = await principalOf(request);
      if (principal.kind !== 'merchant') throw new NotFound('This route');
      const merchant = await findMerchant(pool, principal.merchant_id);
      if (merchant === undefined) throw new NotFound('Merchant');
      return merchant;
    },
  };
}
