import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { decodeJwt } from 'jose';
import { parseMetricsText, sampleValue } from '@puhui/metrics';
import { operatorTokenVerifier } from '@puhui/security';
import type { RunningConsole } from './support';
import { Person, createAccount, signedInPerson, startConsole } from './support';

/** A stand-in for the three services: records what reaches it and answers what the test says. */
interface Seen {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}
let seen: Seen[] = [];
let answer: (request: Seen, response: http.ServerResponse) => void = (_request, response) => {
  response.writeHead(200, { 'content-type': 'application/json', 'set-cookie': 'upstream=1' });
  response.end('{"ok":true}');
};
const upstream = http.createServer((request, response) => {
  const chunks: Buffer[] = [];
  request.on('data', (chunk: Buffer) => chunks.push(chunk));
  request.on('end', () => {
    const record = {
      method: request.method ?? '',
      url: request.url ?? '',
      headers: request.headers,
      body: Buffer.concat(chunks).toString('utf8'),
    };
    seen.push(record);
    answer(record, response);
  });
});

let running: RunningConsole;
beforeAll(async () => {
  await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
  running = await startConsole({
    MERCHANT_ONBOARDING_URL: `${url}/mo`,
    DISCOUNT_RULES_URL: `${url}/dr`,
    TRANSACTION_SETTLEMENT_URL: `${url}/ts`,
  });
});
afterAll(async () => {
  await running.close();
  await new Promise((resolve) => upstream.close(resolve));
});
beforeEach(() => {
  seen = [];
});

function bearerOf(request: Seen | undefined): string {
  return String(request?.headers.authorization).replace(/^Bearer /u, '');
}

describe('tokens', () => {
  it('publishes the public keys only', async () => {
    const jwks = await new Person(running.url).send('get', '/.well-known/jwks.json');
    expect(jwks.status).toBe(200);
    expect(jwks.body.keys).toHaveLength(1);
    expect(jwks.body.keys[0]).toMatchObject({ kty: 'EC', crv: 'P-256', alg: 'ES256', use: 'sig' });
    expect(jwks.body.keys[0].d).toBeUndefined();
  });

  it('signs a 5-minute token per service that the service verifies against the JWKS, and no other service accepts', async () => {
    const { person, account } = await signedInPerson(running, ['finance']);
    expect((await person.send('get', '/api/transaction-settlement/v1/settlement_batches')).status).toBe(200);
    const token = bearerOf(seen[0]);
    const jwksUrl = new URL(`${running.url}/.well-known/jwks.json`);
    const verified = await operatorTokenVerifier({ url: jwksUrl }, 'transaction-settlement')(token);
    expect(verified).toMatchObject({ subject: account.id, roles: ['finance'] });
    const claims = decodeJwt(token);
    expect(claims.aud).toBe('transaction-settlement');
    expect((claims.exp as number) - (claims.iat as number)).toBeLessThanOrEqual(300);
    expect(claims.iss).toBe('puhui-console');
    expect(typeof claims.jti).toBe('string');
    await expect(operatorTokenVerifier({ url: jwksUrl }, 'discount-rules')(token)).rejects.toMatchObject({
      code: 'unauthenticated',
    });
  });

  it('gives merchant staff their merchant_id', async () => {
    const { person } = await signedInPerson(running, ['merchant_staff'], {
      merchantId: 'mer_0000000000000000000000007',
    });
    await person.send('get', '/api/merchant-onboarding/v1/merchants/mer_0000000000000000000000007');
    const verified = await operatorTokenVerifier(
      { url: new URL(`${running.url}/.well-known/jwks.json`) },
      'merchant-onboarding',
    )(bearerOf(seen[0]));
    expect(verified).toMatchObject({
      roles: ['merchant_staff'],
      merchantId: 'mer_0000000000000000000000007',
    });
  });
});

