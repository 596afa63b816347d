import { hash } from '@node-rs/argon2';
import { totpCode } from '../src/domain/totp';
import type { RunningConsole } from './support';
import { ORIGIN, Person, auditActions, createAccount, signedInPerson, startConsole } from './support';

let running: RunningConsole;
beforeAll(async () => {
  running = await startConsole();
});
afterAll(() => running.close());

function problemOf(body: unknown) {
  const { code, status, title, detail } = body as Record<string, unknown>;
  return { code, status, title, detail };
}

describe('password', () => {
  it('signs an auditor in at once, with an HttpOnly SameSite=Strict cookie and a CSRF token', async () => {
    const account = await createAccount(running, ['auditor']);
    const person = new Person(running.url);
    const answer = await person.signIn(account.username.toUpperCase(), account.password);
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({
      stage: 'signed_in',
      account: { id: account.id, roles: ['auditor'] },
    });
    expect(typeof answer.body.csrf_token).toBe('string');
    const cookie = ([] as string[]).concat(answer.headers['set-cookie'] ?? [])[0] ?? '';
    expect(cookie).toMatch(
      /^puhui_session=[A-Za-z0-9_-]{43}; Max-Age=\d+; Path=\/; HttpOnly; SameSite=Strict$/u,
    );
    // Only the hash is stored: the cookie's value is nowhere in the database.
    const secret = cookie.split(';')[0]?.split('=')[1] ?? '';
    const { rows } = await running.service.dependencies.pool.query(
      `SELECT 1 FROM sessions WHERE encode(secret_sha256, 'escape') LIKE '%' || $1 || '%' OR csrf_token = $1 OR id::text = $1`,
      [secret],
    );
    expect(rows).toHaveLength(0);
    const session = await person.send('get', '/console/v1/session');
    expect(session.status).toBe(200);
    expect(session.body).toMatchObject({ stage: 'signed_in', csrf_token: answer.body.csrf_token });
    expect(await auditActions(running, account.id)).toEqual(['sign_in.succeeded']);
  });

  it('answers a wrong password and an unknown username the same way, in similar time', async () => {
    const account = await createAccount(running, ['auditor']);
    const timed = async (username: string) => {
      const startedAt = process.hrtime.bigint();
      const answer = await new Person(running.url).signIn(username, 'not the password at all');
      return { answer, ms: Number(process.hrtime.bigint() - startedAt) / 1e6 };
    };
    await timed('nobody-warm-up');
    const wrong = await timed(account.username);
    const unknown = await timed('nobody-by-this-name');
    expect(wrong.answer.status).toBe(401);
    expect(unknown.answer.status).toBe(401);
    expect(problemOf(wrong.answer.body)).toEqual(problemOf(unknown.answer.body));
    expect(problemOf(wrong.answer.body).code).toBe('invalid_credentials');
    expect(wrong.answer.headers['set-cookie']).toBeUndefined();
    // Both ran Argon2 (≈ 9 ms here): an unknown name is not answered in a fraction of the time.
    expect(unknown.ms).toBeGreaterThan(wrong.ms / 3);
  });

  it('locks an account for 15 minutes after 5 failures, even against the right password (audited)', async () => {
    const account = await createAccount(running, ['auditor']);
    const person = new Person(running.url);
    for (let attempt = 1; attempt <= 5; attempt += 1)
      expect((await person.signIn(account.username, 'wrong password here')).status).toBe(401);
    const locked = await person.signIn(account.username, account.password);
    expect(locked.status).toBe(429);
    expect(locked.body.code).toBe('sign_in_locked');
    const retryAfter = Number(locked.headers['retry-after']);
    expect(retryAfter).toBeGreaterThan(14 * 60);
    expect(retryAfter).toBeLessThanOrEqual(15 * 60);
    const actions = await auditActions(running, account.id);
    expect(actions.filter((action) => action === 'sign_in.failed')).toHaveLength(5);
    expect(actions).toContain('sign_in.locked');
    // Once the lock has passed, the right password works again.
    await running.service.dependencies.pool.query(
      `UPDATE accounts SET locked_until = now() - interval '1 second' WHERE id = $1`,
      [account.id],
    );
    expect((await person.signIn(account.username, account.password)).status).toBe(200);
  });

  it('rehashes a password hashed with older Argon2 parameters at the next sign-in', async () => {
    const account = await createAccount(running, ['auditor']);
    const weaker = await hash(account.password, {
      algorithm: 2,
      memoryCost: 8192,
      timeCost: 1,
      parallelism: 1,
    });
    const pool = running.service.dependencies.pool;
    await pool.query(`UPDATE accounts SET password_hash = $2 WHERE id = $1`, [account.id, weaker]);
    expect((await new Person(running.url).signIn(account.username, account.password)).status).toBe(200);
    const { rows } = await pool.query(`SELECT password_hash FROM accounts WHERE id = $1`, [account.id]);
    expect(rows[0].password_hash).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/u);
    expect((await new Person(running.url).signIn(account.username, account.password)).status).toBe(200);
  });

  it('refuses an invited or disabled account like a wrong password', async () => {
    const account = await createAccount(running, ['auditor']);
    await running.service.dependencies.pool.query(`UPDATE accounts SET status = 'disabled' WHERE id = $1`, [
      account.id,
    ]);
    const answer = await new Person(running.url).signIn(account.username, account.password);
    expect(answer.status).toBe(401);
    expect(answer.body.code).toBe('invalid_credentials');
  });
});

