/**
 * The console as the suite reaches it outside the browser: its session API from Node (to check
 * that an old cookie no longer works, or to request an approval as a signed-in person), its
 * database (to age a session), and TOTP codes computed the way an authenticator app does.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { Secret, TOTP } from 'otpauth';
import { Client } from 'pg';
import type { Json, PuhuiSystem } from '../../e2e/test/system';

export const SESSION_COOKIE = 'puhui_session';
const TOTP_PERIOD_SECONDS = 30;

export interface ConsoleAnswer {
  status: number;
  body: Json;
  headers: Headers;
}

/** One call to the console as a browser would send it: its Origin, the session cookie, the CSRF token. */
export async function callConsole(
  system: PuhuiSystem,
  method: string,
  pathAndQuery: string,
  options: { cookie?: string; csrfToken?: string; body?: unknown } = {},
): Promise<ConsoleAnswer> {
  const origin = system.url('console');
  const response = await fetch(`${origin}${pathAndQuery}`, {
    method,
    headers: {
      origin,
      ...(options.cookie === undefined ? {} : { cookie: `${SESSION_COOKIE}=${options.cookie}` }),
      ...(options.csrfToken === undefined ? {} : { 'x-csrf-token': options.csrfToken }),
      ...(options.body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
    redirect: 'manual',
    signal: AbortSignal.timeout(15_000),
  });
  const text = await response.text();
  let body: Json;
  try {
    body = text === '' ? {} : (JSON.parse(text) as Json);
  } catch {
    body = { text };
  }
  return { status: response.status, body, headers: response.headers };
}

/** Runs `sql` on the console's database of this run (what its API does not let a test do: age a session). */
export async function onConsoleDatabase<T>(
  system: PuhuiSystem,
  body: (client: Client) => Promise<T>,
): Promise<T> {
  const client = new Client({ connectionString: system.databaseUrl('console') });
  await client.connect();
  try {
    return await body(client);
  } finally {
    await client.end();
  }
}

/**
 * An authenticator app for one secret. The console accepts each 30-second step's code once
 * (accounts.totp_last_step), so `nextCode` waits for a step after the last one it gave.
 */
export class Authenticator {
  private readonly totp: TOTP;
  private lastStep = -1;

  constructor(readonly secret: string) {
    this.totp = new TOTP({
      secret: Secret.fromBase32(secret.replace(/[\s-]/gu, '').toUpperCase()),
      digits: 6,
      period: TOTP_PERIOD_SECONDS,
      algorithm: 'SHA1',
    });
  }

  async nextCode(): Promise<string> {
    let step = Math.floor(Date.now() / 1000 / TOTP_PERIOD_SECONDS);
    if (step <= this.lastStep) {
      const nextStepAt = (this.lastStep + 1) * TOTP_PERIOD_SECONDS * 1000;
      await sleep(nextStepAt - Date.now() + 200);
      step = Math.floor(Date.now() / 1000 / TOTP_PERIOD_SECONDS);
    }
    this.lastStep = step;
    return this.totp.generate({ timestamp: step * TOTP_PERIOD_SECONDS * 1000 });
  }
}

/** The base32 secret an enrolment page shows, from its otpauth:// URI or its text. */
export function secretFromEnrolmentText(text: string): string | undefined {
  const fromUri = /otpauth:\/\/totp\/[^\s"']*[?&]secret=([A-Z2-7]+)/iu.exec(text);
  if (fromUri?.[1] !== undefined) return fromUri[1].toUpperCase();
  // A base32 secret of at least 16 characters, possibly shown in groups of four.
  const grouped = /\b((?:[A-Z2-7]{4}[ -]?){4,}[A-Z2-7]*)\b/u.exec(text);
  return grouped?.[1]?.replace(/[\s-]/gu, '');
}
