import { expectDocsServed, waitFor } from '@puhui/testing';
import { startHarness } from './support';
import type { Harness } from './support';

let harness: Harness;
beforeAll(async () => {
  harness = await startHarness();
});
afterAll(async () => {
  await harness.close();
});

it('serves its committed OpenAPI document with its own URL, the event catalogue and Swagger UI at /docs', async () => {
  await expectDocsServed(harness.url, 'discount-rules');
});

it('answers health and readiness as documented', async () => {
  expect((await harness.call('GET', '/healthz', { token: '' })).status).toBe(200);
  await waitFor(async () => (await harness.call('GET', '/readyz', { token: '' })).status === 200, {
    description: 'ready',
  });
});
