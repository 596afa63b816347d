/**
 * merchant-onboarding's HTTP API (DESIGN §11). Operators with role `admin` manage every
 * merchant; a merchant's API key sees only its own record and keys (any other id is 404).
 */
import type { Request, Response, Router } from 'express';
import { NotFound } from '@puhui/errors';
import { authenticate, defineOperation, documented, parseRequest, respond, route } from '@puhui/http';
import { actorOf, requireMerchantScope, requireOperator } from '@puhui/security';
import type { Principal } from '@puhui/security';
import type { ServiceDependencies } from '@puhui/service';
import type { MerchantOnboardingConfig } from '../config';
import { createApiKey, listKeys, revokeKey } from '../commands/api-keys';
import { createApplication, decide, updateMerchant } from '../commands/merchants';
import type { CommandContext } from '../commands/context';
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
import {
  apiKeyListSchema,
  apiKeySchema,
  auditEventListSchema,
  createdApiKeySchema,
  merchantListSchema,
  merchantSchema,
} from './responses';

const merchantResponse = { description: 'The merchant.', schema: merchantSchema };

const createMerchant = defineOperation({
  method: 'post',
  path: '/v1/merchants',
  operationId: 'createMerchant',
  summary: 'Start an application (draft)',
  description: 'Only `legal_name` is required; `requirements` in the answer lists what is still missing.',
  tags: ['merchants'],
  callers: ['admin'],
  // Built with today's date (ID numbers may not be born after it), as each request does.
  request: { body: createApplicationBody(shanghaiToday()) },
  responses: { 201: { description: 'The new application.', schema: merchantSchema } },
  problems: [409],
});

const listMerchantsOperation = defineOperation({
  method: 'get',
  path: '/v1/merchants',
  operationId: 'listMerchants',
  summary: 'List merchants',
  description: 'Filter by status, category, region; `q` searches names. Cursor pagination.',
  tags: ['merchants'],
  callers: ['admin'],
  request: { query: listMerchantsQuery },
  responses: { 200: { description: 'A page of merchants.', schema: merchantListSchema } },
});

const getMerchant = defineOperation({
  method: 'get',
  path: '/v1/merchants/:id',
  operationId: 'getMerchant',
  summary: 'Get one merchant',
  description: 'A merchant’s key sees only its own record; another merchant’s id answers 404.',
  tags: ['merchants'],
  callers: ['admin', 'merchant'],
  request: { path: merchantPath },
  responses: { 200: merchantResponse },
});

const updateMerchantOperation = defineOperation({
  method: 'patch',
  path: '/v1/merchants/:id',
  operationId: 'updateMerchant',
  summary: 'Correct an application, or request a change',
  description:
    'A draft or rejected application changes at once. On an approved merchant, account, identity and category changes wait for review as `pending_change`.',
  tags: ['merchants'],
  callers: ['admin'],
  request: { path: merchantPath, body: updateMerchantBody(shanghaiToday()) },
  responses: { 200: merchantResponse },
  problems: [409],
});

/** Lifecycle actions, whether each needs a reason, and their documents. */
const ACTIONS: Array<[LifecycleAction, boolean, string]> = [
  ['submit', false, 'Submit an application for review'],
  ['start_review', false, 'Start reviewing a submitted application'],
  ['approve', false, 'Approve an application or a pending change'],
  ['reject', true, 'Reject an application or a pending change'],
  ['suspend', true, 'Suspend an active merchant'],
  ['reinstate', false, 'Reinstate a suspended merchant'],
  ['terminate', true, 'Terminate a merchant for good'],
];

