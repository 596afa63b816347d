import type { Router } from 'express';
import request from 'supertest';
import { z } from 'zod';
import {
  assertDocumentedResponse,
  createApp,
  defineOperation,
  documented,
  openApiDocument,
  openApiPath,
  operationsFromOpenApi,
  parseRequest,
  respond,
  route,
} from '@puhui/http';
import type { ApiDocs, DocumentedAnswers } from '@puhui/http';
import { createLogger, memoryDestination } from '@puhui/logging';

const widget = z.strictObject({ id: z.string(), amount_minor: z.int() }).meta({ id: 'Widget' });
const getWidget = defineOperation({
  method: 'get',
  path: '/v1/widgets/:id',
  operationId: 'getWidget',
  summary: 'Get a widget',
  tags: ['widgets'],
  callers: ['finance', 'merchant'],
  request: { path: z.strictObject({ id: z.string().regex(/^wid_\d+$/u) }) },
  responses: { 200: { description: 'The widget.', schema: widget } },
});
const createWidget = defineOperation({
  method: 'post',
  path: '/v1/widgets',
  operationId: 'createWidget',
  summary: 'Create a widget',
  tags: ['widgets'],
  callers: ['admin'],
  request: {
    body: z.strictObject({ amount_minor: z.int().min(1) }),
    headers: z.object({ 'idempotency-key': z.string().min(1) }),
  },
  responses: { 201: { description: 'The new widget.', schema: widget } },
  problems: [409],
});
const exportWidgets = defineOperation({
  method: 'get',
  path: '/v1/widgets/export.csv',
  operationId: 'exportWidgets',
  summary: 'Widgets as CSV',
  tags: ['widgets'],
  callers: ['finance'],
  responses: { 200: { description: 'The file.', contentType: 'text/csv' } },
});
const operations = [getWidget, createWidget, exportWidgets];

const info = {
  title: 'Widgets',
  version: '1.2.3',
  description: 'Test API.',
  serverUrl: 'http://127.0.0.1:4999',
  tags: [{ name: 'widgets', description: 'Widgets.' }],
};

function buildApp(mount: (router: Router) => void, docs?: ApiDocs) {
  const logger = createLogger({
    service: 'ops-test',
    level: 'warn',
    destination: memoryDestination().destination,
  });
  return createApp({
    service: 'ops-test',
    logger,
    bodyLimitBytes: 1024,
    routes: mount,
    ...(docs ? { docs } : {}),
  });
}

const docs: ApiDocs = {
  operations,
  openapi: () => openApiDocument(info, operations),
  asyncapi: () => ({ asyncapi: '3.0.0' }),
};

function mountAll(router: Router): void {
  route(router, '/v1/widgets/export.csv', {
    get: documented(exportWidgets, (_request, response) =>
      respond(response, exportWidgets, 200, 'id\nwid_1\n'),
    ),
  });
  route(router, '/v1/widgets', {
    post: documented(createWidget, (request, response) => {
      const { body } = parseRequest(request, createWidget.request);
      respond(response, createWidget, 201, { id: 'wid_1', amount_minor: body.amount_minor });
    }),
  });
  route(router, '/v1/widgets/:id', {
    get: documented(getWidget, (request, response) => {
      const { path } = parseRequest(request, getWidget.request);
      // An undocumented field: the conformance check must catch it.
      response.json({ id: path.id, amount_minor: 5, colour: 'red' });
    }),
  });
}

