/** The console on its own database for a test file, and a person with a cookie jar talking to it. */
import { randomUUID } from 'node:crypto';
import request from 'supertest';
import type { Response } from 'supertest';
import { PLATFORM_OPERATIONS, assertDocumentedResponse } from '@puhui/http';
import { startService } from '@puhui/service';
import type { RunningService } from '@puhui/service';
import { startTestService } from '@puhui/testing';
import type { TestService } from '@puhui/testing';
import type { ConsoleConfig } from '../src/config';
import { loadConsoleConfig } from '../src/config';
import type { OperatorRole } from '../src/domain/account';
import { hashPassword } from '../src/domain/passwords';
import { totpCode } from '../src/domain/totp';
import { consoleApi } from '../src/http/api';
import { consoleService } from '../src/service';
import { insertAccount } from '../src/store/accounts';

export const ORIGIN = 'http://localhost:4104';

const DOCUMENTED_OPERATIONS = [...PLATFORM_OPERATIONS, ...consoleApi.operations];
/** The console's own API, whose every answer a test gets is held against its document. */
const DOCUMENTED_PATH = /^\/(console\/v1|\.well-known)\//u;

export type RunningConsole = TestService<RunningService<ConsoleConfig, never>>;

export function startConsole(overrides: Record<string, string> = {}): Promise<RunningConsole> {
  return startTestService((environment) => startService(consoleService(loadConsoleConfig(environment))), {
    CONSOLE_PUBLIC_ORIGIN: ORIGIN,
    ...overrides,
  });
}

export interface SendOptions {
  origin?: string | null;
  csrf?: string | null;
  headers?: Record<string, string>;
}

/** A browser, as far as the console can tell: a cookie jar, the Origin header and the CSRF token. */
export class Person {
  cookie: string | undefined;
  csrf: string | undefined;

  constructor(readonly url: string) {}

  async send(
    method: 'get' | 'post' | 'patch' | 'delete',
    path: string,
    body?: unknown,
    options: SendOptions = {},
  ): Promise<Response> {
    let call = request(this.url)[method](path);
    const origin = options.origin === undefined ? ORIGIN : options.origin;
    if (origin !== null) call = call.set('Origin', origin);
    const csrf = options.csrf === undefined ? this.csrf : options.csrf;
    if (csrf !== null && csrf !== undefined) call = call.set('X-CSRF-Token', csrf);
    if (this.cookie !== undefined) call = call.set('Cookie', this.cookie);
    for (const [name, value] of Object.entries(options.headers ?? {})) call = call.set(name, value);
    const response = body === undefined ? await call : await call.send(body as object);
    // A 204 has no body, hence no content type, which the conformance check would ask for.
    if (DOCUMENTED_PATH.test(path) && !(response.status === 204 && response.text === '')) {
      const contentType = (response.headers['content-type'] as string | undefined) ?? null;
      assertDocumentedResponse(DOCUMENTED_OPERATIONS, {
        method,
        path,
        status: response.status,
        contentType,
        body: contentType === null ? response.text : response.body,
      });
    }
    this.remember(response);
    return response;
  }

  private remember(response: Response): void {
    const cookies = ([] as string[]).concat(response.headers['set-cookie'] ?? []);
    for (const cookie of cookies) {
      const [pair] = cookie.split(';');
      if (pair === undefined || !pair.startsWith('puhui_session=')) continue;
      this.cookie = pair === 'puhui_session=' ? undefined : pair;
    }
    const token = (response.body as { csrf_token?: unknown } | undefined)?.csrf_token;
    if (typeof token === 'string') this.csrf = token;
  }

  signIn(username: string, password: string, options: SendOptions = {}): Promise<Response> {
    return this.send('post', '/console/v1/session', { username, password }, options);
  }
}

export interface TestAccount {
  id: string;
  username: string;
  password: string;
  roles: OperatorRole[];
  merchantId: string | null;
}

/** An active account straight in the database (the demo people are created the same way). */
export async function createAccount(
  running: RunningConsole,
  roles: OperatorRole[],
  options: { merchantId?: string; username?: string } = {},
): Promise<TestAccount> {
  const username = options.username ?? `p${randomUUID().slice(0, 8)}`;
  const password = `correct horse ${randomUUID().slice(0, 6)}`;
  const account = await insertAccount(running.service.dependencies.pool, {
    id: randomUUID(),
    username,
    display_name: `Test ${username}`,
    roles,
    merchant_id: options.merchantId ?? null,
    status: 'active',
    password_hash: await hashPassword(password),
  });
  return { id: account.id, username, password, roles, merchantId: account.merchant_id };
}

/** Signs a new person in all the way: password, then TOTP enrolment when their role needs it. */
export async function signedInPerson(
  running: RunningConsole,
  roles: OperatorRole[],
  options: { merchantId?: string } = {},
): Promise<{ person: Person; account: TestAccount; totpSecret?: string }> {
  const account = await createAccount(running, roles, options);
  const person = new Person(running.url);
  const answer = await person.signIn(account.username, account.password);
  expect(answer.status).toBe(200);
  if ((answer.body as { stage: string }).stage === 'signed_in') return { person, account };
  const enrolment = await person.send('post', '/console/v1/session/totp/enrolment');
  expect(enrolment.status).toBe(200);
  const totpSecret = (enrolment.body as { secret: string }).secret;
  const confirmed = await person.send('post', '/console/v1/session/totp', { code: totpCode(totpSecret) });
  expect(confirmed.status).toBe(200);
  return { person, account, totpSecret };
}

export async function auditActions(running: RunningConsole, accountId: string): Promise<string[]> {
  const { rows } = await running.service.dependencies.pool.query<{ action: string }>(
    'SELECT action FROM audit_events WHERE account_id = $1 ORDER BY id',
    [accountId],
  );
  return rows.map((row) => row.action);
}
