/**
 * Who may call what. Operators with role `admin` manage every merchant; a merchant's API key
 * sees only its own record and keys (any other id is 404), and manages keys only with the
 * `keys` scope.
 */
import type { Request, Response } from 'express';
import { NotFound } from '@puhui/errors';
import { authenticate, requestIdOf } from '@puhui/http';
import { actorOf, requireMerchantScope, requireOperator } from '@puhui/security';
import type { Principal } from '@puhui/security';
import { operatorTokenVerifierFor } from '@puhui/service';
import type { ServiceDependencies } from '@puhui/service';
import type { MerchantOnboardingConfig } from '../config';
import type { CheckerInRequest, CommandContext } from '../commands/context';
import { checkerOf } from '@puhui/dual-control';
import type { DualControl } from '@puhui/dual-control';
import { findWorkingApiKeyByHash } from '../store/api-keys';

export interface Access {
  /** Who calls, verified once: the caller check run before any body is read (decision 0018). */
  caller: (request: Request) => Promise<Principal>;
  asAdmin: (request: Request, response: Response) => Promise<CommandContext>;
  /** An admin deciding (or reading) approval requests. */
  asChecker: (request: Request) => Promise<CheckerInRequest>;
  /** Admins, or the merchant itself; another merchant's id is "not found", not "forbidden". */
  asAdminOrOwner: (request: Request, response: Response, merchantId: string) => Promise<CommandContext>;
  /** Key management: admins, or the merchant with a key holding the `keys` scope. */
  asKeyManager: (
    request: Request,
    response: Response,
    merchantId: string,
  ) => Promise<{ principal: Principal; context: CommandContext }>;
}

export function accessFor(
  dependencies: ServiceDependencies<MerchantOnboardingConfig>,
  dualControl: DualControl,
): Access {
  const { pool, config } = dependencies;
  const secrets = { fieldKey: config.FIELD_ENCRYPTION_KEY, identityHashKey: config.IDENTITY_HASH_KEY };

  const verifyOperatorToken = operatorTokenVerifierFor(config, 'merchant-onboarding');
  const principalOf = (request: Request) =>
    authenticate(request, {
      verifyOperatorToken,
      findMerchantKey: async (keyHash) => {
        const key = await findWorkingApiKeyByHash(pool, keyHash);
        return key === undefined || key.merchant_status === 'terminated' ? undefined : key;
      },
    });

  const contextOf = (principal: Principal, response: Response): CommandContext => ({
    pool,
    secrets,
    actor: actorOf(principal),
    requestId: requestIdOf(response),
    operator: principal.kind === 'operator' ? checkerOf(principal) : null,
    dualControl,
  });

  const adminOrOwner = async (request: Request, merchantId: string) => {
    const principal = await principalOf(request);
    if (principal.kind === 'merchant' && principal.merchant_id !== merchantId)
      throw new NotFound(`Merchant ${merchantId}`);
    if (principal.kind !== 'merchant') requireOperator(principal, 'admin');
    return principal;
  };

  return {
    caller: principalOf,
    asAdmin: async (request, response) => {
      const principal = await principalOf(request);
      requireOperator(principal, 'admin');
      return contextOf(principal, response);
    },
    asChecker: async (request) => {
      const principal = await principalOf(request);
      requireOperator(principal, 'admin');
      return {
        ...checkerOf(principal),
        requestId: request.res === undefined ? null : requestIdOf(request.res),
      };
    },
    asAdminOrOwner: async (request, response, merchantId) =>
      contextOf(await adminOrOwner(request, merchantId), response),
    asKeyManager: async (request, response, merchantId) => {
      const principal = await adminOrOwner(request, merchantId);
      requireMerchantScope(principal, 'keys');
      return { principal, context: contextOf(principal, response) };
    },
  };
}
