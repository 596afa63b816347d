/**
 * Something created a moment ago in another service and not yet in settlement's replicas (a
 * key just created, a budget just defined) answers a retryable `not_yet_available` (503 with
 * Retry-After), not a 401 or 404 that reads as permanent; once it arrives the same request
 * succeeds. An id or key old enough to have arrived, or not of the shape, still answers 401/404.
 */
import { newId } from '@puhui/contracts';
import { generateApiKey } from '@puhui/security';
import { SettlementHarness, useHarness } from './support';
import type { ApiResponse } from './support';

const harness = new SettlementHarness();
const MINUTE_MS = 60_000;

useHarness(harness);

function expectNotYetAvailable(answer: ApiResponse): void {
  expect(answer.status).toBe(503);
  expect(answer.body.code).toBe('not_yet_available');
  expect(answer.headers.get('retry-after')).toBe('1');
  expect(answer.body.detail).toMatch(/does not exist/u);
}

describe('not yet replicated', () => {
  it('answers a key created a moment ago not_yet_available, and an old or malformed unknown key 401', async () => {
    const fresh = generateApiKey();
    expectNotYetAvailable(await harness.call('GET', '/v1/checkouts', { token: fresh.secret }));
    const old = generateApiKey(Date.now() - 10 * MINUTE_MS);
    expect((await harness.call('GET', '/v1/checkouts', { token: old.secret })).status).toBe(401);
    const guessed = `sk_live_${'A'.repeat(43)}`;
    expect((await harness.call('GET', '/v1/checkouts', { token: guessed })).status).toBe(401);
    // A known merchant's key answers as soon as its events arrive (addMerchant waits for that).
    const merchant = await harness.addMerchant('supermarket');
    expect((await harness.call('GET', '/v1/checkouts', { token: merchant.secret })).status).toBe(200);
  });

  it('answers a budget defined a moment ago not_yet_available until it arrives, and an old unknown one 404', async () => {
    const fresh = newId('bud');
    expectNotYetAvailable(await harness.call('GET', `/v1/budgets/${fresh}`, { token: harness.finance }));
    const topUp = await harness.call('POST', `/v1/budgets/${fresh}/top_ups`, {
      token: harness.admin,
      idempotencyKey: `not-yet-${fresh}`,
      body: { amount_minor: 100, reference: 'FUND-1' },
    });
    expectNotYetAvailable(topUp);
    const old = newId('bud', Date.now() - 10 * MINUTE_MS);
    expect((await harness.call('GET', `/v1/budgets/${old}`, { token: harness.finance })).status).toBe(404);
    expect((await harness.call('GET', '/v1/budgets/no-such-budget', { token: harness.finance })).status).toBe(
      404,
    );
    const arrived = await harness.addBudget('刚刚设立的预算');
    expect((await harness.topUp(arrived, 100)).status).toBe(200);
  });
});
