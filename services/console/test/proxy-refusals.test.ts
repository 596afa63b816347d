/**
 * Through the proxy, a service's refusal given before it read the whole body (decision 0018: a
 * body over its route's limit, a declared length over it) closes the service's connection; the
 * person still gets the service's answer whole, not a reset.
 */
import { Writable } from 'node:stream';
import { z } from 'zod';
import {
  authenticateCallers,
  createApp,
  defineOperation,
  documented,
  route,
  startHttpServer,
} from '@puhui/http';
import type { RunningServer } from '@puhui/http';
import { createLogger } from '@puhui/logging';
import type { RunningConsole } from './support';
import { signedInPerson, startConsole } from './support';

const takeRule = defineOperation({
  method: 'post',
  path: '/v1/rules',
  operationId: 'takeRule',
  summary: 'Takes a small body',
  tags: ['test'],
  callers: ['admin'],
  request: { body: z.unknown() },
  responses: { 201: { description: 'Read.', schema: z.unknown() } },
});

let service: RunningServer;
let running: RunningConsole;

beforeAll(async () => {
  const logger = createLogger({
    service: 'stand-in',
    destination: new Writable({ write: (_chunk, _encoding, done) => done() }),
  });
  const handle = createApp({
    service: 'stand-in',
    logger,
    bodyLimitBytes: 1024,
    routes: (router) => {
      // The transport is what is tested: any bearer is a caller here.
      authenticateCallers(router, () => undefined);
      route(router, takeRule.path, {
        post: documented(takeRule, (_request, response) => {
          response.status(201).json({ ok: true });
        }),
      });
    },
  });
  service = await startHttpServer({ handle, port: 0, host: '127.0.0.1', logger, shutdownGraceMs: 100 });
  running = await startConsole({ DISCOUNT_RULES_URL: service.url });
});

afterAll(async () => {
  await running?.close();
  await service?.shutdown('test');
});

it('hands the person a service’s 413 whole when the service refused the body before reading it all', async () => {
  const { person } = await signedInPerson(running, ['admin']);
  for (const size of [2_000, 300_000, 3_000_000]) {
    const answer = await person.send('post', '/api/discount-rules/v1/rules', { padding: 'x'.repeat(size) });
    expect(answer.status).toBe(413);
    expect(answer.body.code).toBe('payload_too_large');
  }
  const small = await person.send('post', '/api/discount-rules/v1/rules', { padding: 'x' });
  expect(small.status).toBe(201);
});