const lifecycleOperations = ACTIONS.map(([action, needsReason, summary]) => ({
  action,
  needsReason,
  operation: defineOperation({
    method: 'post',
    path: `/v1/merchants/:id/${action}`,
    operationId: `${action.replace(/_([a-z])/gu, (_, letter: string) => letter.toUpperCase())}Merchant`,
    summary,
    description: `${needsReason ? 'Needs `{ "reason" }`. ' : ''}An illegal step answers 409 with \`current_status\`.`,
    tags: ['merchant lifecycle'],
    callers: ['admin'],
    request: { path: merchantPath, body: needsReason ? reasonBody : optionalReasonBody },
    responses: { 200: merchantResponse },
    problems: [409, 422],
  }),
}));

const createApiKeyOperation = defineOperation({
  method: 'post',
  path: '/v1/merchants/:id/api_keys',
  operationId: 'createApiKey',
  summary: 'Create a secret key (shown once)',
  description:
    'With `rotates_key_id`, the old key keeps working for `overlap_seconds` (default one day, at most seven). A new key can do `checkout` only unless `scopes` says more (a rotation keeps the old key’s); a merchant key needs the `keys` scope here and cannot give a key scopes it lacks. Keys work for MERCHANT_API_KEY_LIFETIME_DAYS (default 365). Only an active merchant gets keys: 403 `merchant_not_active` with `current_status` otherwise.',
  tags: ['api keys'],
  callers: ['admin', 'merchant'],
  request: { path: merchantPath, body: createApiKeyBody },
  responses: { 201: { description: 'The key, with its secret.', schema: createdApiKeySchema } },
  problems: [403, 409],
});

const listApiKeys = defineOperation({
  method: 'get',
  path: '/v1/merchants/:id/api_keys',
  operationId: 'listApiKeys',
  summary: 'List a merchant’s keys (never the secrets)',
  tags: ['api keys'],
  callers: ['admin', 'merchant'],
  request: { path: merchantPath },
  responses: { 200: { description: 'Every key of the merchant.', schema: apiKeyListSchema } },
});

const revokeApiKey = defineOperation({
  method: 'delete',
  path: '/v1/merchants/:id/api_keys/:key_id',
  operationId: 'revokeApiKey',
  summary: 'Revoke a key now',
  tags: ['api keys'],
  callers: ['admin', 'merchant'],
  request: { path: apiKeyPath },
  responses: { 200: { description: 'The revoked key.', schema: apiKeySchema } },
});

const listAuditEvents = defineOperation({
  method: 'get',
  path: '/v1/audit_events',
  operationId: 'listAuditEvents',
  summary: 'Who changed what, when, before and after',
  tags: ['audit'],
  callers: ['admin'],
  request: { query: auditQuery },
  responses: {
    200: { description: 'A page of the audit trail, oldest first.', schema: auditEventListSchema },
  },
});

export const MERCHANT_ONBOARDING_OPERATIONS = [
  createMerchant,
  listMerchantsOperation,
  getMerchant,
  updateMerchantOperation,
  ...lifecycleOperations.map(({ operation }) => operation),
  createApiKeyOperation,
  listApiKeys,
  revokeApiKey,
  listAuditEvents,
];

