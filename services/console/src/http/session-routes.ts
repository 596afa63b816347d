/** Signing in and out, the second factor, and a person's own sessions (spec §4). */
import type { Router } from 'express';
import { defineOperation, documented, parseRequest, respond, route } from '@puhui/http';
import type { ConsoleContext } from '../commands/context';
import { personActor } from '../commands/context';
import { endOwnSession, signOut, signOutEverywhere } from '../commands/sessions';
import { signInWithPassword, startTotpEnrolment, verifyTotp } from '../commands/sign-in';
import type { StartedSession } from '../commands/sign-in';
import { accountView } from '../domain/account';
import { endSession } from '../store/sessions';
import type { LiveSession } from '../store/sessions';
import { listLiveSessions } from '../store/sessions';
import {
  enrolmentSchema,
  sessionListSchema,
  sessionPath,
  sessionStateSchema,
  signInAnswerSchema,
  signInBody,
  totpBody,
} from './schemas';
import {
  anySession,
  clearSessionCookie,
  originOf,
  sessionOf,
  setSessionCookie,
  signedIn,
} from './session-guard';

const SESSION_NOTE = 'Needs the `puhui_session` cookie; state-changing calls also Origin and X-CSRF-Token.';
const signedInAnswer = {
  description: 'Where sign-in stands, and the CSRF token.',
  schema: signInAnswerSchema,
};

const signInOperation = defineOperation({
  method: 'post',
  path: '/console/v1/session',
  operationId: 'signIn',
  summary: 'Sign in with username and password',
  description:
    'Sets the `puhui_session` cookie (HttpOnly, SameSite=Strict). Admin and finance go on to the second factor. A wrong username or password answers 401 `invalid_credentials`, whichever was wrong; 5 failures in 15 minutes lock the account for 15 minutes (429 `sign_in_locked`); one address may try a limited number of times a minute (429 `rate_limited`). Needs the console’s Origin.',
  tags: ['session'],
  callers: [],
  request: { body: signInBody },
  responses: { 200: signedInAnswer },
  problems: [401, 403, 429],
});

const getSessionOperation = defineOperation({
  method: 'get',
  path: '/console/v1/session',
  operationId: 'getSession',
  summary: 'Where my sign-in stands',
  description: `401 \`not_signed_in\` without a live session. ${SESSION_NOTE}`,
  tags: ['session'],
  callers: ['person'],
  responses: { 200: { description: 'The session.', schema: sessionStateSchema } },
  problems: [401],
});

const signOutOperation = defineOperation({
  method: 'delete',
  path: '/console/v1/session',
  operationId: 'signOut',
  summary: 'Sign out (this session)',
  description: SESSION_NOTE,
  tags: ['session'],
  callers: ['person'],
  responses: { 204: { description: 'Signed out; the cookie is cleared.' } },
  problems: [401, 403],
});

const enrolOperation = defineOperation({
  method: 'post',
  path: '/console/v1/session/totp/enrolment',
  operationId: 'startTotpEnrolment',
  summary: 'A new TOTP secret to enrol',
  description: `In stage \`totp_enrolment_required\` (or signed in without a second factor, to enrol one). Confirm it with POST /console/v1/session/totp. ${SESSION_NOTE}`,
  tags: ['session'],
  callers: ['person'],
  responses: { 200: { description: 'The secret, its otpauth URI and a QR code.', schema: enrolmentSchema } },
  problems: [401, 403, 409],
});

const totpOperation = defineOperation({
  method: 'post',
  path: '/console/v1/session/totp',
  operationId: 'verifyTotp',
  summary: 'Enter a TOTP code',
  description: `Confirms the enrolment or passes the second factor; the session is then \`signed_in\` under a new cookie and CSRF token. A wrong, expired or already used code answers 401 \`invalid_totp\` and counts as a failed sign-in. ${SESSION_NOTE}`,
  tags: ['session'],
  callers: ['person'],
  request: { body: totpBody },
  responses: { 200: signedInAnswer },
  problems: [401, 403, 409, 429],
});

const listSessionsOperation = defineOperation({
  method: 'get',
  path: '/console/v1/sessions',
  operationId: 'listMySessions',
  summary: 'My sessions',
  description: SESSION_NOTE,
  tags: ['session'],
  callers: ['person'],
  responses: { 200: { description: 'The live sessions, newest first.', schema: sessionListSchema } },
  problems: [401],
});

const endSessionOperation = defineOperation({
  method: 'delete',
  path: '/console/v1/sessions/:id',
  operationId: 'endMySession',
  summary: 'End one of my sessions',
  description: SESSION_NOTE,
  tags: ['session'],
  callers: ['person'],
  request: { path: sessionPath },
  responses: { 204: { description: 'Ended.' } },
  problems: [401, 403],
});

