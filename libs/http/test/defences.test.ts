/**
 * Decision 0018 on a real server and raw sockets (node:net): the caller is checked before a
 * body is read, body limits and arrival deadlines per route, slow senders cut off, headers
 * timeout, maxConnections, addresses that keep failing to authenticate refused, security
 * headers, and the principal in the request log line.
 */
import { connect } from 'node:net';
import { Writable } from 'node:stream';
import request from 'supertest';
import { z } from 'zod';
import {
  addressKey,
  authenticate,
  authenticateCallers,
  createApp,
  defineOperation,
  documented,
  FailedAuthenticationGate,
  route,
  startHttpServer,
} from '@puhui/http';
import type { AppOptions, AuthenticationSettings, RunningServer } from '@puhui/http';
import { createLogger } from '@puhui/logging';
import {
  DEVELOPMENT_OPERATOR_JWKS,
  actorOf,
  generateApiKey,
  hashApiKey,
  operatorTokenVerifier,
} from '@puhui/security';

const KEY = generateApiKey().secret;
const OTHER_KEY = generateApiKey().secret;

const operation = (path: string, callers: readonly ('merchant' | 'admin')[] = ['merchant']) =>
  defineOperation({
    method: 'post',
    path,
    operationId: path.replace(/\W/gu, '_'),
    summary: path,
    tags: ['test'],
    callers,
    request: { body: z.unknown() },
    responses: { 201: { description: 'Read.', schema: z.unknown() } },
  });
const echo = operation('/v1/echo');
const large = operation('/v1/large');
const open = operation('/v1/open', []);
const upload = operation('/v1/upload');

interface Harness {
  running: RunningServer;
  lines: Record<string, unknown>[];
  lookups: () => number;
}

async function start(
  overrides: Partial<AppOptions> = {},
  server: { headersTimeoutMs?: number; connectionsMax?: number; replica?: boolean } = {},
): Promise<Harness> {
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk, _encoding, done) {
      lines.push(JSON.parse(String(chunk)) as Record<string, unknown>);
      done();
    },
  });
  const logger = createLogger({ service: 'defences-test', level: 'info', destination });
  let lookups = 0;
  const settings: AuthenticationSettings = {
    verifyOperatorToken: operatorTokenVerifier({ jwks: DEVELOPMENT_OPERATOR_JWKS }, 'defences-test'),
    findMerchantKey: async (hash) => {
      lookups += 1;
      return hash === hashApiKey(KEY)
        ? { merchant_id: 'mer_1', key_id: 'key_1', scopes: ['checkout'] }
        : undefined;
    },
    // A replica that holds no key yet: a key minted a moment ago is "not yet available" (503).
    ...(server.replica === true ? { replicaHoldsKey: async () => false } : {}),
  };
  const answer = documented(echo, async (request, response) => {
    const principal = await authenticate(request, settings);
    response.status(201).json({ bytes: JSON.stringify(request.body).length, caller: actorOf(principal) });
  });
  const handle = createApp({
    service: 'defences-test',
    logger,
    bodyLimitBytes: 1024,
    requestTimeoutMs: 3000,
    bodyRate: { bodyRateBytesPerSecondMin: 1000, bodyRateGraceMs: 1000 },
    failedAuthentication: { perAddressMax: 1000, windowMs: 60_000, addressesMax: 100 },
    requireCallerCheck: true,
    ...overrides,
    routes: (router) => {
      authenticateCallers(router, (request) => authenticate(request, settings));
      route(router, echo.path, { post: answer });
      route(router, large.path, { post: documented(large, answer.handler) }, { bodyLimitBytes: 8192 });
      route(router, open.path, {
        post: documented(open, (request, response) => {
          response.status(201).json({ bytes: JSON.stringify(request.body).length });
        }),
      });
      route(
        router,
        upload.path,
        {
          post: documented(upload, async (request, response) => {
            let bytes = 0;
            for await (const chunk of request) bytes += (chunk as Buffer).length;
            response.status(201).json({ bytes });
          }),
        },
        { rawBodyTypes: ['text/csv'], timeoutMs: 6000, bodyLimitBytes: 1_000_000 },
      );
    },
  });
  const running = await startHttpServer({
    handle,
    port: 0,
    host: '127.0.0.1',
    logger,
    shutdownGraceMs: 100,
    ...(server.headersTimeoutMs === undefined ? {} : { headersTimeoutMs: server.headersTimeoutMs }),
    ...(server.connectionsMax === undefined ? {} : { connectionsMax: server.connectionsMax }),
  });
  return { running, lines, lookups: () => lookups };
}

