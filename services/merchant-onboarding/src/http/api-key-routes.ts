/** A merchant's API keys: created (shown once), listed and revoked (DESIGN §3). */
import type { Router } from 'express';
import { NotFound } from '@puhui/errors';
import { defineOperation, documented, parseRequest, respond, route } from '@puhui/http';
import type { ServiceDependencies } from '@puhui/service';
import type { MerchantOnboardingConfig } from '../config';
import { createApiKey, listKeys, revokeKey } from '../commands/api-keys';
import { findMerchant } from '../store/merchants';
import type { Access } from './access';
import { apiKeyListSchema, apiKeySchema, createdApiKeySchema } from './responses';
import { apiKeyPath, createApiKeyBody, merchantPath } from './schemas';

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

export const API_KEY_OPERATIONS = [createApiKeyOperation, listApiKeys, revokeApiKey];

export function apiKeyRoutes(
  router: Router,
  dependencies: ServiceDependencies<MerchantOnboardingConfig>,
  access: Access,
): void {
  const { pool, config } = dependencies;
  route(router, '/v1/merchants/:id/api_keys', {
    post: documented(createApiKeyOperation, async (request, response) => {
      const { path, body } = parseRequest(request, createApiKeyOperation.request);
      const { principal, context } = await access.asKeyManager(request, response, path.id);
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
      await access.asKeyManager(request, response, path.id);
      if ((await findMerchant(pool, path.id)) === undefined) throw new NotFound(`Merchant ${path.id}`);
      respond(response, listApiKeys, 200, { data: await listKeys({ pool }, path.id), has_more: false });
    }),
  });

  route(router, '/v1/merchants/:id/api_keys/:key_id', {
    delete: documented(revokeApiKey, async (request, response) => {
      const { path } = parseRequest(request, revokeApiKey.request);
      const { context } = await access.asKeyManager(request, response, path.id);
      respond(response, revokeApiKey, 200, await revokeKey(context, path.id, path.key_id));
    }),
  });
}
