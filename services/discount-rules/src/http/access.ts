/**
 * Who may call what. Operators only: admins change cards, rules and budgets; finance (and
 * transaction-settlement, with a finance token) may read them and the rate sheets. This
 * service holds no merchant keys, so a merchant key is never recognised here.
 */
import type { Request, Response } from 'express';
import { authenticate, requestIdOf } from '@puhui/http';
import { actorOf, requireOperator } from '@puhui/security';
import type { ServiceDependencies } from '@puhui/service';
import type { DiscountRulesConfig } from '../config';
import type { CommandContext } from '../commands/context';
import type { RateSheets } from '../commands/rate-sheets';

export interface Access {
  asAdmin: (request: Request, response: Response) => Promise<CommandContext>;
  asReader: (request: Request, response: Response) => Promise<CommandContext>;
}

export function accessFor(
  dependencies: ServiceDependencies<DiscountRulesConfig>,
  sheets: RateSheets,
): Access {
  const { pool, logger, config } = dependencies;
  const settings = {
    operatorTokenSecret: config.OPERATOR_TOKEN_SECRET,
    findMerchantKey: async () => undefined,
  };
  const as =
    (...roles: Array<'admin' | 'finance'>) =>
    async (request: Request, response: Response): Promise<CommandContext> => {
      const principal = await authenticate(request, settings);
      requireOperator(principal, ...roles);
      return {
        pool,
        logger,
        sheets,
        actor: actorOf(principal),
        requestId: requestIdOf(response),
      };
    };
  return { asAdmin: as('admin'), asReader: as('admin', 'finance') };
}
