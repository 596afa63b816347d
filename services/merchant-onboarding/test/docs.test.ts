import { committedDocument, describeServedDocs, expectHealthyAndReady } from '@puhui/testing';
import { startHarness } from './support';

const harness = describeServedDocs('merchant-onboarding', startHarness);

it('answers health and readiness as documented', async () => {
  await expectHealthyAndReady((path) => harness().call('GET', path, { token: '' }));
});

it('writes the onboarding field checks into the document, so a generated client shows them', () => {
  const document = committedDocument('merchant-onboarding');
  const application = document.paths['/v1/merchants'].post.requestBody.content['application/json'].schema;
  expect(application.properties.credit_code.description).toMatch(/18 characters.*check character/u);
  expect(application.properties.legal_representative.properties.id_number.description).toMatch(/GB 11643/u);
  expect(application.properties.contact.properties.mobile.description).toMatch(/\+86/u);
  expect(application.properties.region_code.description).toMatch(/province-level/u);
  expect(application.properties.settlement_account.properties.branch_code.description).toMatch(/12-digit/u);
  expect(application.properties.settlement_account.properties.account_name.description).toMatch(
    /legal_name/u,
  );
  // The answers carry the kept forms' patterns, which every test's answers are checked against.
  const merchant = document.components.schemas.Merchant.properties;
  expect(merchant.credit_code.anyOf[0].pattern).toBe(
    '^[0-9A-HJ-NP-RT-UW-Y]{2}\\d{6}[0-9A-HJ-NP-RT-UW-Y]{10}$',
  );
  // Personal fields are answered masked only (decision 0016).
  expect(Object.keys(merchant.contact.anyOf[0].properties)).toEqual([
    'name_masked',
    'mobile_masked',
    'email_masked',
  ]);
  expect(
    document.paths['/v1/merchants/{id}/personal_data/reveal'].post.responses['200'].headers,
  ).toHaveProperty('Cache-Control');
});
