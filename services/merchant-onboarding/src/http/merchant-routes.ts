/** Merchants: applications, their corrections and changes, and lifecycle decisions (DESIGN §2). */
import type { Router } from 'express';
import { NotFound } from '@puhui/errors';
import { answered, defineOperation, documented, parseRequest, respond, route } from '@puhui/http';
import { mapPage } from '@puhui/postgres';
import type { Pool } from '@puhui/postgres';
import { createApplication, decide, updateMerchant } from '../commands/merchants';
import type { LifecycleAction } from '../domain/merchant';
import { findMerchant, listMerchants } from '../store/merchants';
import { merchantView } from '../views/merchant';
import type { Access } from './access';
import { merchantListSchema, merchantSchema } from './responses';
import {
  createApplicationBody,
  listMerchantsQuery,
  merchantPath,
  optionalReasonBody,
  reasonBody,
  shanghaiToday,
  updateMerchantBody,
} from './schemas';

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

export const MERCHANT_OPERATIONS = [
  createMerchant,
  listMerchantsOperation,
  getMerchant,
  updateMerchantOperation,
  ...lifecycleOperations.map(({ operation }) => operation),
];

export function merchantRoutes(router: Router, pool: Pool, access: Access): void {
  route(router, '/v1/merchants', {
    post: documented(createMerchant, async (request, response) => {
      const context = await access.asAdmin(request, response);
      const { body } = parseRequest(request, { body: createApplicationBody(shanghaiToday()) });
      respond(response, createMerchant, 201, await createApplication(context, body));
    }),
    get: answered(listMerchantsOperation, 200, access.asAdmin, async (_admin, { query }) => {
      const { q, limit, ...filter } = query;
      const page = await listMerchants(pool, { ...filter, ...(q === undefined ? {} : { name: q }), limit });
      return mapPage(page, merchantView);
    }),
  });

  route(router, '/v1/merchants/:id', {
    get: documented(getMerchant, async (request, response) => {
      const { path } = parseRequest(request, getMerchant.request);
      await access.asAdminOrOwner(request, response, path.id);
      const merchant = await findMerchant(pool, path.id);
      if (merchant === undefined) throw new NotFound(`Merchant ${path.id}`);
      respond(response, getMerchant, 200, merchantView(merchant));
    }),
    patch: documented(updateMerchantOperation, async (request, response) => {
      const context = await access.asAdmin(request, response);
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
        const context = await access.asAdmin(request, response);
        const { path, body } = parseRequest(request, {
          path: merchantPath,
          body: needsReason ? reasonBody : optionalReasonBody,
        });
        respond(response, operation, 200, await decide(context, path.id, action, body?.reason ?? null));
      }),
    });
  }
}