const signOutEverywhereOperation = defineOperation({
  method: 'post',
  path: '/console/v1/sessions/sign_out_everywhere',
  operationId: 'signOutEverywhere',
  summary: 'Sign out everywhere',
  description: `Ends every session of mine, this one included. ${SESSION_NOTE}`,
  tags: ['session'],
  callers: ['person'],
  responses: { 204: { description: 'All ended; the cookie is cleared.' } },
  problems: [401, 403],
});

export const SESSION_OPERATIONS = [
  signInOperation,
  getSessionOperation,
  signOutOperation,
  enrolOperation,
  totpOperation,
  listSessionsOperation,
  endSessionOperation,
  signOutEverywhereOperation,
];

function answerOf(started: StartedSession | LiveSession) {
  return {
    stage: started.session.stage,
    account: accountView(started.account),
    csrf_token: started.session.csrf_token,
  };
}

export function sessionRoutes(router: Router, context: ConsoleContext): void {
  const { config } = context;
  route(router, '/console/v1/session', {
    post: documented(signInOperation, async (request, response) => {
      const { body } = parseRequest(request, signInOperation.request);
      const origin = originOf(request, response);
      const started = await signInWithPassword(context, origin, body);
      response.locals.principal = personActor(started.account.id);
      const previous = sessionOf(response);
      if (previous !== undefined)
        await endSession(context.pool, previous.session.id, previous.account.id, 'replaced_by_sign_in');
      setSessionCookie(response, config, started.secret, started.session);
      respond(response, signInOperation, 200, answerOf(started));
    }),
    get: documented(getSessionOperation, (_request, response) => {
      const live = anySession(response);
      const idleExpiresAt = new Date(
        live.session.last_seen_at.getTime() + config.CONSOLE_SESSION_IDLE_SECONDS * 1000,
      );
      const expiresAt = live.session.expires_at;
      respond(response, getSessionOperation, 200, {
        ...answerOf(live),
        idle_expires_at: new Date(Math.min(idleExpiresAt.getTime(), expiresAt.getTime())).toISOString(),
        expires_at: expiresAt.toISOString(),
      });
    }),
    delete: documented(signOutOperation, async (request, response) => {
      await signOut(context, anySession(response), originOf(request, response));
      clearSessionCookie(response, config);
      response.status(204).end();
    }),
  });

  route(router, '/console/v1/session/totp/enrolment', {
    post: documented(enrolOperation, async (request, response) => {
      const live = anySession(response);
      respond(
        response,
        enrolOperation,
        200,
        await startTotpEnrolment(context, originOf(request, response), live),
      );
    }),
  });

  route(router, '/console/v1/session/totp', {
    post: documented(totpOperation, async (request, response) => {
      const live = anySession(response);
      const { body } = parseRequest(request, totpOperation.request);
      const started = await verifyTotp(context, originOf(request, response), live, body.code);
      setSessionCookie(response, config, started.secret, started.session);
      respond(response, totpOperation, 200, answerOf(started));
    }),
  });

  route(router, '/console/v1/sessions', {
    get: documented(listSessionsOperation, async (_request, response) => {
      const live = signedIn(response);
      const sessions = await listLiveSessions(
        context.pool,
        live.account.id,
        config.CONSOLE_SESSION_IDLE_SECONDS,
      );
      respond(response, listSessionsOperation, 200, {
        data: sessions.map((session) => ({
          id: session.id,
          created_at: session.created_at.toISOString(),
          last_seen_at: session.last_seen_at.toISOString(),
          user_agent: session.user_agent,
          ip: session.ip,
          current: session.id === live.session.id,
        })),
      });
    }),
  });

  // Before /sessions/:id, whose 405 for other methods would otherwise answer this POST.
  route(router, '/console/v1/sessions/sign_out_everywhere', {
    post: documented(signOutEverywhereOperation, async (request, response) => {
      await signOutEverywhere(context, signedIn(response), originOf(request, response));
      clearSessionCookie(response, config);
      response.status(204).end();
    }),
  });

  route(router, '/console/v1/sessions/:id', {
    delete: documented(endSessionOperation, async (request, response) => {
      const live = signedIn(response);
      const { path } = parseRequest(request, endSessionOperation.request);
      await endOwnSession(context, live, path.id, originOf(request, response));
      if (path.id === live.session.id) clearSessionCookie(response, config);
      response.status(204).end();
    }),
  });
}
