import { createServer } from 'node:http';
import type { IncomingMessage, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApiError, csvBody, idempotencyKey, ok, serviceClient } from '../src';

interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

describe('the typed clients', () => {
  let server: Server;
  let url = '';
  const seen: Seen[] = [];
  let answer: { status: number; body: unknown; delayMs?: number } = { status: 200, body: {} };

  beforeAll(async () => {
    server = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk: Buffer) => (body += chunk.toString()));
      request.on('end', () => {
        seen.push({ method: request.method ?? '', url: request.url ?? '', headers: request.headers, body });
        setTimeout(() => {
          response.writeHead(answer.status, { 'content-type': 'application/json' });
          response.end(JSON.stringify(answer.body));
        }, answer.delayMs ?? 0);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  beforeEach(() => {
    seen.length = 0;
    answer = { status: 200, body: {} };
  });

  it('sends the bearer credential, the path parameters and the Idempotency-Key a capture requires', async () => {
    let renewed = 0;
    const client = serviceClient<'transaction-settlement'>(url, { token: () => `token-${(renewed += 1)}` });
    answer = { status: 201, body: { id: 'ref_1' } };
    const refund = await ok(
      client.POST('/v1/checkouts/{id}/refunds', {
        params: { path: { id: 'chk/1' }, header: idempotencyKey('key-1') },
        body: { amount_minor: 100, reason: 'returned' },
      }),
    );
    expect(refund).toEqual({ id: 'ref_1' });
    await client.GET('/v1/business_days/current');
    expect(seen.map((request) => [request.method, request.url, request.headers.authorization])).toEqual([
      ['POST', '/v1/checkouts/chk%2F1/refunds', 'Bearer token-1'],
      ['GET', '/v1/business_days/current', 'Bearer token-2'],
    ]);
    expect(seen[0]?.headers['idempotency-key']).toBe('key-1');
    expect(JSON.parse(seen[0]?.body ?? '')).toEqual({ amount_minor: 100, reason: 'returned' });
  });

  it('sends a CSV upload as it is, as text/csv', async () => {
    const client = serviceClient<'discount-rules'>(url, { token: 'admin' });
    answer = { status: 201, body: { id: 'imp_1' } };
    await ok(client.POST('/v1/cards/imports', csvBody('card_number,member_id\n')));
    expect(seen[0]?.headers['content-type']).toBe('text/csv');
    expect(seen[0]?.body).toBe('card_number,member_id\n');
  });

  it('throws an ApiError naming the request and the problem for a status that is not 2xx', async () => {
    const client = serviceClient<'discount-rules'>(url);
    answer = { status: 404, body: { code: 'not_found', detail: 'No such card.' } };
    const failure = await ok(
      client.GET('/v1/cards/{token}/rate_sheet', { params: { path: { token: 'ctk_1' } } }),
    ).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(ApiError);
    expect((failure as ApiError).status).toBe(404);
    expect((failure as ApiError).message).toBe(
      `${url}/v1/cards/ctk_1/rate_sheet → 404 not_found: No such card.`,
    );
    expect(seen[0]?.headers.authorization).toBeUndefined();
  });

  it('aborts a request that takes longer than its timeout', async () => {
    const client = serviceClient<'discount-rules'>(url, { timeoutMs: 50 });
    answer = { status: 200, body: {}, delayMs: 500 };
    await expect(client.GET('/v1/budgets/{id}', { params: { path: { id: 'bud_1' } } })).rejects.toThrow(
      /timeout|aborted/iu,
    );
  });
});