const harnesses: Harness[] = [];
async function harness(...args: Parameters<typeof start>): Promise<Harness> {
  const started = await start(...args);
  harnesses.push(started);
  return started;
}
afterEach(async () => {
  await Promise.all(harnesses.splice(0).map((started) => started.running.shutdown('test')));
});

interface Exchange {
  /** What the server sent before it closed the connection (or before `waitMs`). */
  text: string;
  status: number | undefined;
  closed: boolean;
  /** Milliseconds from the first write until the server closed (or `waitMs`). */
  elapsedMs: number;
}

/**
 * Writes `head`, then each of `chunks` `everyMs` apart while the connection is open, and
 * collects what comes back until the server closes the connection or `waitMs` passes.
 */
function exchange(
  port: number,
  head: string,
  options: { chunks?: string[]; everyMs?: number; waitMs?: number } = {},
): Promise<Exchange> {
  const { chunks = [], everyMs = 100, waitMs = 8000 } = options;
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    const startedAt = Date.now();
    let text = '';
    let done = false;
    const finish = (closed: boolean) => {
      if (done) return;
      done = true;
      clearInterval(sender);
      clearTimeout(giveUp);
      socket.destroy();
      const status = /^HTTP\/1\.1 (\d{3})/u.exec(text)?.[1];
      resolve({
        text,
        status: status === undefined ? undefined : Number(status),
        closed,
        elapsedMs: Date.now() - startedAt,
      });
    };
    socket.on('data', (data) => {
      text += data.toString('latin1');
    });
    socket.on('close', () => finish(true));
    socket.on('error', () => finish(true));
    socket.write(head);
    const queue = [...chunks];
    const sender = setInterval(() => {
      const next = queue.shift();
      if (next === undefined) clearInterval(sender);
      else if (!socket.destroyed) socket.write(next);
    }, everyMs);
    const giveUp = setTimeout(() => finish(false), waitMs);
  });
}

const post = (path: string, headers: Record<string, string | number>) =>
  `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n${Object.entries(headers)
    .map(([name, value]) => `${name}: ${value}\r\n`)
    .join('')}\r\n`;

const bodyOf = (text: string) =>
  JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4)) as Record<string, unknown>;

