/**
 * puhui_console_sign_ins_total{outcome} (issue 20) as GET /metrics shows it: each step of a
 * sign-in counted once under its outcome, and never a username in the text. The counter is the
 * process's, so every check reads the change a step made.
 */
import { parseMetricsText, sampleValue } from '@puhui/metrics';
import { totpCode } from '../src/domain/totp';
import { SIGN_IN_OUTCOMES } from '../src/metrics/sign-ins';
import type { SignInOutcome } from '../src/metrics/sign-ins';
import type { RunningConsole } from './support';
import { Person, createAccount, signedInPerson, startConsole } from './support';

let running: RunningConsole;
beforeAll(async () => {
  running = await startConsole();
});
afterAll(() => running.close());

async function scrape(
  console: RunningConsole = running,
): Promise<{ text: string; counts: Record<SignInOutcome, number> }> {
  const response = await fetch(`${console.url}/metrics`);
  expect(response.status).toBe(200);
  const text = await response.text();
  const samples = parseMetricsText(text);
  const counts = Object.fromEntries(
    SIGN_IN_OUTCOMES.map((outcome) => [
      outcome,
      sampleValue(samples, 'puhui_console_sign_ins_total', { service: 'console', outcome }),
    ]),
  ) as Record<SignInOutcome, number>;
  return { text, counts };
}

/** What `step` added to each outcome (only the outcomes it moved). */
async function countedBy(step: () => Promise<void>, console: RunningConsole = running) {
  const before = (await scrape(console)).counts;
  await step();
  const after = (await scrape(console)).counts;
  return Object.fromEntries(
    SIGN_IN_OUTCOMES.filter((outcome) => after[outcome] !== before[outcome]).map((outcome) => [
      outcome,
      after[outcome] - before[outcome],
    ]),
  );
}

describe('console sign-ins at GET /metrics', () => {
  it('shows every outcome from the first scrape, at a number', async () => {
    const { counts } = await scrape();
    expect(Object.keys(counts)).toHaveLength(SIGN_IN_OUTCOMES.length);
    for (const outcome of SIGN_IN_OUTCOMES) expect(Number.isFinite(counts[outcome])).toBe(true);
  });

  it('counts a password-only sign-in as ok, and a wrong password (or unknown name) as wrong_password', async () => {
    const account = await createAccount(running, ['auditor']);
    expect(
      await countedBy(async () => {
        expect((await new Person(running.url).signIn(account.username, account.password)).status).toBe(200);
      }),
    ).toEqual({ ok: 1 });
    expect(
      await countedBy(async () => {
        expect((await new Person(running.url).signIn(account.username, 'not the password')).status).toBe(401);
        expect((await new Person(running.url).signIn('nobody-by-this-name', 'whatever it is')).status).toBe(
          401,
        );
      }),
    ).toEqual({ wrong_password: 2 });
    expect((await scrape()).text).not.toContain(account.username);
  });

  it('counts the password of an admin as accepted, then the second factor as ok or failed', async () => {
    const added = await countedBy(async () => {
      await signedInPerson(running, ['admin']);
    });
    expect(added).toEqual({ password_accepted: 1, ok: 1 });

    const { account, totpSecret } = await signedInPerson(running, ['finance']);
    const person = new Person(running.url);
    expect((await person.signIn(account.username, account.password)).body.stage).toBe('totp_required');
    const wrongCode = totpCode(totpSecret as string) === '000000' ? '111111' : '000000';
    expect(
      await countedBy(async () => {
        expect((await person.send('post', '/console/v1/session/totp', { code: wrongCode })).status).toBe(401);
      }),
    ).toEqual({ second_factor_failed: 1 });
  });

  it('counts a second factor whose sealed secret does not open (copied from another row) as second_factor_unreadable', async () => {
    const a = await signedInPerson(running, ['finance']);
    const b = await signedInPerson(running, ['finance']);
    await running.service.dependencies.pool.query(
      `UPDATE accounts SET totp_secret_sealed = (SELECT totp_secret_sealed FROM accounts WHERE id = $2) WHERE id = $1`,
      [b.account.id, a.account.id],
    );
    const person = new Person(running.url);
    expect((await person.signIn(b.account.username, b.account.password)).body.stage).toBe('totp_required');
    expect(
      await countedBy(async () => {
        const refused = await person.send('post', '/console/v1/session/totp', {
          code: totpCode(a.totpSecret as string, Date.now() + 30_000),
        });
        expect(refused.status).toBe(409);
        expect(refused.body.code).toBe('second_factor_unreadable');
      }),
    ).toEqual({ second_factor_unreadable: 1 });
  });

  it('counts a sign-in refused while the account is locked as locked', async () => {
    const account = await createAccount(running, ['auditor']);
    // Five failures within 15 minutes lock the account (commands/sign-in.ts LOCKOUT).
    for (let attempt = 0; attempt < 5; attempt += 1)
      expect((await new Person(running.url).signIn(account.username, 'wrong again')).status).toBe(401);
    expect(
      await countedBy(async () => {
        const refused = await new Person(running.url).signIn(account.username, account.password);
        expect(refused.status).toBe(429);
        expect(refused.body.code).toBe('sign_in_locked');
      }),
    ).toEqual({ locked: 1 });
  });

  it('counts an address over its rate as rate_limited', async () => {
    const strict = await startConsole({ CONSOLE_SIGN_IN_RATE_LIMIT_PER_MINUTE: '1' });
    try {
      const account = await createAccount(strict, ['auditor']);
      expect(
        await countedBy(async () => {
          expect((await new Person(strict.url).signIn(account.username, account.password)).status).toBe(200);
          const refused = await new Person(strict.url).signIn(account.username, account.password);
          expect(refused.status).toBe(429);
          expect(refused.body.code).toBe('rate_limited');
        }, strict),
      ).toEqual({ ok: 1, rate_limited: 1 });
    } finally {
      await strict.close();
    }
  });
});
