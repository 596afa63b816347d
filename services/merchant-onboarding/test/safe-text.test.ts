/**
 * Issue 14: names that reach the payment file are safe text: nothing a spreadsheet runs as a
 * formula, no bidirectional or zero-width characters (an account name shown reversed).
 */
import { completeApplication, refusedApplication, startHarness } from './support';
import type { Harness } from './support';

let harness: Harness;

beforeAll(async () => {
  harness = await startHarness();
});

afterAll(async () => {
  await harness.close();
});

it.each([
  [
    'a legal name that is a formula',
    { legal_name: '=HYPERLINK("http://evil.example","付款")' },
    'legal_name',
  ],
  ['a full-width formula (NFKC)', { legal_name: '＋1+cmd|calc' }, 'legal_name'],
  ['a right-to-left override in a name', { display_name: '惠民\u202E市超' }, 'display_name'],
  [
    'a zero-width space in the account name',
    { settlement_account: { ...completeApplication().settlement_account, account_name: '上饶\u200B惠民' } },
    'settlement_account.account_name',
  ],
  [
    'a bank name starting with @',
    { settlement_account: { ...completeApplication().settlement_account, bank_name: '@SUM(1)' } },
    'settlement_account.bank_name',
  ],
])('refuses %s with a 400 naming the field, and stores nothing', async (_what, overrides, field) => {
  const response = await refusedApplication(harness, { ...completeApplication(), ...overrides });
  expect(response.body.invalid_params.map((param: { name: string }) => param.name)).toEqual([field]);
});

it('accepts ordinary Chinese names with full-width brackets and hyphens inside', async () => {
  const application = completeApplication();
  const legalName = '上饶惠民-生活超市有限公司（信州店）';
  const response = await harness.call('POST', '/v1/merchants', {
    body: {
      ...application,
      legal_name: legalName,
      // A corporate account is in the company's own name.
      settlement_account: { ...application.settlement_account, account_name: legalName },
    },
  });
  expect(response.body.invalid_params).toBeUndefined();
  expect(response.status).toBe(201);
});
