/** People: admins invite, change and disable accounts; auditors read them and the audit trail. */
import type { Router } from 'express';
import { answered, defineOperation, documented, parseRequest, respond, route } from '@puhui/http';
import { mapPage } from '@puhui/postgres';
import {
  acceptInvitation,
  disablePerson,
  invitePerson,
  resetSecondFactor,
  updatePerson,
} from '../commands/accounts';
import type { ConsoleContext } from '../commands/context';
import { accountView } from '../domain/account';
import { listAccounts } from '../store/accounts';
import { listAudit } from '../store/audit';
import {
  acceptInvitationBody,
  accountListSchema,
  accountPath,
  accountSchema,
  auditListSchema,
  auditQuery,
  createAccountBody,
  disableBody,
  invitedSchema,
  listQuery,
  updateAccountBody,
} from './schemas';
import { originOf, signedInWith } from './session-guard';

const ADMIN_NOTE = 'A signed-in admin (session cookie, Origin and X-CSRF-Token).';
const READER_NOTE = 'A signed-in admin or auditor (session cookie).';
const accountAnswer = { description: 'The account.', schema: accountSchema };

const listAccountsOperation = defineOperation({
  method: 'get',
  path: '/console/v1/accounts',
  operationId: 'listAccounts',
  summary: 'List people',
  description: READER_NOTE,
  tags: ['people'],
  callers: ['person'],
  request: { query: listQuery },
  responses: { 200: { description: 'A page of accounts, oldest first.', schema: accountListSchema } },
  problems: [401, 403],
});

const createAccountOperation = defineOperation({
  method: 'post',
  path: '/console/v1/accounts',
  operationId: 'invitePerson',
  summary: 'Invite a person',
  description: `Creates the account (status \`invited\`) and a one-time invitation valid 72 hours; its token is shown only here. One account never holds admin and finance (422 \`conflicting_roles\`); merchant staff carry their \`merchant_id\`. ${ADMIN_NOTE}`,
  tags: ['people'],
  callers: ['person'],
  request: { body: createAccountBody },
  responses: { 201: { description: 'The account and its invitation.', schema: invitedSchema } },
  problems: [401, 403, 409, 422],
});

const acceptInvitationOperation = defineOperation({
  method: 'post',
  path: '/console/v1/invitations/accept',
  operationId: 'acceptInvitation',
  summary: 'Accept an invitation: set my password',
  description:
    'Public (no session; the console’s Origin). The password has at least 12 characters and does not contain the username (422 `weak_password`). An unknown, expired or used invitation answers 404.',
  tags: ['people'],
  callers: [],
  request: { body: acceptInvitationBody },
  responses: { 200: { description: 'The account, now active: sign in.', schema: accountSchema } },
  problems: [403, 404, 422],
});

const updateAccountOperation = defineOperation({
  method: 'patch',
  path: '/console/v1/accounts/:id',
  operationId: 'updatePerson',
  summary: 'Change a person’s roles or display name',
  description: `A role change is audited (before and after) and ends the person's sessions. An admin cannot take the admin role from themselves (403 \`self_change_refused\`). ${ADMIN_NOTE}`,
  tags: ['people'],
  callers: ['person'],
  request: { path: accountPath, body: updateAccountBody },
  responses: { 200: accountAnswer },
  problems: [401, 403, 422],
});

const disableAccountOperation = defineOperation({
  method: 'post',
  path: '/console/v1/accounts/:id/disable',
  operationId: 'disablePerson',
  summary: 'Disable a person',
  description: `Ends every session of theirs at once. Not on yourself (403 \`self_change_refused\`). ${ADMIN_NOTE}`,
  tags: ['people'],
  callers: ['person'],
  request: { path: accountPath, body: disableBody },
  responses: { 200: accountAnswer },
  problems: [401, 403],
});

