/**
 * Who may call what. Operators only: admins change cards, rules and budgets; finance and auditors
 * may read them. A rate sheet is also read by transaction-settlement with its service credential
 * (role rate_sheet_reader), which no other route admits. This service holds no merchant keys, so
 * a merchant key (or merchant staff) is never recognised here.
 */
import type { Request, Response } from 'express';
import { authenticate, requestIdOf } from '@puhui/http';
import { actorOf, parseServiceCredentials, requireOperator, requireService } from '@puhui/security';
import type { Principal, ServiceRole } from '@puhui/security';
import { operatorTokenVerifierFor } from '@puhui/service';
import type { ServiceDependencies } from '@puhui/service';
import type { DiscountRulesConfig } from '../config';
import type { CheckerInRequest, CommandContext } from '../commands/context';
import { checkerOf } from '@puhui/dual-control';
import type { DualControl } from '@puhui/dual-control';
import type { RateSheets } from '../commands/rate-sheets';

export interface Access {
  /** Who calls, verified once: the caller check run before any body is read (decision 0018). */
  caller: (request: Request) => Promise<Principal>;
  asAdmin: (request: Request, response: Response) => Promise<CommandContext>;
  asReader: (request: Request, response: Response) => Promise<CommandContext>;
  /** An admin deciding (or reading) approval requests. */
  asChecker: (request: Request) => Promise<CheckerInRequest>;
  /** The rate sheet: readers, or a service holding rate_sheet_reader. */
  asRateSheetReader: (request: Request, response: Response) => Promise<CommandContext>;
}

/** SERVICE_CREDENTIALS by hash: who holds each, with which roles. */
function serviceCredentialsOf(config: DiscountRulesConfig) {
  const byHash = new Map<string, { service: string; roles: ServiceRole[] }>();
  for (const { service, role, hash } of parseServiceCredentials(config.SERVICE_CREDENTIALS)) {
    const known = byHash.get(hash);
    if (known === undefined) byHash.set(hash, { service, roles: [role] });
    else known.roles.push(role);
  }
  return byHash;
}

export function accessFor(
  dependencies: ServiceDependencies<DiscountRulesConfig>,
  sheets: RateSheets,
  dualControl: DualControl,
): Access {
  const { pool, logger, config } = dependencies;
  const services = serviceCredentialsOf(config);
  const settings = {
    verifyOperatorToken: operatorTokenVerifierFor(config, 'discount-rules'),
    findMerchantKey: async () => undefined,
    findServiceCredential: async (hash: string) => services.get(hash),
  };
  const contextOf = (principal: Principal, response: Response): CommandContext => ({
    pool,
    logger,
    sheets,
    actor: actorOf(principal),
    requestId: requestIdOf(response),
    operator: principal.kind === 'operator' ? checkerOf(principal) : null,
    dualControl,
  });
  const as =
    (...roles: Array<'admin' | 'finance'>) =>
    async (request: Request, response: Response): Promise<CommandContext> => {
      const principal = await authenticate(request, settings);
      requireOperator(principal, ...roles);
      return contextOf(principal, response);
    };
  return {
    caller: (request) => authenticate(request, settings),
    asAdmin: as('admin'),
    asReader: as('admin', 'finance'),
    asChecker: async (request) => {
      const principal = await authenticate(request, settings);
      requireOperator(principal, 'admin');
      return {
        ...checkerOf(principal),
        requestId: request.res === undefined ? null : requestIdOf(request.res),
      };
    },
    asRateSheetReader: async (request, response) => {
      const principal = await authenticate(request, settings);
      if (principal.kind === 'service') requireService(principal, 'rate_sheet_reader');
      else requireOperator(principal, 'admin', 'finance');
      return contextOf(principal, response);
    },
  };
}