describe('the second factor', () => {
  it('makes an admin enrol TOTP (QR code as SVG) before anything else, then asks for a code at every sign-in', async () => {
    const account = await createAccount(running, ['admin']);
    const person = new Person(running.url);
    const first = await person.signIn(account.username, account.password);
    expect(first.body.stage).toBe('totp_enrolment_required');
    const halfwayCookie = person.cookie;
    // Not signed in yet: neither the people nor the proxy.
    expect((await person.send('get', '/console/v1/accounts')).body.code).toBe('not_signed_in');
    expect((await person.send('get', '/api/merchant-onboarding/v1/merchants')).status).toBe(401);

    const enrolment = await person.send('post', '/console/v1/session/totp/enrolment');
    expect(enrolment.status).toBe(200);
    expect(enrolment.body.qr_svg).toMatch(/^<svg[\s\S]*<\/svg>\s*$/u);
    expect(enrolment.body.otpauth_uri).toMatch(/^otpauth:\/\/totp\/Puhui:.+\?.*secret=[A-Z2-7]+/u);
    expect(enrolment.body.otpauth_uri).toMatch(/algorithm=SHA1&digits=6&period=30/u);
    const { rows } = await running.service.dependencies.pool.query(
      `SELECT totp_pending_secret_sealed FROM accounts WHERE id = $1`,
      [account.id],
    );
    expect(rows[0].totp_pending_secret_sealed).toMatch(/^v2\./u);
    expect(rows[0].totp_pending_secret_sealed).not.toContain(enrolment.body.secret);

    const wrong = await person.send('post', '/console/v1/session/totp', {
      code: '000000' === totpCode(enrolment.body.secret) ? '111111' : '000000',
    });
    expect(wrong.status).toBe(401);
    expect(wrong.body.code).toBe('invalid_totp');
    const confirmed = await person.send('post', '/console/v1/session/totp', {
      code: totpCode(enrolment.body.secret),
    });
    expect(confirmed.status).toBe(200);
    expect(confirmed.body).toMatchObject({ stage: 'signed_in', account: { totp_enrolled: true } });
    // The cookie that only knew the password is retired.
    expect(person.cookie).not.toBe(halfwayCookie);
    const stale = new Person(running.url);
    stale.cookie = halfwayCookie;
    expect((await stale.send('get', '/console/v1/session')).status).toBe(401);
    expect((await person.send('get', '/console/v1/accounts')).status).toBe(200);
    expect(await auditActions(running, account.id)).toEqual(
      expect.arrayContaining([
        'sign_in.password_accepted',
        'totp.enrolment_started',
        'sign_in.totp_failed',
        'totp.enrolled',
        'sign_in.succeeded',
      ]),
    );

    // Next sign-in: the code of the next step (the current one was used to enrol).
    const again = new Person(running.url);
    expect((await again.signIn(account.username, account.password)).body.stage).toBe('totp_required');
    expect((await again.send('post', '/console/v1/session/totp/enrolment')).status).toBe(409);
    const code = totpCode(enrolment.body.secret, Date.now() + 30_000);
    expect((await again.send('post', '/console/v1/session/totp', { code })).body.stage).toBe('signed_in');

    // The same code again, in its window: refused.
    const replay = new Person(running.url);
    await replay.signIn(account.username, account.password);
    const replayed = await replay.send('post', '/console/v1/session/totp', { code });
    expect(replayed.status).toBe(401);
    expect(replayed.body.code).toBe('invalid_totp');
    expect(await auditActions(running, account.id)).toContain('sign_in.totp_replayed');
  });

  it('counts wrong codes towards the lockout', async () => {
    const { account, totpSecret } = await signedInPerson(running, ['finance']);
    const person = new Person(running.url);
    await person.signIn(account.username, account.password);
    const wrongCode = totpCode(totpSecret as string, Date.now() - 10 * 60_000);
    for (let attempt = 1; attempt <= 5; attempt += 1)
      expect((await person.send('post', '/console/v1/session/totp', { code: wrongCode })).status).toBe(401);
    const locked = await person.send('post', '/console/v1/session/totp', {
      code: totpCode(totpSecret as string, Date.now() + 30_000),
    });
    expect(locked.status).toBe(429);
    expect(locked.body.code).toBe('sign_in_locked');
  });
});

