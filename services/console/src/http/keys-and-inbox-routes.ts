/** The console's public keys (the services verify its tokens with them) and the dual-control inbox. */
import type { Router } from 'express';
import { defineOperation, documented, respond, route } from '@puhui/http';
import type { ConsoleContext } from '../commands/context';
import { inboxOf } from '../commands/inbox';
import { consoleJwks } from '../commands/tokens';
import { inboxSchema, jwksSchema } from './schemas';
import { signedIn } from './session-guard';

const jwksOperation = defineOperation({
  method: 'get',
  path: '/.well-known/jwks.json',
  operationId: 'getJwks',
  summary: 'The public keys of operator tokens',
  description:
    'ES256 keys (RFC 7517); the first signs, the others still verify during a rotation. The services fetch it (OPERATOR_JWKS_URL) and cache it.',
  tags: ['tokens'],
  callers: [],
  responses: { 200: { description: 'The key set.', schema: jwksSchema } },
});

const inboxOperation = defineOperation({
  method: 'get',
  path: '/console/v1/inbox',
  operationId: 'getInbox',
  summary: 'Requests waiting for me',
  description:
    'The pending approval requests of merchant-onboarding, discount-rules and transaction-settlement that I may decide: my role, not mine. A service that does not answer is named in `unavailable`. A signed-in person (session cookie).',
  tags: ['dual control'],
  callers: ['person'],
  responses: { 200: { description: 'Oldest first.', schema: inboxSchema } },
  problems: [401],
});

export const KEYS_AND_INBOX_OPERATIONS = [jwksOperation, inboxOperation];

export function keysAndInboxRoutes(router: Router, context: ConsoleContext): void {
  const jwks = consoleJwks(context.config);
  route(router, '/.well-known/jwks.json', {
    get: documented(jwksOperation, (_request, response) => {
      // Cached briefly by the services' fetchers anyway; a rotation shows within 5 minutes.
      response.setHeader('Cache-Control', 'public, max-age=300');
      respond(response, jwksOperation, 200, { keys: jwks.keys as unknown as Array<Record<string, unknown>> });
    }),
  });
  route(router, '/console/v1/inbox', {
    get: documented(inboxOperation, async (_request, response) => {
      const { account } = signedIn(response);
      respond(response, inboxOperation, 200, await inboxOf(context, account));
    }),
  });
}