export function merchantRoutes(
  router: Router,
  dependencies: ServiceDependencies<MerchantOnboardingConfig>,
): void {
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
  const adminOrOwner = async (request: Request, merchantId: string) => {
    const principal = await principalOf(request);
    if (principal.kind === 'merchant' && principal.merchant_id !== merchantId)
      throw new NotFound(`Merchant ${merchantId}`);
    if (principal.kind === 'operator') requireOperator(principal, 'admin');
    return principal;
  };
  const asAdminOrOwner = async (request: Request, response: Response, merchantId: string) =>
    contextOf(await adminOrOwner(request, merchantId), response);
  /** Key management: admins, or the merchant with a key holding the `keys` scope. */
  const asKeyManager = async (request: Request, response: Response, merchantId: string) => {
    const principal = await adminOrOwner(request, merchantId);
    requireMerchantScope(principal, 'keys');
    return { principal, context: contextOf(principal, response) };
  };

  route(router, '/v1/merchants', {
    post: documented(createMerchant, async (request, response) => {
      const context = await asAdmin(request, response);
      const { body } = parseRequest(request, { body: createApplicationBody(shanghaiToday()) });
      respond(response, createMerchant, 201, await createApplication(context, body));
    }),
    get: documented(listMerchantsOperation, async (request, response) => {
      await asAdmin(request, response);
      const { query } = parseRequest(request, listMerchantsOperation.request);
      const { q, limit, ...filter } = query;
      const page = await listMerchants(pool, { ...filter, ...(q === undefined ? {} : { name: q }), limit });
      respond(response, listMerchantsOperation, 200, {
        data: page.slice(0, limit).map(viewOf),
        has_more: page.length > limit,
      });
    }),
  });

  route(router, '/v1/merchants/:id', {
    get: documented(getMerchant, async (request, response) => {
      const { path } = parseRequest(request, getMerchant.request);
      await asAdminOrOwner(request, response, path.id);
      const merchant = await findMerchant(pool, path.id);
      if (merchant === undefined) throw new NotFound(`Merchant ${path.id}`);
      respond(response, getMerchant, 200, viewOf(merchant));
    }),
    patch: documented(updateMerchantOperation, async (request, response) => {
      const context = await asAdmin(request, response);
      const { path, body } = parseRequest(request, {
        path: merchantPath,
        body: updateMerchantBody(shanghaiToday()),
      });
      respond(response, updateMerchantOperation, 200, await updateMerchant(context, path.id, body));
    }),
  });

  for (const { action, needsReason, operation } of lifecycleOperations) {
    route(router, operation.path, {
      post: documented(operation, async (request, response) => {
        const context = await asAdmin(request, response);
        const { path, body } = parseRequest(request, {
          path: merchantPath,
          body: needsReason ? reasonBody : optionalReasonBody,
        });
        respond(response, operation, 200, await decide(context, path.id, action, body?.reason ?? null));
      }),
    });
  }

  route(router, '/v1/merchants/:id/api_keys', {
    post: documented(createApiKeyOperation, async (request, response) => {
      const { path, body } = parseRequest(request, createApiKeyOperation.request);
      const { principal, context } = await asKeyManager(request, response, path.id);
      const options = {
        overlap_seconds: body?.overlap_seconds ?? 24 * 3600,
        lifetimeDays: config.MERCHANT_API_KEY_LIFETIME_DAYS,
        ...(body?.rotates_key_id === undefined ? {} : { rotates_key_id: body.rotates_key_id }),
        ...(body?.scopes === undefined ? {} : { scopes: body.scopes }),
        ...(principal.kind === 'merchant' ? { callerScopes: principal.scopes } : {}),
      };
      respond(response, createApiKeyOperation, 201, await createApiKey(context, path.id, options));
    }),
    get: documented(listApiKeys, async (request, response) => {
      const { path } = parseRequest(request, listApiKeys.request);
      await asKeyManager(request, response, path.id);
      if ((await findMerchant(pool, path.id)) === undefined) throw new NotFound(`Merchant ${path.id}`);
      respond(response, listApiKeys, 200, { data: await listKeys({ pool }, path.id), has_more: false });
    }),
  });

  route(router, '/v1/merchants/:id/api_keys/:key_id', {
    delete: documented(revokeApiKey, async (request, response) => {
      const { path } = parseRequest(request, revokeApiKey.request);
      const { context } = await asKeyManager(request, response, path.id);
      respond(response, revokeApiKey, 200, await revokeKey(context, path.id, path.key_id));
    }),
  });

  route(router, '/v1/audit_events', {
    get: documented(listAuditEvents, async (request, response) => {
      await asAdmin(request, response);
      const { query } = parseRequest(request, listAuditEvents.request);
      const page = await listAudit(pool, query);
      respond(response, listAuditEvents, 200, {
        data: page.slice(0, query.limit),
        has_more: page.length > query.limit,
      });
    }),
  });
}
