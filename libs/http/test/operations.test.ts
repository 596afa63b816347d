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
  parseRequest,
  respond,
  route,
} from '@puhui/http';
import type { ApiDocs } from '@puhui/http';
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
    expect(getWidget.problems).toEqual([400, 401, 403, 404, 429, 503]);
    expect(createWidget.problems).toEqual([400, 401, 403, 409, 413, 415, 503]);
    expect(openApiPath('/v1/merchants/:id/api_keys/:key_id')).toBe('/v1/merchants/{id}/api_keys/{key_id}');
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
    const { app } = buildApp(mountAll, docs);
    const check = async (method: 'get' | 'post', path: string, body?: unknown) => {
      const call = request(app)[method](path).set('idempotency-key', 'k1');
      const response = await (body === undefined ? call : call.send(body as object));
      return () =>
        assertDocumentedResponse(operations, {
          method,
          path,
          status: response.status,
          contentType: response.headers['content-type'] ?? null,
          body: response.type === 'text/csv' ? response.text : response.body,
        });
    };
    expect(await check('post', '/v1/widgets', { amount_minor: 5 })).not.toThrow();
    expect(await check('post', '/v1/widgets', { amount_minor: 0 })).not.toThrow(); // a documented 400
    expect(await check('get', '/v1/widgets/export.csv')).not.toThrow();
    expect(await check('get', '/v1/widgets/wid_1')).toThrow(/Unrecognized key: "colour"/u);
    expect(await check('get', '/v1/nothing-here')).not.toThrow(); // no operation: not checked
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
});
