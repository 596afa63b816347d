import { committedDocument, describeServedDocs } from '@puhui/testing';
import { startConsole } from './support';

describeServedDocs('console', startConsole);

it('documents the session cookie and CSRF rules, and every refusal code a person meets', () => {
  const document = committedDocument('console');
  expect(document.info.description).toMatch(/puhui_session.*X-CSRF-Token/su);
  const signIn = document.paths['/console/v1/session'].post;
  expect(Object.keys(signIn.responses)).toEqual(expect.arrayContaining(['200', '401', '403', '429']));
  expect(signIn.description).toMatch(/invalid_credentials.*sign_in_locked.*rate_limited/su);
  expect(document.paths['/console/v1/accounts'].post.description).toMatch(/conflicting_roles/u);
  expect(document.paths['/.well-known/jwks.json'].get.responses['200']).toBeDefined();
});