describe('the proxy', () => {
  it('forwards method, path, query and body, replaces Authorization, and forwards neither the browser’s Cookie nor its CSRF token', async () => {
    const { person } = await signedInPerson(running, ['admin']);
    const csv = 'card_number,segment\n6200000000000000001,model_worker\n';
    // A JSON body reaches the service as it was sent: the proxy runs ahead of the body parser.
    const json = await person.send('post', '/api/discount-rules/v1/rules/preview', {
      lines: [{ amount_minor: 100 }],
    });
    expect(json.status).toBe(200);
    expect(seen[0]?.body).toBe('{"lines":[{"amount_minor":100}]}');
    seen = [];
    const response = await fetch(`${running.url}/api/discount-rules/v1/cards/imports?dry_run=true`, {
      method: 'POST',
      headers: {
        origin: 'http://localhost:4104',
        cookie: String(person.cookie),
        'x-csrf-token': String(person.csrf),
        'content-type': 'text/csv',
        authorization: 'Bearer from-the-browser',
        'idempotency-key': 'k-1',
      },
      body: csv,
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('set-cookie')).toBeNull();
    expect(await response.json()).toEqual({ ok: true });
    const [received] = seen;
    expect(received).toMatchObject({ method: 'POST', url: '/dr/v1/cards/imports?dry_run=true', body: csv });
    expect(received?.headers['content-type']).toBe('text/csv');
    expect(received?.headers['idempotency-key']).toBe('k-1');
    expect(received?.headers.cookie).toBeUndefined();
    expect(received?.headers['x-csrf-token']).toBeUndefined();
    expect(received?.headers.authorization).not.toBe('Bearer from-the-browser');
    expect(decodeJwt(bearerOf(received)).aud).toBe('discount-rules');
    expect(received?.headers['x-request-id']).toBe(response.headers.get('x-request-id'));
    // The console counts a proxied call under its service; the service counts the operation.
    const scraped = parseMetricsText(await (await fetch(`${running.url}/metrics`)).text());
    const proxied = (method: string) =>
      sampleValue(scraped, 'puhui_http_requests_total', {
        operation: 'proxy_discount_rules',
        method,
        status_class: '2xx',
      });
    expect([proxied('POST')]).toEqual([2]);
  });

  it('streams an answer (a CSV download) with its status and headers', async () => {
    const { person } = await signedInPerson(running, ['finance']);
    answer = (_request, response) => {
      response.writeHead(409, {
        'content-type': 'text/csv',
        'content-disposition': 'attachment; filename="b.csv"',
      });
      response.write('a,b\n');
      setTimeout(() => response.end('1,2\n'), 20);
    };
    try {
      const download = await person.send(
        'get',
        '/api/transaction-settlement/v1/settlement_batches/x/export.csv',
      );
      expect(download.status).toBe(409);
      expect(download.headers['content-disposition']).toBe('attachment; filename="b.csv"');
      expect(download.text).toBe('a,b\n1,2\n');
    } finally {
      answer = (_request, response) => {
        response.writeHead(200, { 'content-type': 'application/json' });
        response.end('{"ok":true}');
      };
    }
  });

  it('refuses without a signed-in session, and an unknown service', async () => {
    const stranger = new Person(running.url);
    const refused = await stranger.send('get', '/api/merchant-onboarding/v1/merchants');
    expect(refused.status).toBe(401);
    expect(refused.body.code).toBe('not_signed_in');
    const { person } = await signedInPerson(running, ['admin']);
    expect((await person.send('get', '/api/console/v1/accounts')).status).toBe(404);
    expect((await person.send('get', '/api/anything/v1/x')).status).toBe(404);
    expect(seen).toHaveLength(0);
  });

  it('answers 503 when the service is down', async () => {
    const down = await startConsole({ DISCOUNT_RULES_URL: 'http://127.0.0.1:1' });
    try {
      const { person } = await signedInPerson(down, ['admin']);
      const answered = await person.send('get', '/api/discount-rules/v1/rules');
      expect(answered.status).toBe(503);
      expect(answered.body.code).toBe('dependency_unavailable');
    } finally {
      await down.close();
    }
  });
});

describe('the inbox', () => {
  it('lists the pending requests this person may decide: their role, not their own', async () => {
    const { person, account } = await signedInPerson(running, ['admin']);
    const maker = await createAccount(running, ['admin']);
    answer = (request, response) => {
      response.writeHead(200, { 'content-type': 'application/json' });
      const service = request.url.split('/')[1];
      const items =
        service === 'mo'
          ? [
              {
                id: 'a1',
                service: 'merchant-onboarding',
                required_role: 'admin',
                requested_by: maker.id,
                requested_at: '2026-12-01T01:00:00Z',
              },
              {
                id: 'a2',
                service: 'merchant-onboarding',
                required_role: 'admin',
                requested_by: account.id,
                requested_at: '2026-12-01T02:00:00Z',
              },
            ]
          : service === 'dr'
            ? [
                {
                  id: 'b1',
                  service: 'discount-rules',
                  required_role: 'admin',
                  requested_by: 'x',
                  requested_at: '2026-12-01T00:00:00Z',
                },
              ]
            : [
                {
                  id: 'c1',
                  service: 'transaction-settlement',
                  required_role: 'finance',
                  requested_by: 'x',
                  requested_at: '2026-12-01T00:00:00Z',
                },
              ];
      response.end(JSON.stringify({ data: items, has_more: false }));
    };
    const inbox = await person.send('get', '/console/v1/inbox');
    expect(inbox.status).toBe(200);
    expect(inbox.body.data.map((item: { id: string }) => item.id)).toEqual(['b1', 'a1']);
    // Who asked, as people know them: a console account's name, nothing for a subject that is none.
    expect(inbox.body.data[1]).toMatchObject({
      requested_by: maker.id,
      requested_by_username: maker.username,
      requested_by_display_name: `Test ${maker.username}`,
    });
    expect(inbox.body.data[0]).toMatchObject({
      requested_by_username: null,
      requested_by_display_name: null,
    });
    expect(inbox.body.unavailable).toEqual([]);
    expect(seen.map((request) => request.url).sort()).toEqual(
      ['/dr', '/mo', '/ts'].map((prefix) => `${prefix}/v1/approval_requests?status=pending&limit=100`),
    );
    const audiences = seen.map((request) => decodeJwt(bearerOf(request)).aud).sort();
    expect(audiences).toEqual(['discount-rules', 'merchant-onboarding', 'transaction-settlement']);
  });

  it('takes a service that refuses this role (403) for one with nothing to decide, and names one that fails', async () => {
    const { person } = await signedInPerson(running, ['finance']);
    answer = (request, response) => {
      const service = request.url.split('/')[1];
      const status = service === 'mo' ? 403 : service === 'dr' ? 500 : 200;
      response.writeHead(status, { 'content-type': 'application/json' });
      response.end(JSON.stringify(status === 200 ? { data: [], has_more: false } : { code: 'x' }));
    };
    const inbox = await person.send('get', '/console/v1/inbox');
    expect(inbox.body).toEqual({ data: [], unavailable: ['discount-rules'] });
  });
});