describe('operations', () => {
  it('derive the problems that follow from their shape', () => {
    // Every route behind the body parser may refuse a body's framing (400/413/415), a GET's
    // too, and every operation may fail on our side (500): the documents declare them (issue 13).
    // A body too slow or too late is 408, and any authenticated operation may be 429 for an
    // address that keeps failing to authenticate (decision 0018).
    expect(getWidget.problems).toEqual([400, 401, 403, 404, 408, 413, 415, 429, 500, 503]);
    expect(createWidget.problems).toEqual([400, 401, 403, 408, 409, 413, 415, 429, 500, 503]);
    expect(openApiPath('/v1/merchants/:id/api_keys/:key_id')).toBe('/v1/merchants/{id}/api_keys/{key_id}');
  });

  it('document the body refusals of a method that may carry a body, for an operation that reads none', async () => {
    const archiveWidget = defineOperation({
      method: 'post',
      path: '/v1/widgets/:id/archive',
      operationId: 'archiveWidget',
      summary: 'Archive a widget',
      tags: ['widgets'],
      callers: [],
      request: { path: z.strictObject({ id: z.string() }) },
      responses: { 200: { description: 'Archived.', schema: widget } },
    });
    expect(archiveWidget.problems).toEqual([400, 404, 408, 413, 415, 500]);
    const { app } = buildApp((router) =>
      route(router, '/v1/widgets/:id/archive', {
        post: documented(archiveWidget, (_request, response) =>
          respond(response, archiveWidget, 200, { id: 'wid_1', amount_minor: 5 }),
        ),
      }),
    );
    const path = '/v1/widgets/wid_1/archive';
    const tooLarge = await request(app)
      .post(path)
      .set('content-type', 'application/json')
      .send(JSON.stringify({ padding: 'x'.repeat(2048) }));
    const notJson = await request(app).post(path).set('content-type', 'text/plain').send('archive it');
    expect([tooLarge.status, notJson.status]).toEqual([413, 415]);
    for (const answer of [tooLarge, notJson]) {
      expect(() =>
        assertDocumentedResponse([archiveWidget], {
          method: 'POST',
          path,
          status: answer.status,
          contentType: answer.headers['content-type'] ?? null,
          body: answer.body,
        }),
      ).not.toThrow();
    }
  });

  it('document parameters, bodies, security with roles, responses and shared problems', () => {
    const document = openApiDocument(info, operations) as any; // eslint-disable-line @typescript-eslint/no-explicit-any
    expect(document.openapi).toBe('3.1.0');
    expect(document.info.version).toBe('1.2.3');
    expect(document.servers).toEqual([{ url: 'http://127.0.0.1:4999', description: 'This service' }]);
    const get = document.paths['/v1/widgets/{id}'].get;
    expect(get.security).toEqual([{ operatorToken: ['finance'] }, { merchantKey: [] }]);
    expect(get.parameters[0]).toMatchObject({ name: 'id', in: 'path', required: true });
    expect(get.responses['200'].content['application/json'].schema).toEqual({
      $ref: '#/components/schemas/Widget',
    });
    expect(get.responses['404']).toEqual({ $ref: '#/components/responses/Problem404' });
    const post = document.paths['/v1/widgets'].post;
    expect(post.parameters[0]).toMatchObject({ name: 'Idempotency-Key', in: 'header', required: true });
    expect(post.requestBody.required).toBe(true);
    expect(document.paths['/v1/widgets/export.csv'].get.responses['200'].content['text/csv']).toBeDefined();
    expect(Object.keys(document.paths)).toEqual(expect.arrayContaining(['/healthz', '/readyz']));
    expect(document.components.schemas.Widget.required).toEqual(['id', 'amount_minor']);
    expect(document.components.schemas.Problem.properties.code).toBeDefined();
    expect(document.components.responses.Problem409.content['application/problem+json']).toBeDefined();
  });

  it('refuse an operation mounted on another path or method', () => {
    expect(() =>
      buildApp((router) => route(router, '/v1/other', { get: documented(getWidget, (_q, s) => s.end()) })),
    ).toThrow(/getWidget documents get \/v1\/widgets\/:id, mounted as get \/v1\/other/u);
  });

  it('refuse to start when a route is undocumented or an operation is not mounted', () => {
    expect(() =>
      buildApp((router) => {
        mountAll(router);
        route(router, '/v1/secret', { get: (_q, s) => s.end() });
      }, docs),
    ).toThrow(/GET \/v1\/secret is mounted but not documented/u);
    expect(() =>
      buildApp(
        (router) =>
          route(router, '/v1/widgets/export.csv', { get: documented(exportWidgets, (_q, s) => s.end()) }),
        docs,
      ),
    ).toThrow(/getWidget is documented but not mounted/u);
  });

  it('serve /openapi.json, /asyncapi.json and Swagger UI at /docs without credentials', async () => {
    const { app } = buildApp(mountAll, docs);
    const openapi = await request(app).get('/openapi.json').expect(200);
    expect(openapi.body.paths['/v1/widgets']).toBeDefined();
    await request(app).get('/asyncapi.json').expect(200, { asyncapi: '3.0.0' });
    const page = await request(app).get('/docs').expect(200).expect('content-type', /html/u);
    expect(page.text).toContain('/docs/assets/swagger-ui-bundle.js');
    const bundle = await request(app).get('/docs/assets/swagger-ui-bundle.js').expect(200);
    expect(bundle.text.length).toBeGreaterThan(100_000);
    await request(app).get('/docs/assets/index.html').expect(404);
  });

  it('check real answers against the document: fields, statuses and problems', async () => {
    const check = await checker(operations);
    expect(await check('post', '/v1/widgets', { amount_minor: 5 })).not.toThrow();
    expect(await check('post', '/v1/widgets', { amount_minor: 0 })).not.toThrow(); // a documented 400
    expect(await check('get', '/v1/widgets/export.csv')).not.toThrow();
    expect(await check('get', '/v1/widgets/wid_1')).toThrow(/Unrecognized key: "colour"/u);
    expect(() =>
      assertDocumentedResponse(operations, {
        method: 'GET',
        path: '/v1/widgets/wid_1',
        status: 409,
        contentType: 'application/problem+json',
        body: { type: 'urn:puhui:problem:x', title: 'X', status: 409, code: 'x' },
      }),
    ).toThrow(/status not documented for getWidget/u);
  });

  it('document the framing refusals of a GET that carries a body, as it answers them', async () => {
    const check = await checker(operations);
    const { app } = buildApp(mountAll, docs);
    const path = '/v1/widgets/export.csv';
    const answers = [
      await request(app).get(path).set('content-type', 'application/json').send('{"broken'),
      await request(app)
        .get(path)
        .set('content-type', 'application/json')
        .send(JSON.stringify({ padding: 'x'.repeat(2048) })),
      await request(app).get(path).set('content-type', 'text/plain').send('a body'),
    ];
    expect(answers.map((answer) => answer.status)).toEqual([400, 413, 415]);
    for (const answer of answers) {
      const observed = {
        method: 'GET',
        path,
        status: answer.status,
        contentType: answer.headers['content-type'] ?? null,
        body: answer.body,
      };
      expect(() => assertDocumentedResponse(operations, observed)).not.toThrow();
    }
    expect(await check('get', path)).not.toThrow();
  });

  it('fail a problem whose code the documents give another status, and any 500', async () => {
    const { app } = buildApp(mountAll, docs);
    const served = operationsFromOpenApi((await request(app).get('/openapi.json').expect(200)).body);
    const document = (await request(app).get('/openapi.json')).body;
    expect(document.components['x-problem-codes']).toMatchObject({ idempotency_key_reused: 422 });
    expect(document.components.responses.Problem500.description).toContain('`internal_error`');
    const reused = {
      type: 'urn:puhui:problem:idempotency_key_reused',
      title: 'Reused',
      code: 'idempotency_key_reused',
    };
    for (const documented of [operations, served]) {
      const observe = (status: number, body: unknown) => () =>
        assertDocumentedResponse(documented, {
          method: 'POST',
          path: '/v1/widgets',
          status,
          contentType: 'application/problem+json',
          body,
        });
      // createWidget documents 409 (for its own conflicts): the status alone would pass.
      expect(observe(409, { ...reused, status: 409 })).toThrow(
        /code idempotency_key_reused is documented as status 422/u,
      );
      expect(observe(409, { ...reused, code: 'widget_conflict', status: 422 })).toThrow(
        /the problem says status 422/u,
      );
      expect(observe(409, { ...reused, code: 'widget_conflict', status: 409 })).not.toThrow();
      const internal = { ...reused, code: 'internal_error', status: 500 };
      expect(observe(500, internal)).toThrow(/an internal error is a bug/u);
    }
  });

  it('fail an answer that no documented operation gives: an unknown path or a wrong method', async () => {
    const check = await checker(operations);
    expect(await check('get', '/v1/nothing-here')).toThrow(
      /no documented operation has the path \/v1\/nothing-here/u,
    );
    expect(await check('delete', '/v1/widgets/wid_1')).toThrow(
      /\/v1\/widgets\/wid_1 is documented for GET only/u,
    );
  });

  it('check answers against the served OpenAPI document as strictly as against the operations', async () => {
    const { app } = buildApp(mountAll, docs);
    const served = operationsFromOpenApi((await request(app).get('/openapi.json').expect(200)).body);
    expect(served.map((operation) => `${operation.method} ${operation.path}`).sort()).toEqual([
      'get /healthz',
      'get /readyz',
      'get /v1/widgets/:id',
      'get /v1/widgets/export.csv',
      'post /v1/widgets',
    ]);
    const check = await checker(served);
    expect(await check('post', '/v1/widgets', { amount_minor: 5 })).not.toThrow();
    expect(await check('post', '/v1/widgets', { amount_minor: 0 })).not.toThrow(); // a documented 400
    expect(await check('get', '/v1/widgets/export.csv')).not.toThrow();
    expect(await check('get', '/healthz')).not.toThrow();
    expect(await check('get', '/v1/widgets/wid_1')).toThrow(/colour/u);
    expect(await check('get', '/v1/nothing-here')).toThrow(/no documented operation/u);
    expect(await check('delete', '/v1/widgets/wid_1')).toThrow(/documented for GET only/u);
    const problem = { type: 'urn:puhui:problem:x', title: 'X', status: 409, code: 'x' };
    const observe = (status: number, contentType: string, body: unknown) => () =>
      assertDocumentedResponse(served, { method: 'POST', path: '/v1/widgets', status, contentType, body });
    expect(observe(409, 'application/problem+json', problem)).not.toThrow();
    expect(observe(422, 'application/problem+json', { ...problem, status: 422 })).toThrow(
      /status not documented for createWidget/u,
    );
    expect(observe(409, 'application/json', problem)).toThrow(/content type application\/json, documented/u);
    expect(observe(409, 'application/problem+json', { ...problem, code: 7 })).toThrow(/code/u);
    expect(observe(201, 'application/json', { id: 'wid_1' })).toThrow(/amount_minor/u);
  });
});

/** Calls `app` and returns a function that checks its answer against `documented`. */
async function checker(documented: readonly DocumentedAnswers[]) {
  const { app } = buildApp(mountAll, docs);
  return async (method: 'get' | 'post' | 'delete', path: string, body?: unknown) => {
    const call = request(app)[method](path).set('idempotency-key', 'k1');
    const response = await (body === undefined ? call : call.send(body as object));
    return () =>
      assertDocumentedResponse(documented, {
        method,
        path,
        status: response.status,
        contentType: response.headers['content-type'] ?? null,
        body: response.type === 'text/csv' ? response.text : response.body,
      });
  };
}
