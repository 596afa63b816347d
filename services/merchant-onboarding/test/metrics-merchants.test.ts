/** merchant-onboarding's `puhui_merchants{status}` at GET /metrics (issue 20), against the API's list. */
import { parseMetricsText, sampleValue } from '@puhui/metrics';
import type { Sample } from '@puhui/metrics';
import { waitFor } from '@puhui/testing';
import { MERCHANT_STATUSES } from '../src/metrics';
import type { Harness } from './support';
import { approvedMerchant, completeApplication, startHarness } from './support';

let harness: Harness;
beforeAll(async () => {
  harness = await startHarness();
});
afterAll(() => harness.close());

async function scrape(): Promise<Sample[]> {
  const response = await fetch(`${harness.url}/metrics`);
  expect(response.status).toBe(200);
  return parseMetricsText(await response.text());
}

describe('merchant-onboarding metrics', () => {
  it('counts merchants by status as the API lists them', async () => {
    await approvedMerchant(harness);
    await approvedMerchant(harness);
    const draft = await harness.call('POST', '/v1/merchants', { body: completeApplication() });
    expect(draft.status).toBe(201);
    const submitted = await harness.call('POST', '/v1/merchants', { body: completeApplication() });
    expect((await harness.call('POST', `/v1/merchants/${submitted.body.id as string}/submit`)).status).toBe(
      200,
    );

    const listed = await harness.call('GET', '/v1/merchants?limit=100');
    expect(listed.status).toBe(200);
    const merchants = listed.body.data as Array<{ status: string }>;
    expect(merchants).toHaveLength(4);
    const expected = Object.fromEntries(
      MERCHANT_STATUSES.map((status) => [
        status,
        merchants.filter((merchant) => merchant.status === status).length,
      ]),
    );
    expect(expected).toMatchObject({ active: 2, draft: 1, submitted: 1 });

    // The service reads at most every 5 s: wait for a reading taken after the last change.
    const samples = await waitFor(
      async () => {
        const current = await scrape();
        const shown = MERCHANT_STATUSES.every(
          (status) =>
            sampleValue(current, 'puhui_merchants', { service: 'merchant-onboarding', status }) ===
            expected[status],
        );
        return shown && current;
      },
      { description: 'merchants by status as listed', timeoutMs: 15_000, intervalMs: 250 },
    );
    expect(samples.filter((sample) => sample.name === 'puhui_merchants')).toHaveLength(
      MERCHANT_STATUSES.length,
    );
  });
});
