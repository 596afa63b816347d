import type { Request } from 'express';
import { DomainError } from '@puhui/errors';
import { authenticate } from '@puhui/http';
import type { AuthenticationSettings } from '@puhui/http';
import {
  DEVELOPMENT_OPERATOR_JWKS,
  DEVELOPMENT_OPERATOR_SIGNING_KEY,
  DEVELOPMENT_SERVICE_CREDENTIAL,
  hashServiceCredential,
  operatorTokenVerifier,
  signOperatorToken,
} from '@puhui/security';
import type { OperatorRole } from '@puhui/security';

const SUBJECT = '7d1b1d3e-94a2-4c4e-8f4f-2b0c9a1e5d60';
const settings: AuthenticationSettings = {
  verifyOperatorToken: operatorTokenVerifier({ jwks: DEVELOPMENT_OPERATOR_JWKS }, 'discount-rules'),
  findMerchantKey: async () => undefined,
  findServiceCredential: async (hash) =>
    hash === hashServiceCredential(DEVELOPMENT_SERVICE_CREDENTIAL)
      ? { service: 'transaction-settlement', roles: ['rate_sheet_reader'] }
      : undefined,
};

const request = (method: string, credential: string) =>
  ({
    method,
    header: (name: string) => (name === 'authorization' ? `Bearer ${credential}` : undefined),
  }) as Request;

const token = (roles: OperatorRole[], merchantId?: string) =>
  signOperatorToken(
    {
      subject: SUBJECT,
      roles,
      audience: 'discount-rules',
      ...(merchantId === undefined ? {} : { merchantId }),
    },
    DEVELOPMENT_OPERATOR_SIGNING_KEY,
  );

async function refusal(method: string, credential: string, own = settings) {
  const error: unknown = await authenticate(request(method, credential), own).then(
    () => undefined,
    (caught: unknown) => caught,
  );
  if (!(error instanceof DomainError)) throw new Error(`expected a refusal, got ${String(error)}`);
  return { kind: error.kind, code: error.code };
}

describe('authenticate', () => {
  it('reads an operator from a token the console signed', async () => {
    await expect(authenticate(request('POST', token(['admin'])), settings)).resolves.toEqual({
      kind: 'operator',
      subject: SUBJECT,
      roles: ['admin'],
    });
  });

  it('lets an auditor read and refuses it anything else with read_only_role', async () => {
    for (const method of ['GET', 'HEAD'])
      await expect(authenticate(request(method, token(['auditor'])), settings)).resolves.toMatchObject({
        kind: 'operator',
        roles: ['auditor'],
      });
    for (const method of ['POST', 'PATCH', 'PUT', 'DELETE'])
      expect(await refusal(method, token(['auditor']))).toEqual({
        kind: 'forbidden',
        code: 'read_only_role',
      });
  });

  it('maps merchant staff to their merchant, with no key scope', async () => {
    await expect(authenticate(request('GET', token(['merchant_staff'], 'mer_1')), settings)).resolves.toEqual(
      {
        kind: 'merchant',
        merchant_id: 'mer_1',
        key_id: `staff:${SUBJECT}`,
        scopes: [],
      },
    );
  });

  it('reads a service from its credential, and refuses an unknown one or a service that admits none', async () => {
    await expect(authenticate(request('GET', DEVELOPMENT_SERVICE_CREDENTIAL), settings)).resolves.toEqual({
      kind: 'service',
      subject: 'transaction-settlement',
      roles: ['rate_sheet_reader'],
    });
    expect(await refusal('GET', `svc_${'w'.repeat(40)}`)).toMatchObject({ kind: 'unauthenticated' });
    const { findServiceCredential: _none, ...withoutServices } = settings;
    expect(await refusal('GET', DEVELOPMENT_SERVICE_CREDENTIAL, withoutServices)).toMatchObject({
      kind: 'unauthenticated',
    });
  });
});
