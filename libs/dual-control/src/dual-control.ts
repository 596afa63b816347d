/**
 * Maker–checker (issue 16): a command that would move or redirect money records a pending
 * approval request instead, inside its own transaction (`requestApproval`); a second person
 * approves it, and the registered action runs in the transaction that records the decision, so
 * its ledger transfers and outbox events commit with it or not at all. Of two checkers deciding
 * at once, the second waits on the request's row lock and then finds it decided (409).
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { Conflict, DomainError, Forbidden, NotFound } from '@puhui/errors';
import { withTransaction } from '@puhui/postgres';
import type { Pool, PoolClient, Queryable } from '@puhui/postgres';
import type { Principal } from '@puhui/security';
import {
  findApprovalRequest,
  insertApprovalRequest,
  listApprovalRequests,
  lockApprovalRequest,
  lockPendingOnTarget,
  recordDecision,
} from './store';
import type { ApprovalRequestFilter, ApprovalRequestRow, Decision } from './store';
import { approvalRequestView } from './view';
import type { ApprovalRequestView } from './view';

/** Who decides: a person's token subject (console account id) and roles. */
export interface Checker {
  subject: string;
  roles: readonly string[];
}

/** The checker an operator's principal is; anyone else (a merchant key, a service) decides nothing. */
export function checkerOf(principal: Principal): Checker {
  if (principal.kind !== 'operator')
    throw new Forbidden('Only a person with an operator role decides requests.');
  return { subject: principal.subject, roles: principal.roles };
}

/** A request as its action sees it, with the payload it was recorded with. */
export type ApprovalRequestRecord<Payload = unknown> = Omit<ApprovalRequestRow, 'payload'> & {
  payload: Payload;
};

/** Someone besides the requester who may not approve a request, and why (`second_person_required`). */
export interface ExcludedChecker {
  subject: string;
  /** Says who they are to the target, e.g. `exported this batch's payment file`. */
  because: string;
}

export interface ApprovalAction<Payload = unknown> {
  /** e.g. `budget_top_up`; stored with each request (lower case, digits, underscores). */
  name: string;
  /** The role a checker must hold (the role the action's route allowed before it needed two people). */
  requiredRole: string;
  /** People besides the requester who may not approve, read inside the approving transaction. */
  excludedCheckers?: (
    client: PoolClient,
    request: ApprovalRequestRecord<Payload>,
  ) => Promise<readonly ExcludedChecker[]>;
  /**
   * Does what was asked, inside the approving transaction (after the request row is locked);
   * answers the outcome shown with the request (a JSON object). A DomainError it throws (the
   * target changed meanwhile) refuses the approval and leaves the request pending.
   */
  execute: (
    client: PoolClient,
    request: ApprovalRequestRecord<Payload>,
    checker: Checker,
  ) => Promise<unknown>;
  /**
   * Undoes what recording the request held (e.g. a batch's pending payment) when it is rejected
   * or cancelled, in that transaction; `decider` is who rejected or withdrew it, null when the
   * service cancelled it (`cancelPending`) without naming a person.
   */
  released?: (
    client: PoolClient,
    request: ApprovalRequestRecord<Payload>,
    decider: Checker | null,
  ) => Promise<void>;
}

/** Typed at the definition; the registry holds actions of any payload. */
export function defineApprovalAction<Payload>(action: ApprovalAction<Payload>): ApprovalAction {
  assert.match(action.name, /^[a-z][a-z0-9_]{0,63}$/u, 'an action name is lower case with underscores');
  return action as unknown as ApprovalAction;
}

export type ApprovalAuditEvent =
  'approval_requested' | 'approval_approved' | 'approval_rejected' | 'approval_cancelled';

/** An entry for the service's audit trail, written in the transaction of the step it records. */
export interface ApprovalAuditEntry {
  event: ApprovalAuditEvent;
  /** The person who did it (token subject). */
  subject: string;
  request: ApprovalRequestView;
}

export interface DualControlSettings {
  /** The registry name of the service, shown with each request (`transaction-settlement`). */
  service: string;
  actions: readonly ApprovalAction[];
  /** Writes each step to the service's audit trail, if it has one. */
  audit?: (client: PoolClient, entry: ApprovalAuditEntry) => Promise<void>;
}

export interface NewApprovalRequestInput {
  /** A registered action's name. */
  action: string;
  target_type: string;
  target_id: string;
  summary: string;
  /** What the action will run with; stored, never shown. Seal personal fields in it. */
  payload: unknown;
  /** The target now and what it is asked to become, personal fields masked: shown to the checker. */
  before?: Record<string, unknown> | null;
  after?: Record<string, unknown> | null;
  /** The requester's token subject. */
  requested_by: string;
}

export interface DualControl {
  readonly service: string;
  /** Records a pending request in the caller's transaction (with its audit entry) and answers it. */
  requestApproval: (client: PoolClient, input: NewApprovalRequestInput) => Promise<ApprovalRequestView>;
  approve: (pool: Pool, id: string, checker: Checker, reason?: string) => Promise<ApprovalRequestView>;
  /** By another holder of the role: rejected; by the requester: cancelled (withdrawn). */
  reject: (pool: Pool, id: string, checker: Checker, reason: string) => Promise<ApprovalRequestView>;
  /**
   * In the caller's transaction, cancels the pending requests on a target that can no longer run
   * (a merchant terminated, a rule retired): status `cancelled`, `decided_by` = `by` (null when
   * the service decides), each action's `released` run and an `approval_cancelled` audit entry
   * (subject `by`, or `system`). Answers the cancelled requests.
   */
  cancelPending: (
    client: PoolClient,
    target: { target_type: string; target_id: string; action?: string },
    decision: { reason: string; by?: string },
  ) => Promise<ApprovalRequestView[]>;
  find: (db: Queryable, id: string) => Promise<ApprovalRequestView | undefined>;
  list: (
    db: Queryable,
    filter: ApprovalRequestFilter,
  ) => Promise<{ data: ApprovalRequestView[]; has_more: boolean }>;
}

