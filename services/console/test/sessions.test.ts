import { pruneOldSessions } from '../src/store/sessions';
import type { RunningConsole } from './support';
import { Person, auditActions, signedInPerson, startConsole } from './support';

let running: RunningConsole;
beforeAll(async () => {
  running = await startConsole();
});
afterAll(() => running.close());

const query = (text: string, values: unknown[]) => running.service.dependencies.pool.query(text, values);

it('ends a session left idle past CONSOLE_SESSION_IDLE_SECONDS, and clears its cookie', async () => {
  const { person, account } = await signedInPerson(running, ['auditor']);
  const state = await person.send('get', '/console/v1/session');
  const idleExpiresAt = Date.parse(state.body.idle_expires_at);
  expect(idleExpiresAt - Date.now()).toBeGreaterThan(1795_000);
  expect(idleExpiresAt - Date.now()).toBeLessThanOrEqual(1800_000);
  expect(Date.parse(state.body.expires_at) - Date.now()).toBeGreaterThan(43_100_000);

  await query(`UPDATE sessions SET last_seen_at = now() - interval '1799 seconds' WHERE account_id = $1`, [
    account.id,
  ]);
  expect((await person.send('get', '/console/v1/session')).status).toBe(200);
  // That call moved last_seen_at on; now leave it idle for longer than 30 minutes.
  await query(`UPDATE sessions SET last_seen_at = now() - interval '1801 seconds' WHERE account_id = $1`, [
    account.id,
  ]);
  const expired = await person.send('get', '/console/v1/session');
  expect(expired.status).toBe(401);
  expect(expired.body.code).toBe('not_signed_in');
  expect(String(expired.headers['set-cookie'])).toMatch(/^puhui_session=; Max-Age=0/u);
});

it('ends a session at its absolute lifetime however busy it is', async () => {
  const { person, account } = await signedInPerson(running, ['auditor']);
  await query(`UPDATE sessions SET expires_at = now() - interval '1 second' WHERE account_id = $1`, [
    account.id,
  ]);
  expect((await person.send('get', '/console/v1/sessions')).status).toBe(401);
});

it('lists my sessions without their secrets, ends one, and signs out everywhere', async () => {
  const { person: laptop, account } = await signedInPerson(running, ['auditor']);
  const phone = new Person(running.url);
  await phone.signIn(account.username, account.password, { headers: { 'User-Agent': 'phone' } });
  const tablet = new Person(running.url);
  await tablet.signIn(account.username, account.password);

  const listed = await laptop.send('get', '/console/v1/sessions');
  expect(listed.status).toBe(200);
  expect(listed.body.data).toHaveLength(3);
  expect(listed.body.data.filter((session: { current: boolean }) => session.current)).toHaveLength(1);
  const phoneSession = listed.body.data.find(
    (session: { user_agent: string }) => session.user_agent === 'phone',
  );
  expect(JSON.stringify(listed.body)).not.toContain(String(phone.cookie?.split('=')[1]));

  expect((await laptop.send('delete', `/console/v1/sessions/${phoneSession.id}`)).status).toBe(204);
  expect((await phone.send('get', '/console/v1/session')).status).toBe(401);
  expect((await tablet.send('get', '/console/v1/session')).status).toBe(200);
  // Another person's session id is not found.
  const { person: stranger } = await signedInPerson(running, ['auditor']);
  const tabletId = (await tablet.send('get', '/console/v1/sessions')).body.data.find(
    (session: { current: boolean }) => session.current,
  ).id;
  expect((await stranger.send('delete', `/console/v1/sessions/${tabletId}`)).status).toBe(404);

  expect((await tablet.send('post', '/console/v1/sessions/sign_out_everywhere')).status).toBe(204);
  expect((await laptop.send('get', '/console/v1/session')).status).toBe(401);
  expect((await tablet.send('get', '/console/v1/session')).status).toBe(401);
  expect((await stranger.send('get', '/console/v1/session')).status).toBe(200);
  expect(await auditActions(running, account.id)).toEqual(
    expect.arrayContaining(['session.ended', 'session.signed_out_everywhere']),
  );
});

it('lets a session waiting for its second factor live at most 10 minutes', async () => {
  const { account } = await signedInPerson(running, ['admin']);
  const person = new Person(running.url);
  await person.signIn(account.username, account.password);
  const state = await person.send('get', '/console/v1/session');
  expect(state.body.stage).toBe('totp_required');
  expect(Date.parse(state.body.expires_at) - Date.now()).toBeLessThanOrEqual(600_000);
  expect((await person.send('get', '/console/v1/sessions')).status).toBe(401);
});

it('forgets sessions over for 30 days, and keeps the others', async () => {
  const { account } = await signedInPerson(running, ['auditor']);
  const { account: recent } = await signedInPerson(running, ['auditor']);
  await query(
    `UPDATE sessions SET ended_at = now() - interval '31 days', expires_at = now() - interval '30 days' WHERE account_id = $1`,
    [account.id],
  );
  await query(`UPDATE sessions SET ended_at = now() - interval '29 days' WHERE account_id = $1`, [recent.id]);
  const pruned = await pruneOldSessions(running.service.dependencies.pool, 100);
  expect(pruned).toBe(1);
  const { rows } = await query(`SELECT account_id FROM sessions WHERE account_id = ANY ($1::uuid[])`, [
    [account.id, recent.id],
  ]);
  expect(rows).toEqual([{ account_id: recent.id }]);
});
