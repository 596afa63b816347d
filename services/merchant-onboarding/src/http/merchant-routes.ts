/** Merchants: applications, their corrections and changes, and lifecycle decisions (DESIGN §2). */
import type { Router } from 'express';
import { NotFound } from '@puhui/errors';
import { approvalRequestAcceptedSchema } from '@puhui/dual-control';
import { answered, defineOperation, documented, parseRequest, respond, route } from '@puhui/http';
import { mapPage } from '@puhui/postgres';
import type { Pool } from '@puhui/postgres';
import { createApplication, decide, updateMerchant } from '../commands/merchants';
import { revealPersonalData } from '../commands/personal-data';
import type { LifecycleAction } from '../domain/merchant';
import { findMerchant, listMerchants } from '../store/merchants';
import { merchantView } from '../views/merchant';
import type { Access } from './access';
import { merchantListSchema, merchantSchema, revealedPersonalDataSchema } from './responses';
import {
  createApplicationBody,
  listMerchantsQuery,
  merchantPath,
  optionalReasonBody,
  reasonBody,
  revealPersonalDataBody,
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
    'A draft or rejected application changes at once. On an approved merchant, account, identity and category changes wait as `pending_change` for a second admin (`pending_approval` names the request; another such change meanwhile answers 409 `approval_pending`).',
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
  ['reject', true, 'Reject an application or a pending change'],
  ['suspend', true, 'Suspend an active merchant'],
  ['reinstate', false, 'Reinstate a suspended merchant'],
  ['terminate', true, 'Terminate a merchant for good'],
];

/** What approving and rejecting mean under dual control (issue 16). */
const DUAL_CONTROL_NOTES: Partial<Record<LifecycleAction, string>> = {
  approve:
    'An application is not approved at once: the answer is 202 with the approval request, the merchant stays `in_review` (its `pending_approval` names the request) and goes live when a second admin approves the request (`POST /v1/approval_requests/{id}/approve`); asking again meanwhile answers 409 `approval_pending`. A pending change is approved here (200) by an admin other than the one who asked for it (else 403 `self_approval_refused`), as through its approval request. ',
  reject: 'A pending change is rejected here as through its approval request (by its requester: withdrawn). ',
};

function lifecycleSpec(action: LifecycleAction, needsReason: boolean, summary: string) {
  return {
    method: 'post',
    path: `/v1/merchants/:id/${action}`,
    operationId: `${action.replace(/_([a-z])/gu, (_, letter: string) => letter.toUpperCase())}Merchant`,
    summary,
    description: `${DUAL_CONTROL_NOTES[action] ?? ''}${needsReason ? 'Needs `{ "reason" }`. ' : ''}An illegal step answers 409 with \`current_status\`.`,
    tags: ['merchant lifecycle'],
    callers: ['admin'],
    request: { path: merchantPath, body: needsReason ? reasonBody : optionalReasonBody },
    problems: [409, 422],
  } as const;
}

const lifecycleOperations = ACTIONS.filter(([action]) => action !== 'approve').map(
  ([action, needsReason, summary]) => ({
    action,
    needsReason,
    operation: defineOperation({
      ...lifecycleSpec(action, needsReason, summary),
      responses: { 200: merchantResponse },
    }),
  }),
);

/** Approving answers the merchant (a pending change decided) or the request it waits in (202). */
const approveOperation = defineOperation({
  ...lifecycleSpec('approve', false, 'Ask for an application’s approval, or approve a pending change'),
  request: { path: merchantPath, body: optionalReasonBody },
  responses: {
    200: merchantResponse,
    202: {
      description: 'The application waits for a second admin: the approval request.',
      schema: approvalRequestAcceptedSchema,
    },
  },
});

const revealPersonalDataOperation = defineOperation({
  method: 'post',
  path: '/v1/merchants/:id/personal_data/reveal',
  operationId: 'revealMerchantPersonalData',
  summary: 'Reveal a merchant’s personal data (audited)',
  description:
    'Every answer shows personal data masked (the contact’s name, mobile and e-mail, the legal representative’s name, the account number). An admin who needs a plaintext — to call the contact about a changed account, to correct a typo — names the fields and why: the answer carries the plaintext, is never cached (`Cache-Control: no-store`), and the merchant’s audit trail records `personal_data_revealed` with who, when, which fields, the reason and the request id, never the values. Auditors (read-only) and merchants are refused (403); a reason under 8 characters answers 400. The ID number cannot be revealed: only its hash and masked form are kept. A value that does not open for this merchant (copied from another merchant’s row, tampered) answers 409 `personal_data_unreadable`.',
  tags: ['merchants'],
  callers: ['admin'],
  request: { path: merchantPath, body: revealPersonalDataBody },
  responses: {
    200: {
      description: 'The plaintext of the asked fields.',
      schema: revealedPersonalDataSchema,
      headers: { 'Cache-Control': 'no-store' },
    },
  },
  problems: [409],
});

export const MERCHANT_OPERATIONS = [
  createMerchant,
  listMerchantsOperation,
  getMerchant,
  updateMerchantOperation,
  revealPersonalDataOperation,
  ...lifecycleOperations.map(({ operation }) => operation),
  approveOperation,
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

  route(router, revealPersonalDataOperation.path, {
    post: documented(revealPersonalDataOperation, async (request, response) => {
      const context = await access.asAdmin(request, response);
      const { path, body } = parseRequest(request, revealPersonalDataOperation.request);
      const revealed = await revealPersonalData(context, path.id, body.fields, body.reason);
      // Plaintext personal data: no browser, proxy or console cache keeps it.
      response.setHeader('Cache-Control', 'no-store');
      respond(response, revealPersonalDataOperation, 200, revealed);
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
        const answer = await decide(context, path.id, action, body?.reason ?? null);
        if (answer.status !== 200) throw new Error(`${action} answered ${answer.status}`);
        respond(response, operation, 200, answer.merchant);
      }),
    });
  }

  route(router, approveOperation.path, {
    post: documented(approveOperation, async (request, response) => {
      const context = await access.asAdmin(request, response);
      const { path, body } = parseRequest(request, approveOperation.request);
      const answer = await decide(context, path.id, 'approve', body?.reason ?? null);
      if (answer.status === 202) {
        respond(response, approveOperation, 202, { approval_request: answer.approval_request });
      } else {
        respond(response, approveOperation, 200, answer.merchant);
      }
    }),
  });
}
