import { createHmac, generateKeyPairSync, randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SignJWT, importJWK } from 'jose';
import type { JSONWebKeySet, JWTPayload } from 'jose';
import { DomainError } from '@puhui/errors';
import {
  DEVELOPMENT_OPERATOR_JWKS,
  DEVELOPMENT_OPERATOR_SIGNING_KEY,
  OPERATOR_TOKEN_ISSUER,
  actorOf,
  operatorTokenVerifier,
  publicJwks,
  requireOperator,
  requireService,
  signOperatorToken,
} from '@puhui/security';
import type { OperatorTokenClaims, Principal, SigningJwk } from '@puhui/security';

const AUDIENCE = 'discount-rules';
const SUBJECT = '5f0c6f55-2f7e-4a61-9d1e-0b7c1d2a3e4f';
/** The HS256 secret every service shared before issue 16. */
const OLD_SHARED_SECRET = 'puhui-development-token-secret-change-me-in-production';

const verify = operatorTokenVerifier({ jwks: DEVELOPMENT_OPERATOR_JWKS }, AUDIENCE);

function claims(overrides: Partial<OperatorTokenClaims> = {}): OperatorTokenClaims {
  return { subject: SUBJECT, roles: ['admin'], audience: AUDIENCE, ...overrides };
}

/** A fresh ES256 key pair with its kid, as the console would generate one. */
function newSigningKey(kid: string): SigningJwk {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return { ...(privateKey.export({ format: 'jwk' }) as unknown as SigningJwk), kid };
}

/** A token with any payload, signed ES256 by `key` (what signOperatorToken would refuse to write). */
async function craftedToken(payload: JWTPayload, key: SigningJwk = DEVELOPMENT_OPERATOR_SIGNING_KEY) {
  return new SignJWT(payload)
    .setProtectedHeader({ alg: 'ES256', kid: key.kid, typ: 'JWT' })
    .sign(await importJWK(key, 'ES256'));
}

const now = () => Math.floor(Date.now() / 1000);
const goodPayload = (): JWTPayload => ({
  iss: OPERATOR_TOKEN_ISSUER,
  aud: AUDIENCE,
  sub: SUBJECT,
  jti: randomUUID(),
  iat: now(),
  exp: now() + 300,
  roles: ['admin'],
});

async function refusal(token: string): Promise<{ code: string; kind: string; message: string }> {
  const error: unknown = await verify(token).then(
    () => undefined,
    (caught: unknown) => caught,
  );
  if (!(error instanceof DomainError)) throw new Error(`expected a refusal, got ${String(error)}`);
  return { code: error.code, kind: error.kind, message: error.message };
}

describe('operator tokens', () => {
  it('carry the account id, roles and token id of a token the console signed', async () => {
    const verified = await verify(
      signOperatorToken(claims({ roles: ['finance'] }), DEVELOPMENT_OPERATOR_SIGNING_KEY),
    );
    expect(verified).toEqual({ subject: SUBJECT, roles: ['finance'], tokenId: expect.any(String) });
    const staff = await verify(
      signOperatorToken(
        claims({ roles: ['merchant_staff'], merchantId: 'mer_1' }),
        DEVELOPMENT_OPERATOR_SIGNING_KEY,
      ),
    );
    expect(staff).toMatchObject({ roles: ['merchant_staff'], merchantId: 'mer_1' });
    // The crafted path itself is good: what the refusals below change is the only difference.
    await expect(verify(await craftedToken(goodPayload()))).resolves.toMatchObject({ subject: SUBJECT });
  });

  it('refuses an HS256 token signed with the old shared secret', async () => {
    const encode = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
    const input = `${encode({ alg: 'HS256', typ: 'JWT' })}.${encode(goodPayload())}`;
    const signature = createHmac('sha256', OLD_SHARED_SECRET).update(input).digest('base64url');
    expect(await refusal(`${input}.${signature}`)).toMatchObject({ kind: 'unauthenticated' });
  });

  it('refuses a token without exp, one living longer than 5 minutes, and an expired one', async () => {
    const { exp: _exp, ...withoutExp } = goodPayload();
    expect(await refusal(await craftedToken(withoutExp))).toMatchObject({ kind: 'unauthenticated' });
    const long = { ...goodPayload(), exp: now() + 301 };
    expect(await refusal(await craftedToken(long))).toMatchObject({
      kind: 'unauthenticated',
      message: expect.stringMatching(/longer than 300 seconds/u),
    });
    const in2126 = { ...goodPayload(), exp: Date.UTC(2126, 0, 1) / 1000 };
    expect(await refusal(await craftedToken(in2126))).toMatchObject({ kind: 'unauthenticated' });
    const expired = { ...goodPayload(), iat: now() - 400, exp: now() - 100 };
    expect(await refusal(await craftedToken(expired))).toMatchObject({ kind: 'unauthenticated' });
    expect(() => signOperatorToken(claims({ ttlSeconds: 301 }), DEVELOPMENT_OPERATOR_SIGNING_KEY)).toThrow(
      RangeError,
    );
  });

  it('refuses admin and finance in one token, and merchant staff without their merchant', async () => {
    const both = signOperatorToken(claims({ roles: ['admin', 'finance'] }), DEVELOPMENT_OPERATOR_SIGNING_KEY);
    expect(await refusal(both)).toMatchObject({
      kind: 'unauthenticated',
      message: expect.stringMatching(/never admin and finance/u),
    });
    const staff = signOperatorToken(claims({ roles: ['merchant_staff'] }), DEVELOPMENT_OPERATOR_SIGNING_KEY);
    expect(await refusal(staff)).toMatchObject({ kind: 'unauthenticated' });
  });

  it('refuses a wrong issuer, another service as audience, and an unknown key', async () => {
    expect(await refusal(await craftedToken({ ...goodPayload(), iss: 'puhui' }))).toMatchObject({
      kind: 'unauthenticated',
    });
    const forSettlement = signOperatorToken(
      claims({ audience: 'transaction-settlement' }),
      DEVELOPMENT_OPERATOR_SIGNING_KEY,
    );
    expect(await refusal(forSettlement)).toMatchObject({ kind: 'unauthenticated' });
    const stranger = newSigningKey(DEVELOPMENT_OPERATOR_SIGNING_KEY.kid);
    expect(await refusal(signOperatorToken(claims(), stranger))).toMatchObject({ kind: 'unauthenticated' });
    const unknownKid = newSigningKey('not-published');
    expect(await refusal(signOperatorToken(claims(), unknownKid))).toMatchObject({ kind: 'unauthenticated' });
  });
});

