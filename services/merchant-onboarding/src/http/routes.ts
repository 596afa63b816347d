/**
 * merchant-onboarding's HTTP API (DESIGN §11). Operators with role `admin` manage every
 * merchant; a merchant's API key sees only its own record and keys (any other id is 404).
 */
import type { Request, Response, Router } from 'express';
import { NotFound } from '@puhui/errors';
import { authenticate, parseRequest, route } from '@puhui/http';
import { requireOperator } from '@puhui/security';
import { actorOf } from '@puhui/security';
import type { Principal } from '@puhui/security';
import type { ServiceDependencies } from '@puhui/service';
import { createApiKey, listKeys, revokeKey } from '../commands/api-keys';
import { createApplication, decide, updateMerchant } from '../commands/merchants';
import type { CommandContext } from '../commands/merchants';
import type { LifecycleAction } from '../domain/merchant';
import { viewOf } from '../domain/view';
import { findWorkingApiKeyByHash } from '../store/api-keys';
import { listAudit } from '../store/audit';
import { findMerchant, listMerchants } from '../store/merchants';
import {
  apiKeyPath,
  auditQuery,
  createApiKeyBody,
  createApplicationBody,
  listMerchantsQuery,
  merchantPath,
  optionalReasonBody,
  reasonBody,
  shanghaiToday,
  updateMerchantBody,
} from './schemas';

/** Lifecycle actions and whether each needs a reason. */
const ACTIONS: Array<[LifecycleAction, boolean]> = [
  ['submit', false],
  ['start_review', false],
  ['approve', false],
  ['reject', true],
  ['suspend', true],
  ['reinstate', false],
  ['terminate', true],
];

export function merchantRoutes(router: Router, dependencies: ServiceDependencies): void {
  const { pool, config } = dependencies;
  const secrets = { fieldKey: config.FIELD_ENCRYPTION_KEY, identityHashKey: config.IDENTITY_HASH_KEY };

  const principalOf = (request: Request) =>
    authenticate(request, {
      operatorTokenSecret: config.OPERATOR_TOKEN_SECRET,
      findMerchantKey: async (keyHash) => {
        const key = await findWorkingApiKeyByHash(pool, keyHash);
        return key === undefined || key.merchant_status === 'terminated' ? undefined : key;
      },
    });

  const contextOf = (principal: Principal, response: Response): CommandContext => ({
    pool,
    secrets,
    actor: actorOf(principal),
    requestId: (response.locals.requestId as string | undefined) ?? null,
  });

  const asAdmin = async (request: Request, response: Response) => {
    const principal = await principalOf(request);
    requireOperator(principal, 'admin');
    return contextOf(principal, response);
  };

  /** Admins, or the merchant itself; another merchant's id is "not found", not "forbidden". */
  const asAdminOrOwner = async (request: Request, response: Response, merchantId: string) => {
    const principal = await principalOf(request);
    if (principal.kind === 'merchant' && principal.merchant_id !== merchantId)
      throw new NotFound(`Merchant ${merchantId}`);
    if (principal.kind === 'operator') requireOperator(principal, 'admin');
    return contextOf(principal, response);
  };

  route(router, '/v1/merchants', {
    post: async (request, response) => {
      const context = await asAdmin(request, response);
      const { body } = parseRequest(request, { body: createApplicationBody(shanghaiToday()) });
      response.status(201).json(await createApplication(context, body));
    },
    get: async (request, response) => {
      await asAdmin(request, response);
      const { query } = parseRequest(request, { query: listMerchantsQuery });
      const { q, limit, ...filter } = query;
      const page = await listMerchants(pool, { ...filter, ...(q === undefined ? {} : { name: q }), limit });
      response.json({ data: page.slice(0, limit).map(viewOf), has_more: page.length > limit });
    },
  });

  route(router, '/v1/merchants/:id', {
    get: async (request, response) => {
      const { path } = parseRequest(request, { path: merchantPath });
      await asAdminOrOwner(request, response, path.id);
      const merchant = await findMerchant(pool, path.id);
      if (merchant === undefined) throw new NotFound(`Merchant ${path.id}`);
      response.json(viewOf(merchant));
    },
    patch: async (request, response) => {
      const context = await asAdmin(request, response);
      const { path, body } = parseRequest(request, {
        path: merchantPath,
        body: updateMerchantBody(shanghaiToday()),
      });
      response.json(await updateMerchant(context, path.id, body));
    },
  });

  for (const [action, needsReason] of ACTIONS) {
    route(router, `/v1/merchants/:id/${action}`, {
      post: async (request, response) => {
        const context = await asAdmin(request, response);
        const { path, body } = parseRequest(request, {
          path: merchantPath,
          body: needsReason ? reasonBody : optionalReasonBody,
        });
        response.json(await decide(context, path.id, action, body?.reason ?? null));
      },
    });
  }

  route(router, '/v1/merchants/:id/api_keys', {
    post: async (request, response) => {
      const { path, body } = parseRequest(request, { path: merchantPath, body: createApiKeyBody });
      const context = await asAdminOrOwner(request, response, path.id);
      const options = {
        overlap_seconds: body?.overlap_seconds ?? 24 * 3600,
        ...(body?.rotates_key_id === undefined ? {} : { rotates_key_id: body.rotates_key_id }),
      };
      response.status(201).json(await createApiKey(context, path.id, options));
    },
    get: async (request, response) => {
      const { path } = parseRequest(request, { path: merchantPath });
      await asAdminOrOwner(request, response, path.id);
      if ((await findMerchant(pool, path.id)) === undefined) throw new NotFound(`Merchant ${path.id}`);
      response.json({ data: await listKeys({ pool }, path.id), has_more: false });
    },
  });

  route(router, '/v1/merchants/:id/api_keys/:key_id', {
    delete: async (request, response) => {
      const { path } = parseRequest(request, { path: apiKeyPath });
      const context = await asAdminOrOwner(request, response, path.id);
      response.json(await revokeKey(context, path.id, path.key_id));
    },
  });

  route(router, '/v1/audit_events', {
    get: async (request, response) => {
      await asAdmin(request, response);
      const { query } = parseRequest(request, { query: auditQuery });
      const page = await listAudit(pool, query);
      response.json({ data: page.slice(0, query.limit), has_more: page.length > query.limit });
    },
  });
}
