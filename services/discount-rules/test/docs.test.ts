import { committedDocument, describeServedDocs, expectHealthyAndReady } from '@puhui/testing';
import { startHarness } from './support';

const harness = describeServedDocs('discount-rules', startHarness);

it('answers health and readiness as documented', async () => {
  await expectHealthyAndReady((path) => harness().call('GET', path, { token: '' }));
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
