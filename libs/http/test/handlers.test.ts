import type { Request } from 'express';
import request from 'supertest';
import { z } from 'zod';
import { Unauthenticated } from '@puhui/errors';
import { answered, auditTrailRoutes, createApp, defineOperation, pageSchema, route } from '@puhui/http';
import { createLogger, memoryDestination } from '@puhui/logging';

const note = z.strictObject({ id: z.string(), text: z.string() }).meta({ id: 'Note' });
const updateNote = defineOperation({
  method: 'patch',
  path: '/v1/notes/:id',
  operationId: 'updateNote',
  summary: 'Change a note',
  tags: ['notes'],
  callers: ['admin'],
  request: {
    path: z.strictObject({ id: z.string().regex(/^note_\d+$/u) }),
    body: z.strictObject({ text: z.string().min(1) }),
  },
  responses: { 200: { description: 'The note.', schema: note } },
});
const auditEvent = z.strictObject({ audit_id: z.string(), action: z.string() }).meta({ id: 'AuditEvent' });
const auditTrail = auditTrailRoutes(
  z.strictObject({ limit: z.coerce.number().default(2) }),
  pageSchema(auditEvent, 'AuditEventList'),
  'Who changed which note',
);

/** An admin is whoever sends `authorization: admin`. */
async function adminOf(incoming: Request): Promise<string> {
  if (incoming.headers.authorization !== 'admin') throw new Unauthenticated();
  return 'admin.zhang';
}

function buildApp() {
  return createApp({
    service: 'handlers-test',
    logger: createLogger({
      service: 'handlers-test',
      level: 'warn',
      destination: memoryDestination().destination,
    }),
    bodyLimitBytes: 1024,
    routes: (router) => {
      route(router, '/v1/notes/:id', {
        patch: answered(updateNote, 200, adminOf, (actor, { path, body }) => ({
          id: path.id,
          text: `${body.text} (${actor})`,
        })),
      });
      auditTrail.mount(router, adminOf, async (query) => ({
        data: [{ audit_id: '1', action: `listed ${query.limit}` }],
        has_more: false,
      }));
    },
  }).app;
}

describe('answered', () => {
  it('checks the caller before the request, then answers what the handler gives with the status', async () => {
    const app = buildApp();
    await request(app).patch('/v1/notes/bad').send({}).expect(401);
    const invalid = await request(app)
      .patch('/v1/notes/bad')
      .set('authorization', 'admin')
      .send({})
      .expect(400);
    expect(invalid.body.invalid_params.map((param: { name: string }) => param.name).sort()).toEqual([
      'id',
      'text',
    ]);
    await request(app)
      .patch('/v1/notes/note_1')
      .set('authorization', 'admin')
      .send({ text: 'hello' })
      .expect(200, { id: 'note_1', text: 'hello (admin.zhang)' });
  });
});

describe('auditTrailRoutes', () => {
  it('documents GET /v1/audit_events for admins and serves the store’s page for the parsed query', async () => {
    const [operation] = auditTrail.operations;
    expect(operation).toMatchObject({
      method: 'get',
      path: '/v1/audit_events',
      operationId: 'listAuditEvents',
      summary: 'Who changed which note',
      tags: ['audit'],
      callers: ['admin'],
    });
    const app = buildApp();
    await request(app).get('/v1/audit_events').expect(401);
    await request(app)
      .get('/v1/audit_events')
      .set('authorization', 'admin')
      .expect(200, { data: [{ audit_id: '1', action: 'listed 2' }], has_more: false });
  });
});
