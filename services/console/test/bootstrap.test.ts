import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import type { RunningConsole } from './support';
import { Person, startConsole } from './support';

const run = promisify(execFile);
const ROOT = path.join(__dirname, '..', '..', '..');

let running: RunningConsole;
beforeAll(async () => {
  running = await startConsole();
});
afterAll(() => running.close());

function bootstrap(username: string) {
  return run(
    'npx',
    [
      'tsx',
      '--tsconfig',
      'tsconfig.base.json',
      'services/console/src/people/bootstrap.ts',
      '--username',
      username,
      '--display-name',
      'First Admin',
    ],
    { cwd: ROOT, env: { ...process.env, ...running.environment } as NodeJS.ProcessEnv },
  );
}

it('invites the first admin by a one-time link, and refuses once an admin is active', async () => {
  const { stdout } = await bootstrap('first.admin');
  const token = /#token=([A-Za-z0-9_-]+)/u.exec(stdout)?.[1];
  expect(token).toBeDefined();
  const person = new Person(running.url);
  const accepted = await person.send('post', '/console/v1/invitations/accept', {
    token,
    password: 'a long first password',
  });
  expect(accepted.status).toBe(200);
  expect(accepted.body.roles).toEqual(['admin']);
  expect((await person.signIn('first.admin', 'a long first password')).body.stage).toBe(
    'totp_enrolment_required',
  );
  await expect(bootstrap('second.admin')).rejects.toMatchObject({
    code: 1,
    stderr: expect.stringContaining('An active admin exists'),
  });
  const { rows } = await running.service.dependencies.pool.query(
    `SELECT actor, action FROM audit_events WHERE action = 'account.invited'`,
  );
  expect(rows).toEqual([{ actor: 'system:bootstrap', action: 'account.invited' }]);
});