describe('the caller is checked before the body is read', () => {
  it('answers a stranger announcing a 10 MB body 401 at once, without a byte of the body, and closes', async () => {
    const { running, lookups } = await harness();
    const headers = { 'Content-Type': 'application/json', 'Content-Length': 10 * 1024 * 1024 };
    for (const authorization of [undefined, `Bearer ${OTHER_KEY}`, 'Bearer not-a-token']) {
      const answered = await exchange(
        running.port,
        post(echo.path, authorization === undefined ? headers : { ...headers, Authorization: authorization }),
      );
      expect(answered).toMatchObject({ status: 401, closed: true });
      expect(answered.elapsedMs).toBeLessThan(2000);
      expect(answered.text).toMatch(/\r\nconnection: close\r\n/iu);
      expect(bodyOf(answered.text).code).toBe('unauthenticated');
    }
    expect(lookups()).toBe(1);
  });

  it('reads the body of a known caller, verifying the key once for the check and the handler', async () => {
    const { running, lines, lookups } = await harness();
    const response = await fetch(`${running.url}${echo.path}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${KEY}` },
      body: JSON.stringify({ hello: 'x'.repeat(500) }),
    });
    expect(response.status).toBe(201);
    expect(await response.json()).toEqual({ bytes: 512, caller: 'merchant:mer_1/key_1' });
    expect(lookups()).toBe(1);
    const finished = lines.find((line) => line.message === 'request finished' && line.path === echo.path);
    expect(finished).toMatchObject({ status: 201, principal: 'merchant:mer_1/key_1' });
  });

  it('refuses a stranger a streamed (CSV) body too, before the route reads it', async () => {
    const { running } = await harness();
    const answered = await exchange(
      running.port,
      post(upload.path, { 'Content-Type': 'text/csv', 'Transfer-Encoding': 'chunked' }),
    );
    expect(answered).toMatchObject({ status: 401, closed: true });
  });

  it('keeps the connection of a refused request that carries no body (a 404, then a 200 on the same socket)', async () => {
    const { running } = await harness();
    const answered = await exchange(running.port, 'GET /nowhere HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n', {
      chunks: ['GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n'],
      everyMs: 200,
      waitMs: 1000,
    });
    expect(answered.closed).toBe(false);
    expect(answered.text.match(/HTTP\/1\.1 \d{3}/gu)).toEqual(['HTTP/1.1 404', 'HTTP/1.1 200']);
  });

  it('reads the body of an operation without callers as before', async () => {
    const { running } = await harness();
    const response = await fetch(`${running.url}${open.path}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ a: 1 }),
    });
    expect(response.status).toBe(201);
  });

  it('refuses to start a service whose operations have callers and no caller check', () => {
    const logger = createLogger({
      service: 't',
      destination: new Writable({ write: (_c, _e, done) => done() }),
    });
    expect(() =>
      createApp({
        service: 't',
        logger,
        bodyLimitBytes: 1024,
        requireCallerCheck: true,
        routes: (router) => route(router, echo.path, { post: documented(echo, () => undefined) }),
      }),
    ).toThrow(/POST \/v1\/echo take callers but no caller check is registered/u);
  });
});

describe('body limits and deadlines per route', () => {
  const send = (url: string, bytes: number) =>
    fetch(url, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${KEY}` },
      body: JSON.stringify({ pad: 'x'.repeat(bytes) }),
    });

  it('holds every route to the app limit except the one that names a larger one', async () => {
    const { running } = await harness();
    expect((await send(`${running.url}${echo.path}`, 900)).status).toBe(201);
    const refused = await send(`${running.url}${echo.path}`, 4000);
    expect(refused.status).toBe(413);
    expect(((await refused.json()) as { code: string }).code).toBe('payload_too_large');
    expect((await send(`${running.url}${large.path}`, 4000)).status).toBe(201);
    expect((await send(`${running.url}${large.path}`, 9000)).status).toBe(413);
  });

  it("refuses a raw body declaring more than its route's limit before reading it", async () => {
    const { running } = await harness();
    const answered = await exchange(
      running.port,
      post(upload.path, {
        'Content-Type': 'text/csv',
        'Content-Length': 2_000_000,
        Authorization: `Bearer ${KEY}`,
      }),
    );
    expect(answered).toMatchObject({ status: 413, closed: true });
  });

  it('answers 408 and closes a body still arriving at its deadline: the app’s (3 s), or its route’s own (6 s)', async () => {
    const { running } = await harness({ bodyRate: { bodyRateBytesPerSecondMin: 1, bodyRateGraceMs: 1000 } });
    // 100 bytes every 250 ms: fast enough for the rate, too slow to finish 100 KB.
    const slow = { chunks: Array<string>(60).fill('x'.repeat(100)), everyMs: 250, waitMs: 9000 };
    const [json, csv] = await Promise.all([
      exchange(
        running.port,
        post(echo.path, {
          'Content-Type': 'application/json',
          'Content-Length': 100_000,
          Authorization: `Bearer ${KEY}`,
        }),
        slow,
      ),
      exchange(
        running.port,
        post(upload.path, {
          'Content-Type': 'text/csv',
          'Content-Length': 100_000,
          Authorization: `Bearer ${KEY}`,
        }),
        slow,
      ),
    ]);
    expect(json).toMatchObject({ status: 408, closed: true });
    expect(bodyOf(json.text).code).toBe('request_timeout');
    expect(json.elapsedMs).toBeGreaterThanOrEqual(2900);
    expect(json.elapsedMs).toBeLessThan(5500);
    expect(csv).toMatchObject({ status: 408, closed: true });
    expect(csv.elapsedMs).toBeGreaterThanOrEqual(5900);
    expect(csv.elapsedMs).toBeLessThan(8900);
  }, 15_000);
});

