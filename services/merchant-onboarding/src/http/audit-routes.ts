/** The append-only audit trail: who changed what, when, before and after. */
import type { Router } from 'express';
import { defineOperation, documented, parseRequest, respond, route } from '@puhui/http';
import type { Pool } from '@puhui/postgres';
import { listAudit } from '../store/audit';
import type { Access } from './access';
import { auditEventListSchema } from './responses';
import { auditQuery } from './schemas';

const listAuditEvents = defineOperation({
  method: 'get',
  path: '/v1/audit_events',
  operationId: 'listAuditEvents',
  summary: 'Who changed what, when, before and after',
  tags: ['audit'],
  callers: ['admin'],
  request: { query: auditQuery },
  responses: {
    200: { description: 'A page of the audit trail, oldest first.', schema: auditEventListSchema },
  },
});

export const AUDIT_OPERATIONS = [listAuditEvents];

export function auditRoutes(router: Router, pool: Pool, access: Access): void {
  route(router, '/v1/audit_events', {
    get: documented(listAuditEvents, async (request, response) => {
      await access.asAdmin(request, response);
      const { query } = parseRequest(request, listAuditEvents.request);
      const page = await listAudit(pool, query);
      respond(response, listAuditEvents, 200, page);
    }),
  });
}
