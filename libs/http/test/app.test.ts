import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import request from 'supertest';
import { z } from 'zod';
import {
  Conflict,
  DomainError,
  Forbidden,
  NotFound,
  NotYetAvailable,
  RateLimited,
  ServiceUnavailable,
  Unauthenticated,
  Unprocessable,
} from '@puhui/errors';
import type { Express } from 'express';
import { createApp, parseRequest, route } from '@puhui/http';
import { createLogger } from '@puhui/logging';

const checkoutBody = z.strictObject({
  currency: z.literal('CNY'),
  reference: z.string().min(1),
  lines: z.array(z.strictObject({ category: z.string(), amount_minor: z.number().int().positive() })).min(1),
});

function buildApp(readinessChecks = [{ name: 'postgres', check: async () => 'ok' }]) {
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk, _encoding, done) {
      lines.push(JSON.parse(String(chunk)));
      done();
    },
  });
  const logger = createLogger({ service: 'http-test', level: 'debug', destination });
  const handle = createApp({
    service: 'http-test',
    logger,
    bodyLimitBytes: 1024,
    readinessChecks,
    readinessTimeoutMs: 200,
    routes: (router) => {
      route(router, '/v1/checkouts/:id', {
        post: (req, res) => {
          const { body, path } = parseRequest(req, {
            path: z.object({ id: z.string().regex(/^chk_/) }),
            body: checkoutBody,
          });
          logger.info({ checkout_id: path.id }, 'handled');
          res.status(201).json({ id: path.id, lines: body.lines.length });
        },
        get: (_req, res) => {
          res.json({ ok: true });
        },
      });
      route(
        router,
        '/v1/imports',
        {
          // Reads the raw body itself, as a streaming import would.
          post: async (req, res) => {
            let bytes = 0;
            for await (const chunk of req) bytes += (chunk as Buffer).length;
            res.status(201).json({ bytes, parsed_body: req.body ?? null });
          },
        },
        { rawBodyTypes: ['text/csv'] },
      );
      route(router, '/errors/:kind', {
        get: (req) => {
          const errors: Record<string, () => Error> = {
            unauthenticated: () => new Unauthenticated(),
            forbidden: () => new Forbidden(),
            not_found: () => new NotFound('Checkout chk_1'),
            conflict: () =>
              new Conflict('illegal_transition', 'Cannot approve.', { current_status: 'draft' }),
            unprocessable: () => new Unprocessable('refund_exceeds_remaining', 'Too much.'),
            rate_limited: () => new RateLimited(7),
            unavailable: () => new ServiceUnavailable('rate_sheet_unavailable', 'No rate sheet.'),
            unavailable_caused: () =>
              new ServiceUnavailable('rate_sheet_unavailable', 'No rate sheet.', new Error('socket hang up')),
            not_yet_available: () => new NotYetAvailable('Budget bud_1', 1),
            crash: () => new TypeError('secret internal detail'),
            // What node-postgres throws while the database restarts or a network cut lasts.
            database_refused: () =>
              Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' }),
            database_shutting_down: () =>
              Object.assign(new Error('terminating connection due to administrator command'), {
                code: '57P01',
              }),
            database_connection_ended: () => new Error('Connection terminated unexpectedly'),
            database_pool_timeout: () =>
              new Error('timeout exceeded when trying to connect', {
                cause: new Error('Connection terminated due to connection timeout'),
              }),
          };
          throw (errors[String(req.params.kind)] ?? (() => new Error('unknown')))();
        },
      });
    },
  });
  return { app: handle.app, handle, lines };
}

