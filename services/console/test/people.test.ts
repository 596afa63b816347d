import type { RunningConsole } from './support';
import { Person, auditActions, createAccount, signedInPerson, startConsole } from './support';

let running: RunningConsole;
let admin: Person;
let adminId: string;
beforeAll(async () => {
  running = await startConsole();
  const signedIn = await signedInPerson(running, ['admin']);
  admin = signedIn.person;
  adminId = signedIn.account.id;
});
afterAll(() => running.close());

const invite = (body: Record<string, unknown>) => admin.send('post', '/console/v1/accounts', body);

describe('invitations', () => {
  it('invites a person once: the token is shown once, stored hashed, and sets a password that passes the policy', async () => {
    const invited = await invite({ username: 'Mei.Lin', display_name: '林梅', roles: ['finance'] });
    expect(invited.status).toBe(201);
    expect(invited.body.account).toMatchObject({
      username: 'Mei.Lin',
      status: 'invited',
      totp_enrolled: false,
    });
    const { token, url, expires_at: expiresAt } = invited.body.invitation;
    expect(url).toBe(`http://localhost:4104/invitation#token=${token}`);
    expect(Date.parse(expiresAt) - Date.now()).toBeGreaterThan(71.9 * 3_600_000);
    const { rows } = await running.service.dependencies.pool.query(
      `SELECT encode(token_sha256, 'hex') AS hash FROM invitations WHERE account_id = $1`,
      [invited.body.account.id],
    );
    expect(rows[0].hash).toHaveLength(64);
    expect(JSON.stringify(rows)).not.toContain(token);
    // Usernames are unique whatever their case.
    expect((await invite({ username: 'mei.lin', display_name: 'x', roles: ['auditor'] })).body.code).toBe(
      'username_taken',
    );

    const stranger = new Person(running.url);
    const accept = (password: string) =>
      stranger.send('post', '/console/v1/invitations/accept', { token, password });
    expect((await accept('short pass')).body.code).toBe('weak_password');
    expect((await accept('my name is mei.lin, ok')).body.code).toBe('weak_password');
    expect((await new Person(running.url).signIn('mei.lin', 'long enough passphrase')).status).toBe(401);
    const accepted = await accept('long enough passphrase');
    expect(accepted.status).toBe(200);
    expect(accepted.body.status).toBe('active');
    expect((await accept('another long passphrase')).status).toBe(404);
    const signIn = await new Person(running.url).signIn('mei.lin', 'long enough passphrase');
    expect(signIn.body.stage).toBe('totp_enrolment_required');
    expect(await auditActions(running, invited.body.account.id)).toEqual(
      expect.arrayContaining(['account.invited', 'invitation.accepted', 'sign_in.password_accepted']),
    );
  });

  it('refuses an expired invitation', async () => {
    const invited = await invite({ username: 'late.comer', display_name: 'Late', roles: ['auditor'] });
    await running.service.dependencies.pool.query(
      `UPDATE invitations SET expires_at = now() - interval '1 second' WHERE account_id = $1`,
      [invited.body.account.id],
    );
    const answer = await new Person(running.url).send('post', '/console/v1/invitations/accept', {
      token: invited.body.invitation.token,
      password: 'long enough passphrase',
    });
    expect(answer.status).toBe(404);
  });
});

describe('roles', () => {
  it('never gives one account admin and finance (422 conflicting_roles), nor lets the database hold one', async () => {
    const both = await invite({
      username: 'two.hats',
      display_name: 'Two hats',
      roles: ['admin', 'finance'],
    });
    expect(both.status).toBe(422);
    expect(both.body.code).toBe('conflicting_roles');
    const finance = await createAccount(running, ['finance']);
    const patched = await admin.send('patch', `/console/v1/accounts/${finance.id}`, {
      roles: ['finance', 'admin'],
    });
    expect(patched.status).toBe(422);
    expect(patched.body.code).toBe('conflicting_roles');
    await expect(
      running.service.dependencies.pool.query(`UPDATE accounts SET roles = '{admin,finance}' WHERE id = $1`, [
        finance.id,
      ]),
    ).rejects.toThrow(/check constraint/u);
  });

  it('keeps merchant staff to their one role and merchant', async () => {
    expect(
      (await invite({ username: 'till.one', display_name: 'Till', roles: ['merchant_staff'] })).body.code,
    ).toBe('merchant_staff_role');
    const staff = await invite({
      username: 'till.two',
      display_name: 'Till',
      roles: ['merchant_staff'],
      merchant_id: 'mer_0000000000000000000000001',
    });
    expect(staff.status).toBe(201);
    expect(staff.body.account.merchant_id).toBe('mer_0000000000000000000000001');
  });

  it('audits a role change with before and after, and ends the person’s sessions', async () => {
    const { person: auditor, account } = await signedInPerson(running, ['auditor']);
    const changed = await admin.send('patch', `/console/v1/accounts/${account.id}`, { roles: ['finance'] });
    expect(changed.status).toBe(200);
    expect(changed.body.roles).toEqual(['finance']);
    expect((await auditor.send('get', '/console/v1/session')).status).toBe(401);
    const trail = await admin.send(
      'get',
      `/console/v1/audit_events?account_id=${account.id}&action=account.roles_changed`,
    );
    expect(trail.body.data).toEqual([
      expect.objectContaining({
        actor: `person:${adminId}`,
        action: 'account.roles_changed',
        before: { roles: ['auditor'] },
        after: { roles: ['finance'] },
      }),
    ]);
    // The new finance role needs a second factor at the next sign-in.
    expect((await new Person(running.url).signIn(account.username, account.password)).body.stage).toBe(
      'totp_enrolment_required',
    );
  });

  it('does not let an admin demote or disable themselves', async () => {
    const demoted = await admin.send('patch', `/console/v1/accounts/${adminId}`, { roles: ['auditor'] });
    expect(demoted.status).toBe(403);
    expect(demoted.body.code).toBe('self_change_refused');
    const disabled = await admin.send('post', `/console/v1/accounts/${adminId}/disable`, {
      reason: 'leaving',
    });
    expect(disabled.body.code).toBe('self_change_refused');
    expect(
      (await admin.send('patch', `/console/v1/accounts/${adminId}`, { display_name: 'Renamed' })).status,
    ).toBe(200);
  });
});