function approvalUnknown(id: string): NotFound {
  return new NotFound(`Approval request ${id}`);
}

function requirePending(row: ApprovalRequestRow): void {
  if (row.status !== 'pending') {
    throw new Conflict('approval_already_decided', `This request was ${row.status} already.`, {
      current_status: row.status,
      decided_by: row.decided_by,
      decided_at: row.decided_at?.toISOString() ?? null,
    });
  }
}

function requireRole(row: ApprovalRequestRow, checker: Checker): void {
  if (!checker.roles.includes(row.required_role))
    throw new Forbidden(`Deciding this request needs the ${row.required_role} role.`);
}

function refuseSelfApproval(row: ApprovalRequestRow, checker: Checker): void {
  if (checker.subject === row.requested_by) {
    throw new DomainError('forbidden', 'self_approval_refused', 'Forbidden', {
      detail: 'You asked for this: a second person must approve it.',
      extensions: { requested_by: row.requested_by },
    });
  }
}

export function dualControl(settings: DualControlSettings): DualControl {
  const actions = new Map(settings.actions.map((action) => [action.name, action]));
  assert.equal(actions.size, settings.actions.length, 'each action is registered once');
  const actionOf = (name: string): ApprovalAction => {
    const action = actions.get(name);
    assert.ok(action !== undefined, `approval action ${name} is not registered with ${settings.service}`);
    return action;
  };
  const view = (row: ApprovalRequestRow) => approvalRequestView(settings.service, row);
  const audit = async (
    client: PoolClient,
    event: ApprovalAuditEvent,
    subject: string,
    row: ApprovalRequestRow,
  ) => {
    const request = view(row);
    if (settings.audit !== undefined) await settings.audit(client, { event, subject, request });
    return request;
  };

  /** Locks the pending request and runs `decide` with it in one transaction. */
  const deciding = (
    pool: Pool,
    id: string,
    decide: (
      client: PoolClient,
      row: ApprovalRequestRow,
      action: ApprovalAction,
    ) => Promise<ApprovalRequestView>,
  ) =>
    withTransaction(pool, async (client) => {
      const row = await lockApprovalRequest(client, id);
      if (row === undefined) throw approvalUnknown(id);
      requirePending(row);
      return decide(client, row, actionOf(row.action));
    });

  const decided = async (
    client: PoolClient,
    row: ApprovalRequestRow,
    decision: Decision,
    subject: string,
  ) => {
    const event: ApprovalAuditEvent = `approval_${decision.status}`;
    return audit(client, event, subject, await recordDecision(client, row.id, decision));
  };

  return {
    service: settings.service,
    requestApproval: async (client, input) => {
      const action = actionOf(input.action);
      const row = await insertApprovalRequest(client, {
        id: randomUUID(),
        action: action.name,
        target_type: input.target_type,
        target_id: input.target_id,
        summary: input.summary,
        payload: input.payload,
        before: input.before ?? null,
        after: input.after ?? null,
        required_role: action.requiredRole,
        requested_by: input.requested_by,
      });
      return audit(client, 'approval_requested', input.requested_by, row);
    },
    approve: (pool, id, checker, reason) =>
      deciding(pool, id, async (client, row, action) => {
        refuseSelfApproval(row, checker);
        requireRole(row, checker);
        const excluded = (await action.excludedCheckers?.(client, row)) ?? [];
        const exclusion = excluded.find((person) => person.subject === checker.subject);
        if (exclusion !== undefined) {
          throw new DomainError('forbidden', 'second_person_required', 'Forbidden', {
            detail: `You ${exclusion.because}: someone else must approve this.`,
          });
        }
        const outcome = await action.execute(client, row, checker);
        return decided(
          client,
          row,
          {
            status: 'approved',
            decided_by: checker.subject,
            reason: reason ?? null,
            outcome: outcome ?? null,
          },
          checker.subject,
        );
      }),
    reject: (pool, id, checker, reason) =>
      deciding(pool, id, async (client, row, action) => {
        const withdrawn = checker.subject === row.requested_by;
        if (!withdrawn) requireRole(row, checker);
        await action.released?.(client, row, checker);
        return decided(
          client,
          row,
          {
            status: withdrawn ? 'cancelled' : 'rejected',
            decided_by: checker.subject,
            reason,
            outcome: null,
          },
          checker.subject,
        );
      }),
    cancelPending: async (client, target, decision) => {
      const cancelled: ApprovalRequestView[] = [];
      for (const row of await lockPendingOnTarget(client, target)) {
        await actionOf(row.action).released?.(client, row, null);
        const decided = await recordDecision(client, row.id, {
          status: 'cancelled',
          decided_by: decision.by ?? null,
          reason: decision.reason,
          outcome: null,
        });
        cancelled.push(await audit(client, 'approval_cancelled', decision.by ?? 'system', decided));
      }
      return cancelled;
    },
    find: async (db, id) => {
      const row = await findApprovalRequest(db, id);
      return row === undefined ? undefined : view(row);
    },
    list: async (db, filter) => {
      const page = await listApprovalRequests(db, filter);
      return { data: page.data.map(view), has_more: page.has_more };
    },
  };
}
