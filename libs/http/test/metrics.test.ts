/**
 * What the app reports to its RequestObserver (decision 0024): each request labelled by its
 * operation — also when refused before its handler — the platform routes by name, everything
 * else `unmatched`, and a request whose client went away still finished; and /metrics itself.
 */
import { connect } from 'node:net';
import { z } from 'zod';
import { Unauthenticated } from '@puhui/errors';
import {
  authenticateCallers,
  createApp,
  defineOperation,
  documented,
  route,
  startHttpServer,
} from '@puhui/http';
import type { RequestObserver, RunningServer } from '@puhui/http';
import { createLogger } from '@puhui/logging';

const guarded = defineOperation({
  method: 'post',
  path: '/v1/guarded',
  operationId: 'postGuarded',
  summary: 'Needs a caller',
  tags: ['test'],
  callers: ['merchant'],
  request: { body: z.unknown() },
  responses: { 201: { description: 'Taken.', schema: z.unknown() } },
});
const slow = defineOperation({
  method: 'get',
  path: '/v1/slow',
  operationId: 'getSlow',
  summary: 'Answers late',
  tags: ['test'],
  callers: [],
  responses: { 200: { description: 'Late.', schema: z.unknown() } },
});

interface Finished {
  operation: string;
  method: string;
  statusCode: number;
  seconds: number;
}

let running: RunningServer;
const finished: Finished[] = [];
let inFlight = 0;
const observer: RequestObserver = {
  requestStarted: () => {
    inFlight += 1;
  },
  requestFinished: (operation, method, statusCode, seconds) => {
    inFlight -= 1;
    finished.push({ operation, method, statusCode, seconds });
  },
};

beforeAll(async () => {
  const logger = createLogger({ service: 'metrics-test', level: 'silent' });
  const handle = createApp({
    service: 'metrics-test',
    logger,
    bodyLimitBytes: 1024,
    requireCallerCheck: true,
    requestObserver: observer,
    metrics: { scrape: async () => ({ contentType: 'text/plain; version=0.0.4', body: 'up 1\n' }) },
    docs: { operations: [guarded, slow], openapi: () => ({ openapi: '3.1.0' }) },
    routes: (router) => {
      authenticateCallers(router, () => {
        throw new Unauthenticated();
      });
      route(router, guarded.path, {
        post: documented(guarded, (_request, response) => void response.status(201).json({})),
      });
      route(router, slow.path, {
        get: documented(slow, async (_request, response) => {
          await new Promise((resolve) => setTimeout(resolve, 300));
          if (!response.writableEnded && !response.destroyed) response.json({});
        }),
      });
    },
  });
  running = await startHttpServer({ handle, port: 0, host: '127.0.0.1', logger, shutdownGraceMs: 100 });
});

afterAll(async () => {
  await running.shutdown('test over');
});

/** Waits until the observer saw `count` finished requests (a finish is reported on the socket's close). */
async function finishedCount(count: number): Promise<Finished[]> {
  for (let attempt = 0; attempt < 200 && finished.length < count; attempt += 1)
    await new Promise((resolve) => setTimeout(resolve, 10));
  return finished.splice(0, finished.length);
}

it('labels each request by its operation, a refused one too, and the platform routes by name', async () => {
  const answers = await Promise.all([
    fetch(`${running.url}/v1/guarded`, {
      method: 'POST',
      body: '{}',
      headers: { 'content-type': 'application/json' },
    }),
    fetch(`${running.url}/healthz`),
    fetch(`${running.url}/readyz`),
    fetch(`${running.url}/openapi.json`),
    fetch(`${running.url}/metrics`),
    fetch(`${running.url}/metrics`, { method: 'DELETE' }),
    fetch(`${running.url}/v1/cards/6222021234567890123`),
  ]);
  expect(answers.map((answer) => answer.status)).toEqual([401, 200, 200, 200, 200, 405, 404]);
  expect(await answers[4]?.text()).toBe('up 1\n');
  const seen = await finishedCount(7);
  expect(
    seen.map(({ operation, method, statusCode }) => `${operation} ${method} ${statusCode}`).sort(),
  ).toEqual(
    [
      'postGuarded POST 401',
      'healthz GET 200',
      'readyz GET 200',
      'docs GET 200',
      'metrics GET 200',
      'unmatched DELETE 405',
      'unmatched GET 404',
    ].sort(),
  );
  expect(seen.every((request) => request.seconds > 0 && request.seconds < 60)).toBe(true);
  expect(inFlight).toBe(0);
});

it('reports a request whose client went away before the answer as finished', async () => {
  const socket = connect(running.port, '127.0.0.1');
  await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
  socket.write('GET /v1/slow HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
  for (let attempt = 0; attempt < 100 && inFlight === 0; attempt += 1)
    await new Promise((resolve) => setTimeout(resolve, 10));
  expect(inFlight).toBe(1);
  socket.destroy();
  const seen = await finishedCount(1);
  expect(seen.map((request) => request.operation)).toEqual(['getSlow']);
  expect(inFlight).toBe(0);
});