describe('a TOTP secret belongs to its account (decision 0016)', () => {
  it('does not open when copied onto another person’s row: 409 second_factor_unreadable, not a sign-in', async () => {
    const a = await signedInPerson(running, ['finance']);
    const b = await signedInPerson(running, ['finance']);
    await running.service.dependencies.pool.query(
      `UPDATE accounts SET totp_secret_sealed = (SELECT totp_secret_sealed FROM accounts WHERE id = $2) WHERE id = $1`,
      [b.account.id, a.account.id],
    );
    const person = new Person(running.url);
    expect((await person.signIn(b.account.username, b.account.password)).body.stage).toBe('totp_required');
    for (const secret of [a.totpSecret, b.totpSecret]) {
      const answer = await person.send('post', '/console/v1/session/totp', {
        code: totpCode(secret as string, Date.now() + 30_000),
      });
      expect(answer.status).toBe(409);
      expect(answer.body).toMatchObject({
        code: 'second_factor_unreadable',
        reason: 'authentication_failed',
      });
    }
    expect((await person.send('get', '/console/v1/accounts')).status).toBe(401);
  });
});

describe('CSRF', () => {
  it('refuses a sign-in without the console’s Origin', async () => {
    const account = await createAccount(running, ['auditor']);
    const none = await new Person(running.url).signIn(account.username, account.password, { origin: null });
    expect(none.status).toBe(403);
    expect(none.body.code).toBe('bad_origin');
    const elsewhere = await new Person(running.url).signIn(account.username, account.password, {
      origin: 'https://evil.example',
    });
    expect(elsewhere.status).toBe(403);
    expect(elsewhere.body.code).toBe('bad_origin');
    // In development the same origin with 127.0.0.1 for localhost is the console too.
    const loopback = await new Person(running.url).signIn(account.username, account.password, {
      origin: ORIGIN.replace('localhost', '127.0.0.1'),
    });
    expect(loopback.status).toBe(200);
  });

  it('refuses a state-changing call of a session without its CSRF token, or with another', async () => {
    const { person } = await signedInPerson(running, ['auditor']);
    const missing = await person.send('post', '/console/v1/sessions/sign_out_everywhere', undefined, {
      csrf: null,
    });
    expect(missing.status).toBe(403);
    expect(missing.body.code).toBe('csrf_token_invalid');
    const other = await person.send('delete', '/console/v1/session', undefined, { csrf: 'x'.repeat(43) });
    expect(other.body.code).toBe('csrf_token_invalid');
    const noOrigin = await person.send('delete', '/console/v1/session', undefined, { origin: null });
    expect(noOrigin.body.code).toBe('bad_origin');
    const proxied = await person.send('post', '/api/discount-rules/v1/rules', {}, { csrf: null });
    expect(proxied.body.code).toBe('csrf_token_invalid');
    // Still signed in: none of them did anything.
    expect((await person.send('get', '/console/v1/session')).status).toBe(200);
    expect((await person.send('delete', '/console/v1/session')).status).toBe(204);
    expect((await person.send('get', '/console/v1/session')).status).toBe(401);
  });
});

describe('the per-address rate limit', () => {
  it('answers 429 rate_limited with Retry-After past the limit, whatever the usernames', async () => {
    const limited = await startConsole({ CONSOLE_SIGN_IN_RATE_LIMIT_PER_MINUTE: '3' });
    try {
      const person = new Person(limited.url);
      const statuses = [];
      for (let attempt = 1; attempt <= 4; attempt += 1)
        statuses.push((await person.signIn(`someone${attempt}`, 'a password of some kind')).status);
      expect(statuses).toEqual([401, 401, 401, 429]);
      const refused = await person.signIn('someone5', 'a password of some kind');
      expect(refused.body.code).toBe('rate_limited');
      expect(Number(refused.headers['retry-after'])).toBeGreaterThanOrEqual(1);
      expect(Number(refused.headers['retry-after'])).toBeLessThanOrEqual(60);
    } finally {
      await limited.close();
    }
  });
});

describe('over TLS', () => {
  it('marks the cookie Secure when the console’s origin is https', async () => {
    const secure = await startConsole({ CONSOLE_PUBLIC_ORIGIN: 'https://console.example' });
    try {
      const account = await createAccount(secure, ['auditor']);
      const answer = await new Person(secure.url).signIn(account.username, account.password, {
        origin: 'https://console.example',
      });
      expect(answer.status).toBe(200);
      expect(String(answer.headers['set-cookie'])).toMatch(/; HttpOnly; SameSite=Strict; Secure$/u);
      // The http origin of the same host is another origin.
      const plain = await new Person(secure.url).signIn(account.username, account.password, {
        origin: 'http://console.example',
      });
      expect(plain.body.code).toBe('bad_origin');
    } finally {
      await secure.close();
    }
  });
});