describe("the console's JWKS over HTTP", () => {
  let server: Server;
  let served: JSONWebKeySet;
  let status = 200;
  let fetches = 0;
  let url: URL;

  beforeAll(async () => {
    server = createServer((_request, response) => {
      fetches += 1;
      response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(served));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}/.well-known/jwks.json`);
  });
  afterAll(() => new Promise((resolve) => server.close(resolve)));
  beforeEach(() => {
    status = 200;
    fetches = 0;
  });

  it('accepts a token signed with a rotated-in key once the JWKS is fetched again', async () => {
    const [keyA, keyB] = [newSigningKey('key-a'), newSigningKey('key-b')];
    served = publicJwks([keyA]);
    const remote = operatorTokenVerifier({ url, cooldownMs: 0 }, AUDIENCE);
    await expect(remote(signOperatorToken(claims(), keyA))).resolves.toMatchObject({ subject: SUBJECT });
    await expect(remote(signOperatorToken(claims(), keyA))).resolves.toMatchObject({ subject: SUBJECT });
    expect(fetches).toBe(1); // cached
    served = publicJwks([keyB, keyA]);
    await expect(remote(signOperatorToken(claims(), keyB))).resolves.toMatchObject({ subject: SUBJECT });
    expect(fetches).toBe(2);
    await expect(remote(signOperatorToken(claims(), keyA))).resolves.toMatchObject({ subject: SUBJECT });
  });

  it('does not fetch again for an unknown key within the cooldown', async () => {
    const [keyA, keyB] = [newSigningKey('key-a2'), newSigningKey('key-b2')];
    served = publicJwks([keyA]);
    const remote = operatorTokenVerifier({ url, cooldownMs: 60_000 }, AUDIENCE);
    await remote(signOperatorToken(claims(), keyA));
    served = publicJwks([keyB, keyA]);
    await expect(remote(signOperatorToken(claims(), keyB))).rejects.toMatchObject({
      kind: 'unauthenticated',
    });
    expect(fetches).toBe(1);
  });

  it('answers 503 operator_keys_unavailable, not 401, when the JWKS cannot be fetched', async () => {
    const unreachable = operatorTokenVerifier(
      { url: new URL('http://127.0.0.1:1/.well-known/jwks.json') },
      AUDIENCE,
    );
    const token = signOperatorToken(claims(), DEVELOPMENT_OPERATOR_SIGNING_KEY);
    await expect(unreachable(token)).rejects.toMatchObject({
      kind: 'unavailable',
      code: 'operator_keys_unavailable',
    });
    status = 500;
    served = DEVELOPMENT_OPERATOR_JWKS;
    const failing = operatorTokenVerifier({ url }, AUDIENCE);
    await expect(failing(token)).rejects.toMatchObject({
      kind: 'unavailable',
      code: 'operator_keys_unavailable',
    });
  });
});

describe('principals', () => {
  const operator = (...roles: Array<'admin' | 'finance' | 'auditor'>): Principal => ({
    kind: 'operator',
    subject: SUBJECT,
    roles,
  });
  const service: Principal = {
    kind: 'service',
    subject: 'transaction-settlement',
    roles: ['rate_sheet_reader'],
  };

  it('let the right role through and forbid the others; an auditor passes every role check', () => {
    expect(() => requireOperator(operator('finance'), 'finance')).not.toThrow();
    expect(() => requireOperator(operator('finance'), 'admin')).toThrow(/admin role/u);
    expect(() => requireOperator(operator('auditor'), 'admin')).not.toThrow();
    expect(() => requireOperator(operator('auditor'), 'finance')).not.toThrow();
    expect(() =>
      requireOperator(
        { kind: 'merchant', merchant_id: 'mer_1', key_id: 'key_1', scopes: ['checkout'] },
        'admin',
      ),
    ).toThrow();
    expect(() => requireOperator(service, 'admin', 'finance')).toThrow();
  });

  it('admit a service credential only for its role, and name every kind in the audit trail', () => {
    expect(() => requireService(service, 'rate_sheet_reader')).not.toThrow();
    expect(() => requireService(operator('admin'), 'rate_sheet_reader')).toThrow();
    expect(actorOf(operator('finance'))).toBe(`operator:${SUBJECT}`);
    expect(actorOf(service)).toBe('service:transaction-settlement');
    expect(actorOf({ kind: 'merchant', merchant_id: 'mer_1', key_id: `staff:${SUBJECT}`, scopes: [] })).toBe(
      `merchant:mer_1/staff:${SUBJECT}`,
    );
  });
});
