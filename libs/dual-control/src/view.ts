/** How an approval request is shown (the same on every service, for the console's inbox). */
import { z } from 'zod';
import { pageSchema } from '@puhui/http';
import { APPROVAL_STATUSES } from './store';
import type { ApprovalRequestRow } from './store';

const timestamp = z.iso.datetime({ offset: true });
const json = z.record(z.string(), z.unknown());

export const approvalRequestSchema = z
  .strictObject({
    id: z.uuid(),
    service: z.string().meta({ description: 'The service that holds the request and runs the action.' }),
    action: z
      .string()
      .meta({ description: 'What is asked, e.g. `budget_top_up`, `settlement_batch_payout`.' }),
    target_type: z.string(),
    target_id: z.string(),
    summary: z.string().meta({ description: 'One line for the checker: what happens if approved.' }),
    before: json.nullable().meta({ description: 'The target before the change (personal fields masked).' }),
    after: json.nullable().meta({ description: 'What it is asked to become (personal fields masked).' }),
    required_role: z.string().meta({ description: 'The role a checker must hold.' }),
    requested_by: z.string().meta({ description: 'The requester’s account id; they cannot decide it.' }),
    requested_at: timestamp,
    status: z.enum(APPROVAL_STATUSES).meta({
      description:
        '`pending` until a second person decides; `approved` (the action ran with the decision), `rejected`, or `cancelled` (withdrawn by its requester).',
    }),
    decided_by: z.string().nullable(),
    decided_at: timestamp.nullable(),
    reason: z.string().nullable(),
    outcome: json
      .nullable()
      .meta({ description: 'What the approved action answered (e.g. the paid batch).' }),
  })
  .meta({
    id: 'ApprovalRequest',
    description:
      'An action that moves or redirects money, waiting for (or decided by) a second person: maker–checker.',
  });
export type ApprovalRequestView = z.input<typeof approvalRequestSchema>;

export const approvalRequestListSchema = pageSchema(approvalRequestSchema, 'ApprovalRequestList');

/** What an action endpoint answers (202) when it records a request instead of acting at once. */
export const approvalRequestAcceptedSchema = z
  .strictObject({ approval_request: approvalRequestSchema })
  .meta({
    id: 'ApprovalRequestAccepted',
    description:
      'The action waits for a second person: it runs when someone else with the required role approves the request (`POST /v1/approval_requests/{id}/approve`).',
  });

function jsonObject(value: unknown): Record<string, unknown> | null {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : value === null || value === undefined
      ? null
      : { value };
}

export function approvalRequestView(service: string, row: ApprovalRequestRow): ApprovalRequestView {
  return {
    id: row.id,
    service,
    action: row.action,
    target_type: row.target_type,
    target_id: row.target_id,
    summary: row.summary,
    before: jsonObject(row.before),
    after: jsonObject(row.after),
    required_role: row.required_role,
    requested_by: row.requested_by,
    requested_at: row.requested_at.toISOString(),
    status: row.status,
    decided_by: row.decided_by,
    decided_at: row.decided_at === null ? null : row.decided_at.toISOString(),
    reason: row.reason,
    outcome: jsonObject(row.outcome),
  };
}