/** Sends `body` byte for byte (supertest would serialise a Buffer as JSON). */
async function postRaw(
  app: Express,
  path: string,
  body: Buffer,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: Record<string, string>; body: Record<string, unknown> }> {
  const server = app.listen(0, '127.0.0.1');
  await once(server, 'listening');
  try {
    const { port } = server.address() as AddressInfo;
    const response = await fetch(`http://127.0.0.1:${port}${path}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', ...headers },
      body,
    });
    return {
      status: response.status,
      headers: Object.fromEntries(response.headers),
      body: (await response.json()) as Record<string, unknown>,
    };
  } finally {
    server.close();
  }
}

const validBody = { currency: 'CNY', reference: 'r-1', lines: [{ category: 'any', amount_minor: 3555 }] };

describe('request handling', () => {
  it('accepts a valid request and logs it with its request id', async () => {
    const { app, lines } = buildApp();
    const response = await request(app)
      .post('/v1/checkouts/chk_1')
      .set('X-Request-Id', 'req-abc')
      .send(validBody);
    expect(response.status).toBe(201);
    expect(response.body).toEqual({ id: 'chk_1', lines: 1 });
    expect(response.headers['x-request-id']).toBe('req-abc');
    const handled = lines.find((line) => line.message === 'handled');
    const finished = lines.find((line) => line.message === 'request finished');
    expect(handled?.request_id).toBe('req-abc');
    expect(finished).toMatchObject({ request_id: 'req-abc', status: 201, method: 'POST' });
  });

  it('makes up a request id when none (or a strange one) is offered', async () => {
    const { app } = buildApp();
    const response = await request(app).get('/v1/checkouts/chk_1').set('X-Request-Id', 'bad id with spaces');
    expect(response.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });
});

describe('bad input is a 4xx problem+json, never a 500 or a stack trace', () => {
  it('answers malformed JSON with 400', async () => {
    const { app } = buildApp();
    const response = await request(app)
      .post('/v1/checkouts/chk_1')
      .set('Content-Type', 'application/json')
      .send('{"currency": "CNY",');
    expect(response.status).toBe(400);
    expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(response.body).toMatchObject({
      status: 400,
      code: 'malformed_json',
      instance: '/v1/checkouts/chk_1',
    });
    expect(JSON.stringify(response.body)).not.toMatch(/at .*\.js|SyntaxError/);
  });

  it('lists each unknown field and each wrong type', async () => {
    const { app } = buildApp();
    const response = await request(app)
      .post('/v1/checkouts/nope')
      .send({
        currency: 'USD',
        reference: 7,
        lines: [{ category: 'any', amount_minor: -5, colour: 'red' }],
        extra: 1,
      });
    expect(response.status).toBe(400);
    expect(response.body.code).toBe('validation_failed');
    const names = response.body.invalid_params.map(
      (param: { in: string; name: string }) => `${param.in}:${param.name}`,
    );
    expect(names.sort()).toEqual(
      [
        'path:id',
        'body:currency',
        'body:reference',
        'body:lines.0.amount_minor',
        'body:lines.0.colour',
        'body:extra',
      ].sort(),
    );
  });

  it('answers a missing body with 400 naming the body', async () => {
    const { app } = buildApp();
    const response = await request(app).post('/v1/checkouts/chk_1');
    expect(response.status).toBe(400);
    expect(response.body.invalid_params).toEqual([expect.objectContaining({ in: 'body', name: 'body' })]);
  });

  it('answers an oversized body with 413', async () => {
    const { app } = buildApp();
    const response = await request(app)
      .post('/v1/checkouts/chk_1')
      .send({ ...validBody, reference: 'x'.repeat(2000) });
    expect(response.status).toBe(413);
    expect(response.body.code).toBe('payload_too_large');
  });

  it('answers a non-JSON body with 415', async () => {
    const { app } = buildApp();
    const response = await request(app)
      .post('/v1/checkouts/chk_1')
      .set('Content-Type', 'text/plain')
      .send('hello');
    expect(response.status).toBe(415);
    expect(response.body.code).toBe('unsupported_media_type');
  });

  it('lets a route that opted in read a text/csv body itself, and only that route', async () => {
    const { app } = buildApp();
    const csv = 'card_number,member_id\n6200000000000003,m-1\n';
    const streamed = await request(app).post('/v1/imports').set('Content-Type', 'text/csv').send(csv);
    expect(streamed.status).toBe(201);
    expect(streamed.body).toEqual({ bytes: Buffer.byteLength(csv), parsed_body: null });
    const json = await request(app).post('/v1/imports').send({ rows: [] });
    expect(json.status).toBe(201);
    const otherType = await request(app).post('/v1/imports').set('Content-Type', 'text/plain').send('x');
    expect(otherType.status).toBe(415);
    expect(otherType.body.detail).toBe('Send the body as application/json or text/csv.');
    const elsewhere = await request(app)
      .post('/v1/checkouts/chk_1')
      .set('Content-Type', 'text/csv')
      .send(csv);
    expect(elsewhere.status).toBe(415);
    expect(elsewhere.body.detail).toBe('Send the body as application/json.');
  });

  it('answers an unknown path with 404 and a wrong method with 405 and Allow', async () => {
    const { app } = buildApp();
    const missing = await request(app).get('/v1/nothing-here');
    expect(missing.status).toBe(404);
    expect(missing.body.code).toBe('not_found');
    const wrongMethod = await request(app).delete('/v1/checkouts/chk_1');
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers.allow).toBe('POST, GET');
  });

  it.each([
    ['unauthenticated', 401, 'unauthenticated'],
    ['forbidden', 403, 'forbidden'],
    ['not_found', 404, 'not_found'],
    ['conflict', 409, 'illegal_transition'],
    ['unprocessable', 422, 'refund_exceeds_remaining'],
    ['rate_limited', 429, 'rate_limited'],
    ['unavailable', 503, 'rate_sheet_unavailable'],
  ])('maps a %s domain error to %i', async (kind, status, code) => {
    const { app } = buildApp();
    const response = await request(app).get(`/errors/${kind}`);
    expect(response.status).toBe(status);
    expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(response.body).toMatchObject({ status, code, type: `urn:puhui:problem:${code}` });
    expect(response.body.request_id).toEqual(response.headers['x-request-id']);
  });

  it('carries extensions and headers of a problem', async () => {
    const { app } = buildApp();
    const conflict = await request(app).get('/errors/conflict');
    expect(conflict.body.current_status).toBe('draft');
    const limited = await request(app).get('/errors/rate_limited');
    expect(limited.headers['retry-after']).toBe('7');
  });

  it('hides an unexpected error behind a generic 500 and logs it with the request id', async () => {
    const { app, lines } = buildApp();
    const response = await request(app).get('/errors/crash').set('X-Request-Id', 'req-crash');
    expect(response.status).toBe(500);
    expect(response.body).toMatchObject({ code: 'internal_error', request_id: 'req-crash' });
    expect(JSON.stringify(response.body)).not.toMatch(/secret internal detail|TypeError/);
    const logged = lines.find((line) => line.message === 'unhandled error');
    expect(logged?.request_id).toBe('req-crash');
  });

  it('refuses the NUL character anywhere in the path, query or body with 400 (Postgres text cannot hold it)', async () => {
    const { app } = buildApp();
    const inPath = await request(app).post('/v1/checkouts/chk_1%00').send(validBody);
    expect(inPath.status).toBe(400);
    expect(inPath.body.invalid_params).toEqual([
      { in: 'path', name: 'id', reason: 'must not contain the NUL character (U+0000)' },
    ]);
    const inBody = await request(app)
      .post('/v1/checkouts/chk_1')
      .send({ ...validBody, reference: 'r-\u0000', lines: [{ category: 'any\u0000', amount_minor: 1 }] });
    expect(inBody.status).toBe(400);
    expect(inBody.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(inBody.body.invalid_params.map((param: { name: string }) => param.name)).toEqual([
      'reference',
      'lines.0.category',
    ]);
  });

  it.each(['gzip', 'deflate', 'br'])(
    'answers a body that claims Content-Encoding %s but is plain JSON with 400, not 500',
    async (encoding) => {
      const { app } = buildApp();
      const response = await postRaw(app, '/v1/checkouts/chk_1', Buffer.from(JSON.stringify(validBody)), {
        'Content-Encoding': encoding,
      });
      expect(response.status).toBe(400);
      expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(response.body).toMatchObject({ status: 400, code: 'malformed_body_encoding' });
    },
  );

  it('still reads a body that really is gzip-encoded', async () => {
    const { app } = buildApp();
    const response = await postRaw(app, '/v1/checkouts/chk_1', gzipSync(JSON.stringify(validBody)), {
      'Content-Encoding': 'gzip',
    });
    expect(response.status).toBe(201);
  });

  it('answers a malformed percent-encoding in a path segment with 400, not a URIError 500', async () => {
    const { app } = buildApp();
    for (const path of ['/v1/checkouts/%ZZ', '/v1/checkouts/chk_%E0%A4%A']) {
      const response = await request(app).get(path);
      expect(response.status).toBe(400);
      expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(response.body).toMatchObject({ status: 400, code: 'malformed_path' });
    }
  });

  it('refuses invalid UTF-8 inside a JSON string with 400 instead of storing U+FFFD', async () => {
    const { app } = buildApp();
    const json = Buffer.from(JSON.stringify({ ...validBody, reference: 'r-XX' }), 'utf8');
    const at = json.indexOf('XX');
    json[at] = 0xc3; // a lead byte of a two-byte sequence…
    json[at + 1] = 0x28; // …followed by '(' instead of a continuation byte
    const response = await postRaw(app, '/v1/checkouts/chk_1', json);
    expect(response.status).toBe(400);
    expect(response.body).toMatchObject({ status: 400, code: 'invalid_utf8' });
    const valid = await request(app)
      .post('/v1/checkouts/chk_1')
      .send({ ...validBody, reference: 'r-普惠-é' });
    expect(valid.status).toBe(201);
  });

  it('answers a dependency that is away (database restarting, connection cut) with a retryable 503, not a 500', async () => {
    const { app } = buildApp();
    for (const kind of [
      'database_refused',
      'database_shutting_down',
      'database_connection_ended',
      'database_pool_timeout',
    ]) {
      const response = await request(app).get(`/errors/${kind}`);
      expect(response.status).toBe(503);
      expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(response.headers['retry-after']).toBe('1');
      expect(response.body).toMatchObject({ status: 503, code: 'dependency_unavailable' });
      expect(JSON.stringify(response.body)).not.toMatch(/5432|ECONNREFUSED|administrator/);
    }
  });

  it('logs a 503 the service decided without a stack, and one caused by a failure underneath with it', async () => {
    const { app, lines } = buildApp();
    for (const kind of ['not_yet_available', 'unavailable', 'unavailable_caused', 'database_refused']) {
      expect((await request(app).get(`/errors/${kind}`)).status).toBe(503);
    }
    const failed = lines.filter((line) => line.message === 'request failed');
    expect(failed.map((line) => [line.code, line.err === undefined])).toEqual([
      ['not_yet_available', true],
      ['rate_sheet_unavailable', true],
      ['rate_sheet_unavailable', false],
      ['dependency_unavailable', false],
    ]);
    expect(failed[0]).toMatchObject({ detail: expect.stringContaining('Budget bud_1') });
    expect(JSON.stringify(failed[2])).toContain('socket hang up');
  });

  it('keeps DomainError usable for kinds without a helper class', () => {
    expect(new DomainError('payload_too_large', 'too_big', 'Too big').kind).toBe('payload_too_large');
  });
});

describe('health and readiness', () => {
  it('answers /healthz while alive', async () => {
    const { app } = buildApp();
    const response = await request(app).get('/healthz');
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ status: 'ok', service: 'http-test' });
  });

  it('is ready when every check answers', async () => {
    const { app } = buildApp();
    const response = await request(app).get('/readyz');
    expect(response.status).toBe(200);
    expect(response.body.checks).toEqual({ postgres: 'ok' });
  });

  it('is not ready when a check fails or hangs, and names it without its error text (logged instead)', async () => {
    const { app, lines } = buildApp([
      { name: 'postgres', check: async () => 'ok' },
      {
        name: 'kafka',
        check: () => Promise.reject(new Error('connect ECONNREFUSED 10.1.2.3:9092 (user puhui)')),
      },
      { name: 'redis', check: () => new Promise(() => undefined) },
    ]);
    const response = await request(app).get('/readyz');
    expect(response.status).toBe(503);
    expect(response.body.code).toBe('not_ready');
    expect(response.body.checks).toEqual({ postgres: 'ok', kafka: 'failing', redis: 'failing' });
    expect(response.text).not.toMatch(/ECONNREFUSED|10\.1\.2\.3|puhui\)|did not answer/u);
    expect(response.body.detail).toBe('Not ready: kafka, redis not answering.');
    const logged = lines.find((line) => line.message === 'not ready');
    expect(logged?.reasons).toEqual({
      kafka: 'Error: connect ECONNREFUSED 10.1.2.3:9092 (user puhui)',
      redis: 'Error: redis did not answer within 200 ms',
    });
  });

  it('is not ready once draining', async () => {
    const { app, handle } = buildApp();
    handle.markDraining();
    const response = await request(app).get('/readyz');
    expect(response.status).toBe(503);
    expect(response.body.code).toBe('shutting_down');
  });
});
