/** The console's API as documented: served as /openapi.json and written by `npm run docs`. */
import path from 'node:path';
import { apiTitleAndVersion } from '@puhui/http';
import type { ServiceApi } from '@puhui/service';
import { CONSOLE_OPERATIONS } from './routes';

export const consoleApi: ServiceApi = {
  ...apiTitleAndVersion('console', path.join(__dirname, '..', '..')),
  description:
    'People, sign-in with a second factor, operator tokens and the web console (spec §4, decision 0013). The browser holds only the HttpOnly `puhui_session` cookie (SameSite=Strict); every state-changing call needs the console’s Origin and, with a session, the session’s `csrf_token` in X-CSRF-Token. Besides these operations the console forwards `/api/<service>/<path>` (merchant-onboarding, discount-rules, transaction-settlement) for a signed-in person with a 5-minute ES256 token for that service, and serves the web app for every other GET. JSON with snake_case fields; errors are `application/problem+json` with a stable `code`.',
  tags: [
    { name: 'session', description: 'Signing in and out, the second factor (TOTP), my sessions.' },
    { name: 'people', description: 'Accounts, roles, invitations; admins manage, auditors read.' },
    { name: 'audit', description: 'The append-only audit trail of sign-ins and people.' },
    { name: 'tokens', description: 'The public keys the services verify operator tokens with.' },
    { name: 'dual control', description: 'Requests waiting for a second person.' },
  ],
  operations: CONSOLE_OPERATIONS,
};