describe('slow senders', () => {
  it('cuts off a body trickling below the minimum rate once the grace is over, and not a steady one', async () => {
    const { running } = await harness({ requestTimeoutMs: 20_000 });
    const headers = { 'Content-Type': 'application/json', Authorization: `Bearer ${KEY}` };
    const body = JSON.stringify({ pad: 'x'.repeat(800) });
    const [trickle, steady] = await Promise.all([
      // A byte every 200 ms: 5 bytes/s, below 1,000.
      exchange(running.port, post(echo.path, { ...headers, 'Content-Length': body.length }), {
        chunks: body.split(''),
        everyMs: 200,
        waitMs: 8000,
      }),
      // 200 bytes every 100 ms: 2,000 bytes/s.
      exchange(running.port, post(echo.path, { ...headers, 'Content-Length': body.length }), {
        chunks: body.match(/.{1,200}/gsu) ?? [],
        everyMs: 100,
        waitMs: 3000,
      }),
    ]);
    expect(trickle).toMatchObject({ status: 408, closed: true });
    expect(bodyOf(trickle.text).code).toBe('body_too_slow');
    expect(trickle.elapsedMs).toBeLessThan(5000);
    expect(steady.status).toBe(201);
  }, 15_000);

  it('closes a connection whose headers do not arrive within the headers timeout', async () => {
    const { running } = await harness({}, { headersTimeoutMs: 1000 });
    const answered = await exchange(running.port, 'GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n', {
      chunks: Array<string>(40).fill('X-Slow: 1\r\n'),
      everyMs: 200,
      waitMs: 6000,
    });
    expect(answered.closed).toBe(true);
    expect(answered.elapsedMs).toBeLessThan(5000);
    expect(answered.status === undefined || answered.status === 408).toBe(true);
  }, 10_000);

  it('accepts no more connections than connectionsMax', async () => {
    const { running } = await harness({}, { connectionsMax: 2 });
    const sockets = Array.from({ length: 3 }, () => connect(running.port, '127.0.0.1'));
    await Promise.all(sockets.map((socket) => new Promise((resolve) => socket.once('connect', resolve))));
    const closedAt = await Promise.all(
      sockets.map(
        (socket) =>
          new Promise<boolean>((resolve) => {
            socket.once('close', () => resolve(true));
            setTimeout(() => resolve(false), 1000);
          }),
      ),
    );
    for (const socket of sockets) socket.destroy();
    expect(closedAt.filter(Boolean)).toHaveLength(1);
    expect(closedAt[2]).toBe(true);
  });
});