const resetTotpOperation = defineOperation({
  method: 'post',
  path: '/console/v1/accounts/:id/reset_totp',
  operationId: 'resetSecondFactor',
  summary: 'Reset a person’s second factor',
  description: `For someone who lost their authenticator: their TOTP secret is forgotten and their sessions end; they enrol a new one at their next sign-in, with their password. Audited with the reason. Not on yourself (403 \`self_change_refused\`). ${ADMIN_NOTE}`,
  tags: ['people'],
  callers: ['person'],
  request: { path: accountPath, body: disableBody },
  responses: { 200: accountAnswer },
  problems: [401, 403],
});

const auditOperation = defineOperation({
  method: 'get',
  path: '/console/v1/audit_events',
  operationId: 'listConsoleAuditEvents',
  summary: 'The console’s audit trail',
  description: `Sign-ins, failures, lockouts, second factors, invitations, role changes, disables and session ends; newest first. ${READER_NOTE}`,
  tags: ['audit'],
  callers: ['person'],
  request: { query: auditQuery },
  responses: { 200: { description: 'A page of audit events.', schema: auditListSchema } },
  problems: [401, 403],
});

export const PEOPLE_OPERATIONS = [
  listAccountsOperation,
  createAccountOperation,
  acceptInvitationOperation,
  updateAccountOperation,
  disableAccountOperation,
  resetTotpOperation,
  auditOperation,
];

export function peopleRoutes(router: Router, context: ConsoleContext): void {
  const { pool } = context;
  const reader = (_request: unknown, response: Parameters<typeof signedInWith>[0]) =>
    Promise.resolve(signedInWith(response, 'admin', 'auditor'));

  route(router, '/console/v1/accounts', {
    get: answered(listAccountsOperation, 200, reader, async (_reader, { query }) =>
      mapPage(await listAccounts(pool, query), accountView),
    ),
    post: documented(createAccountOperation, async (request, response) => {
      const admin = signedInWith(response, 'admin');
      const { body } = parseRequest(request, createAccountOperation.request);
      respond(
        response,
        createAccountOperation,
        201,
        await invitePerson(context, admin, body, originOf(request, response)),
      );
    }),
  });

  route(router, '/console/v1/invitations/accept', {
    post: documented(acceptInvitationOperation, async (request, response) => {
      const { body } = parseRequest(request, acceptInvitationOperation.request);
      respond(
        response,
        acceptInvitationOperation,
        200,
        await acceptInvitation(context, body, originOf(request, response)),
      );
    }),
  });

  route(router, '/console/v1/accounts/:id', {
    patch: documented(updateAccountOperation, async (request, response) => {
      const admin = signedInWith(response, 'admin');
      const { path, body } = parseRequest(request, updateAccountOperation.request);
      respond(
        response,
        updateAccountOperation,
        200,
        await updatePerson(context, admin, path.id, body, originOf(request, response)),
      );
    }),
  });

  route(router, '/console/v1/accounts/:id/disable', {
    post: documented(disableAccountOperation, async (request, response) => {
      const admin = signedInWith(response, 'admin');
      const { path, body } = parseRequest(request, disableAccountOperation.request);
      respond(
        response,
        disableAccountOperation,
        200,
        await disablePerson(context, admin, path.id, body.reason, originOf(request, response)),
      );
    }),
  });

  route(router, '/console/v1/accounts/:id/reset_totp', {
    post: documented(resetTotpOperation, async (request, response) => {
      const admin = signedInWith(response, 'admin');
      const { path, body } = parseRequest(request, resetTotpOperation.request);
      respond(
        response,
        resetTotpOperation,
        200,
        await resetSecondFactor(context, admin, path.id, body.reason, originOf(request, response)),
      );
    }),
  });

  route(router, '/console/v1/audit_events', {
    get: answered(auditOperation, 200, reader, async (_reader, { query }) => {
      const page = await listAudit(pool, query);
      return mapPage(page, (row) => ({ ...row, occurred_at: row.occurred_at.toISOString() }));
    }),
  });
}
