/**
 * `/v1/approval_requests`, the same on every service that holds requests (the console's inbox
 * reads and decides them through each service): list, get, approve, reject.
 */
import type { Request, Router } from 'express';
import { z } from 'zod';
import { NotFound } from '@puhui/errors';
import { answered, defineOperation, route, safeText } from '@puhui/http';
import type { Pool } from '@puhui/postgres';
import type { Checker, DualControl } from './dual-control';
import { APPROVAL_STATUSES } from './store';
import { approvalRequestListSchema, approvalRequestSchema } from './view';

/** The longest page of requests answered. */
const APPROVAL_PAGE_LIMIT_MAX = 100;
/** The longest reason kept with a decision (the table's CHECK). */
const DECISION_REASON_LENGTH_MAX = 500;

const requestPath = z.strictObject({ id: z.uuid('not an approval request id') });
const listQuery = z.strictObject({
  status: z.enum(APPROVAL_STATUSES).optional(),
  action: z.string().max(64).optional(),
  target_type: z.string().max(64).optional(),
  target_id: z.string().max(255).optional(),
  limit: z.coerce.number().int().min(1).max(APPROVAL_PAGE_LIMIT_MAX).default(20),
  starting_after: z.uuid().optional(),
});
const approveBody = z.strictObject({ reason: safeText(DECISION_REASON_LENGTH_MAX).optional() });
const rejectBody = z.strictObject({ reason: safeText(DECISION_REASON_LENGTH_MAX) });

const CHECKER_RULES =
  'The checker must not be the requester (403 `self_approval_refused`), must hold the request’s `required_role` (403 `forbidden`), and must not be someone the action excludes, e.g. whoever exported a batch’s payment file (403 `second_person_required`); a request decided already answers 409 `approval_already_decided`.';

const listOperation = defineOperation({
  method: 'get',
  path: '/v1/approval_requests',
  operationId: 'listApprovalRequests',
  summary: 'List approval requests (maker–checker)',
  description: 'Oldest first: the order they wait in. `status=pending` is the inbox.',
  tags: ['approvals'],
  callers: ['admin', 'finance'],
  request: { query: listQuery },
  responses: { 200: { description: 'A page of requests.', schema: approvalRequestListSchema } },
});

const getOperation = defineOperation({
  method: 'get',
  path: '/v1/approval_requests/:id',
  operationId: 'getApprovalRequest',
  summary: 'Get one approval request',
  tags: ['approvals'],
  callers: ['admin', 'finance'],
  request: { path: requestPath },
  responses: { 200: { description: 'The request.', schema: approvalRequestSchema } },
});

const approveOperation = defineOperation({
  method: 'post',
  path: '/v1/approval_requests/:id/approve',
  operationId: 'approveApprovalRequest',
  summary: 'Approve a request: its action runs now, with the decision',
  description: `The action (a ledger transfer, a payout, a change of account) commits in the same transaction as the approval, or neither does; an action the target no longer allows answers its own problem and leaves the request pending. ${CHECKER_RULES}`,
  tags: ['approvals'],
  callers: ['admin', 'finance'],
  request: { path: requestPath, body: approveBody },
  responses: {
    200: { description: 'The approved request with its outcome.', schema: approvalRequestSchema },
  },
  problems: [409, 422],
});

const rejectOperation = defineOperation({
  method: 'post',
  path: '/v1/approval_requests/:id/reject',
  operationId: 'rejectApprovalRequest',
  summary: 'Reject a request (its requester withdraws it)',
  description:
    'Another holder of the required role rejects it; the requester may withdraw their own (status `cancelled`). Nothing is done. A request decided already answers 409 `approval_already_decided`.',
  tags: ['approvals'],
  callers: ['admin', 'finance'],
  request: { path: requestPath, body: rejectBody },
  responses: { 200: { description: 'The rejected (or cancelled) request.', schema: approvalRequestSchema } },
  problems: [409],
});

/** The operations every service with dual control lists in its API. */
export const APPROVAL_OPERATIONS = [listOperation, getOperation, approveOperation, rejectOperation];

export interface ApprovalRouting {
  router: Router;
  pool: Pool;
  dualControl: DualControl;
  /** The caller as a checker, after the service's own check of who may read and decide (403 otherwise). */
  checkerOf: (request: Request) => Promise<Checker>;
}

export function approvalRoutes({ router, pool, dualControl, checkerOf }: ApprovalRouting): void {
  route(router, '/v1/approval_requests', {
    get: answered(listOperation, 200, checkerOf, (_checker, { query }) => dualControl.list(pool, query)),
  });
  route(router, '/v1/approval_requests/:id', {
    get: answered(getOperation, 200, checkerOf, async (_checker, { path }) => {
      const request = await dualControl.find(pool, path.id);
      if (request === undefined) throw new NotFound(`Approval request ${path.id}`);
      return request;
    }),
  });
  route(router, '/v1/approval_requests/:id/approve', {
    post: answered(approveOperation, 200, checkerOf, (checker, { path, body }) =>
      dualControl.approve(pool, path.id, checker, body.reason),
    ),
  });
  route(router, '/v1/approval_requests/:id/reject', {
    post: answered(rejectOperation, 200, checkerOf, (checker, { path, body }) =>
      dualControl.reject(pool, path.id, checker, body.reason),
    ),
  });
}