describe('addresses that keep failing to authenticate', () => {
  it('answers 429 with Retry-After past the allowance, valid credentials included, and keeps the probes open', async () => {
    const { running, lookups } = await harness({
      failedAuthentication: { perAddressMax: 5, windowMs: 60_000, addressesMax: 100 },
    });
    const call = (authorization?: string) =>
      fetch(`${running.url}${echo.path}`, {
        method: 'POST',
        headers: {
          'Content-Type': 'application/json',
          ...(authorization === undefined ? {} : { Authorization: authorization }),
        },
        body: '{}',
      });
    const statuses: number[] = [];
    for (let attempt = 0; attempt < 20; attempt += 1)
      statuses.push((await call(attempt % 2 === 0 ? undefined : `Bearer ${OTHER_KEY}`)).status);
    expect(statuses.slice(0, 5)).toEqual([401, 401, 401, 401, 401]);
    expect(statuses.slice(5)).toEqual(Array<number>(15).fill(429));
    const lookupsWhenRefused = lookups();
    const refused = await call(`Bearer ${KEY}`);
    expect(refused.status).toBe(429);
    expect(refused.headers.get('content-type')).toMatch(/^application\/problem\+json/u);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(59);
    expect(((await refused.json()) as { code: string }).code).toBe('too_many_failed_authentications');
    // Refused without looking the key up: guessing costs nothing any more.
    expect(lookups()).toBe(lookupsWhenRefused);
    expect((await fetch(`${running.url}/healthz`)).status).toBe(200);
  });

  it('counts keys answered not_yet_available (minted a moment ago, unknown to the replica) as failures too', async () => {
    const { running } = await harness(
      { failedAuthentication: { perAddressMax: 3, windowMs: 60_000, addressesMax: 100 } },
      { replica: true },
    );
    const statuses: number[] = [];
    for (let attempt = 0; attempt < 6; attempt += 1) {
      const answer = await fetch(`${running.url}${echo.path}`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${generateApiKey().secret}` },
        body: '{}',
      });
      statuses.push(answer.status);
    }
    expect(statuses).toEqual([503, 503, 503, 429, 429, 429]);
  });

  it('lets the address in again once its window is over', () => {
    let now = 1_000_000;
    const gate = new FailedAuthenticationGate(
      { perAddressMax: 2, windowMs: 10_000, addressesMax: 10 },
      () => now,
    );
    gate.recordFailure('192.0.2.1');
    expect(gate.refusedFor('192.0.2.1')).toBeUndefined();
    gate.recordFailure('192.0.2.1');
    expect(gate.refusedFor('192.0.2.1')).toBe(10);
    expect(gate.refusedFor('192.0.2.2')).toBeUndefined();
    now += 4_500;
    expect(gate.refusedFor('192.0.2.1')).toBe(6);
    now += 5_500;
    expect(gate.refusedFor('192.0.2.1')).toBeUndefined();
  });

  it('remembers at most addressesMax addresses, forgetting the least recently failed', () => {
    const gate = new FailedAuthenticationGate({ perAddressMax: 1, windowMs: 60_000, addressesMax: 3 });
    for (const address of ['a', 'b', 'c', 'a', 'd']) gate.recordFailure(address);
    expect(gate.size).toBe(3);
    expect(gate.refusedFor('b')).toBeUndefined();
    expect(gate.refusedFor('a')).toBeDefined();
    expect(gate.refusedFor('d')).toBeDefined();
  });

  it('counts an IPv6 client by its /64 and an IPv4-mapped one as IPv4', () => {
    expect(addressKey('2001:db8:1:2:aaaa::1')).toBe('2001:db8:1:2::/64');
    expect(addressKey('2001:0db8:0001:0002:ffff:1:2:3')).toBe('2001:db8:1:2::/64');
    expect(addressKey('::ffff:198.51.100.7')).toBe('198.51.100.7');
    expect(addressKey('198.51.100.7')).toBe('198.51.100.7');
    expect(addressKey('::1')).toBe('0:0:0:0::/64');
  });
});

describe('security headers', () => {
  it('sends nosniff, no framing and a deny-all policy on answers, a Swagger-friendly one on /docs, HSTS only over TLS', async () => {
    const plain = await harness();
    const answer = await fetch(`${plain.running.url}/healthz`);
    expect(answer.headers.get('x-content-type-options')).toBe('nosniff');
    expect(answer.headers.get('x-frame-options')).toBe('DENY');
    expect(answer.headers.get('content-security-policy')).toMatch(
      /default-src 'none'.*frame-ancestors 'none'/u,
    );
    expect(answer.headers.get('strict-transport-security')).toBeNull();
    const refusal = await fetch(`${plain.running.url}${echo.path}`, { method: 'POST' });
    expect(refusal.headers.get('x-content-type-options')).toBe('nosniff');
    const docs = createApp({
      service: 'docs-test',
      logger: createLogger({ service: 't', destination: new Writable({ write: (_c, _e, done) => done() }) }),
      bodyLimitBytes: 1024,
      docs: { operations: [], openapi: () => ({ openapi: '3.1.0' }) },
    });
    const page = await request(docs.app).get('/docs');
    expect(page.headers['content-security-policy']).toMatch(
      /default-src 'self';script-src 'self';style-src 'self' 'unsafe-inline';img-src 'self' data:/u,
    );
    expect(page.headers['content-security-policy']).toMatch(/frame-ancestors 'none'/u);
    const tls = await harness({ servedOverTls: true });
    expect((await fetch(`${tls.running.url}/healthz`)).headers.get('strict-transport-security')).toBe(
      'max-age=31536000; includeSubDomains',
    );
  });
});
