import { demoPassword, ensureDemoPeople } from '../src/people/demo';
import type { RunningConsole } from './support';
import { Person, startConsole } from './support';

let running: RunningConsole;
beforeAll(async () => {
  running = await startConsole();
});
afterAll(() => running.close());

it('creates the demo people once, with puhui-demo-<username>, the merchant staff of the given merchant', async () => {
  const merchantId = 'mer_0000000000000000000000042';
  const first = await ensureDemoPeople(running.service.dependencies.pool, { merchantId });
  expect(first.map(({ person }) => person.username)).toEqual([
    'admin',
    'admin2',
    'finance',
    'finance2',
    'auditor',
    'merchant',
  ]);
  expect(first.every(({ created }) => created)).toBe(true);
  const again = await ensureDemoPeople(running.service.dependencies.pool, { merchantId });
  expect(again.some(({ created }) => created)).toBe(false);

  const stages = await Promise.all(
    ['admin', 'finance', 'auditor', 'merchant'].map(async (username) => {
      const answer = await new Person(running.url).signIn(username, demoPassword(username));
      return [username, answer.body.stage, answer.body.account.merchant_id];
    }),
  );
  expect(stages).toEqual([
    ['admin', 'totp_enrolment_required', null],
    ['finance', 'totp_enrolment_required', null],
    ['auditor', 'signed_in', null],
    ['merchant', 'signed_in', merchantId],
  ]);
});
