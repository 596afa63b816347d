import { committedDocument, expectDocsServed, waitFor } from '@puhui/testing';
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

it('writes scope, weekday and per-unit semantics into the document, so a generated client shows them', () => {
  const document = committedDocument('discount-rules');
  const rule = document.paths['/v1/rules'].post.requestBody.content['application/json'].schema.properties;
  expect(rule.scope.description).toMatch(/OR whose id/u);
  expect(rule.schedule.properties.days_of_week.description).toMatch(/1 = Monday … 7 = Sunday/u);
  const benefits = rule.benefit.oneOf.map(
    (benefit: { properties: { amount_minor?: { description: string } } }) =>
      benefit.properties.amount_minor?.description ?? '',
  );
  expect(benefits.filter((text: string) => /each unit/u.test(text))).toHaveLength(2);
});