describe('disabling', () => {
  it('ends every session of a disabled person at once, and audits it', async () => {
    const { person, account } = await signedInPerson(running, ['auditor']);
    const second = new Person(running.url);
    await second.signIn(account.username, account.password);
    const disabled = await admin.send('post', `/console/v1/accounts/${account.id}/disable`, {
      reason: 'left the union',
    });
    expect(disabled.status).toBe(200);
    expect(disabled.body.status).toBe('disabled');
    expect((await person.send('get', '/console/v1/session')).status).toBe(401);
    expect((await second.send('get', '/api/merchant-onboarding/v1/merchants')).status).toBe(401);
    expect((await new Person(running.url).signIn(account.username, account.password)).status).toBe(401);
    const { rows } = await running.service.dependencies.pool.query(
      `SELECT count(*)::int AS live FROM sessions WHERE account_id = $1 AND ended_at IS NULL`,
      [account.id],
    );
    expect(rows[0].live).toBe(0);
    expect(await auditActions(running, account.id)).toContain('account.disabled');
  });
});

describe('a lost authenticator', () => {
  it('lets another admin reset a person’s second factor: their sessions end and they enrol again', async () => {
    const { person, account } = await signedInPerson(running, ['finance']);
    const reset = await admin.send('post', `/console/v1/accounts/${account.id}/reset_totp`, {
      reason: 'phone lost',
    });
    expect(reset.status).toBe(200);
    expect(reset.body.totp_enrolled).toBe(false);
    expect((await person.send('get', '/console/v1/session')).status).toBe(401);
    const again = await new Person(running.url).signIn(account.username, account.password);
    expect(again.body.stage).toBe('totp_enrolment_required');
    expect(await auditActions(running, account.id)).toContain('totp.reset');
    const own = await admin.send('post', `/console/v1/accounts/${adminId}/reset_totp`, { reason: 'mine' });
    expect(own.body.code).toBe('self_change_refused');
  });
});

describe('who may', () => {
  it('lets an auditor read people and the audit trail but change nothing; finance neither', async () => {
    const { person: auditor } = await signedInPerson(running, ['auditor']);
    expect((await auditor.send('get', '/console/v1/accounts')).status).toBe(200);
    expect((await auditor.send('get', '/console/v1/audit_events')).status).toBe(200);
    const refused = await auditor.send('post', '/console/v1/accounts', {
      username: 'x.y',
      display_name: 'x',
      roles: ['auditor'],
    });
    expect(refused.status).toBe(403);
    const { person: finance } = await signedInPerson(running, ['finance']);
    expect((await finance.send('get', '/console/v1/accounts')).status).toBe(403);
  });

  it('shows a locked account as locked until when', async () => {
    const account = await createAccount(running, ['auditor']);
    const until = new Date(Date.now() + 10 * 60_000);
    await running.service.dependencies.pool.query(`UPDATE accounts SET locked_until = $2 WHERE id = $1`, [
      account.id,
      until,
    ]);
    const listed = await admin.send('get', '/console/v1/accounts?limit=100');
    const shown = listed.body.data.find((item: { id: string }) => item.id === account.id);
    expect(shown.locked_until).toBe(until.toISOString());
  });

  it('pages the people list', async () => {
    const first = await admin.send('get', '/console/v1/accounts?limit=2');
    expect(first.body.data).toHaveLength(2);
    expect(first.body.has_more).toBe(true);
    const next = await admin.send(
      'get',
      `/console/v1/accounts?limit=2&starting_after=${first.body.data[1].id}`,
    );
    expect(next.body.data[0].id).not.toBe(first.body.data[1].id);
  });
});
