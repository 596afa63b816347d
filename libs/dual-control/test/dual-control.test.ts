/**
 * Maker–checker against the real Postgres: a request runs its action only when a second person
 * with the role approves it, in the approving transaction; the requester, someone the action
 * excludes and a second decision are refused; two checkers at once make one decision.
 */
import type { Request } from 'express';
import request from 'supertest';
import {
  DUAL_CONTROL_MIGRATIONS,
  approvalRoutes,
  defineApprovalAction,
  dualControl,
} from '@puhui/dual-control';
import type { ApprovalAuditEntry, Checker, DualControl } from '@puhui/dual-control';
import { Conflict, DomainError, Unauthenticated } from '@puhui/errors';
import { createApp } from '@puhui/http';
import { createLogger, memoryDestination } from '@puhui/logging';
import { createPool, migrate, withTransaction } from '@puhui/postgres';
import type { Pool } from '@puhui/postgres';
import { createTestDatabase } from '@puhui/testing';
import type { TestDatabase } from '@puhui/testing';

let database: TestDatabase;
let pool: Pool;
let control: DualControl;
const audited: ApprovalAuditEntry[] = [];

const maker: Checker = { subject: 'maker-1', roles: ['finance'] };
const checker: Checker = { subject: 'checker-1', roles: ['finance'] };
const otherChecker: Checker = { subject: 'checker-2', roles: ['finance'] };
const exporter: Checker = { subject: 'exporter-1', roles: ['finance'] };
const admin: Checker = { subject: 'admin-1', roles: ['admin'] };

/** A payout that records a row, slowly enough for two approvals to overlap. */
const payout = defineApprovalAction<{ amount_minor: number }>({
  name: 'test_payout',
  requiredRole: 'finance',
  excludedCheckers: async () => [{ subject: exporter.subject, because: 'exported the payment file' }],
  execute: async (client, approval, by) => {
    await client.query('SELECT pg_sleep(0.05)');
    const { rows } = await client.query<{ payout_id: number }>(
      'INSERT INTO payouts (target_id, amount_minor, approved_by) VALUES ($1, $2, $3) RETURNING payout_id',
      [approval.target_id, approval.payload.amount_minor, by.subject],
    );
    if (approval.payload.amount_minor > 1_000_000)
      throw new Conflict('too_much', 'The target refuses it now.');
    return { payout_id: rows[0]?.payout_id, amount_minor: approval.payload.amount_minor };
  },
  released: async (client, approval, decider) => {
    await client.query('INSERT INTO releases (target_id, decided_by) VALUES ($1, $2)', [
      approval.target_id,
      decider?.subject ?? null,
    ]);
  },
});

beforeAll(async () => {
  database = await createTestDatabase('dual_control');
  await migrate({ connectionString: database.url, ...DUAL_CONTROL_MIGRATIONS });
  pool = createPool({
    connectionString: database.url,
    connectionsMax: 6,
    applicationName: 'dual-control-test',
  });
  await pool.query(`CREATE TABLE payouts (payout_id serial PRIMARY KEY, target_id text NOT NULL,
    amount_minor bigint NOT NULL, approved_by text NOT NULL)`);
  await pool.query('CREATE TABLE releases (target_id text NOT NULL, decided_by text)');
  control = dualControl({
    service: 'test-service',
    actions: [payout],
    audit: async (_client, entry) => {
      audited.push(entry);
    },
  });
});

afterAll(async () => {
  await pool.end();
  await database.drop();
});

let serial = 0;
async function requested(amountMinor = 500, by: Checker = maker) {
  const target = `batch-${(serial += 1)}`;
  const approval = await withTransaction(pool, (client) =>
    control.requestApproval(client, {
      action: 'test_payout',
      target_type: 'settlement_batch',
      target_id: target,
      summary: `Pay ${amountMinor} fen`,
      payload: { amount_minor: amountMinor },
      before: { status: 'unpaid' },
      after: { status: 'paid' },
      requested_by: by.subject,
    }),
  );
  return { approval, target };
}

async function payoutsOf(target: string): Promise<number> {
  const { rows } = await pool.query<{ count: number }>(
    'SELECT count(*)::integer AS count FROM payouts WHERE target_id = $1',
    [target],
  );
  return rows[0]?.count ?? -1;
}

async function refusal(promise: Promise<unknown>): Promise<{ kind: string; code: string }> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  if (!(error instanceof DomainError)) throw new Error(`expected a refusal, got ${String(error)}`);
  return { kind: error.kind, code: error.code };
}

describe('requestApproval', () => {
  it('records a pending request with the action’s role, shown without its payload', async () => {
    const { approval, target } = await requested();
    expect(approval).toMatchObject({
      service: 'test-service',
      action: 'test_payout',
      target_type: 'settlement_batch',
      target_id: target,
      required_role: 'finance',
      requested_by: maker.subject,
      status: 'pending',
      decided_by: null,
      outcome: null,
      before: { status: 'unpaid' },
      after: { status: 'paid' },
    });
    expect(approval).not.toHaveProperty('payload');
    expect(await control.find(pool, approval.id)).toEqual(approval);
    expect(audited.at(-1)).toMatchObject({ event: 'approval_requested', subject: maker.subject });
    expect(await payoutsOf(target)).toBe(0);
  });

  it('refuses an action nobody registered', async () => {
    await expect(
      withTransaction(pool, (client) =>
        control.requestApproval(client, {
          action: 'unknown_action',
          target_type: 't',
          target_id: 'x',
          summary: 's',
          payload: {},
          requested_by: maker.subject,
        }),
      ),
    ).rejects.toThrow(/not registered/u);
  });
});

describe('approve', () => {
  it('refuses the requester approving their own request, and nothing runs', async () => {
    const { approval, target } = await requested();
    expect(await refusal(control.approve(pool, approval.id, maker))).toEqual({
      kind: 'forbidden',
      code: 'self_approval_refused',
    });
    expect(await payoutsOf(target)).toBe(0);
    expect((await control.find(pool, approval.id))?.status).toBe('pending');
  });

  it('refuses a checker without the required role', async () => {
    const { approval, target } = await requested();
    expect(await refusal(control.approve(pool, approval.id, admin))).toEqual({
      kind: 'forbidden',
      code: 'forbidden',
    });
    expect(await payoutsOf(target)).toBe(0);
  });

  it('refuses someone the action excludes (second_person_required)', async () => {
    const { approval, target } = await requested();
    expect(await refusal(control.approve(pool, approval.id, exporter))).toEqual({
      kind: 'forbidden',
      code: 'second_person_required',
    });
    expect(await payoutsOf(target)).toBe(0);
  });

  it('runs the action once when a second person approves, with its outcome; a second decision is 409', async () => {
    const { approval, target } = await requested(700);
    const approved = await control.approve(pool, approval.id, checker, 'checked against the bank file');
    expect(approved).toMatchObject({
      status: 'approved',
      decided_by: checker.subject,
      reason: 'checked against the bank file',
      outcome: { amount_minor: 700 },
    });
    expect(approved.decided_at).not.toBeNull();
    expect(audited.at(-1)).toMatchObject({ event: 'approval_approved', subject: checker.subject });
    expect(await payoutsOf(target)).toBe(1);
    expect(await refusal(control.approve(pool, approval.id, otherChecker))).toEqual({
      kind: 'conflict',
      code: 'approval_already_decided',
    });
    expect(await refusal(control.reject(pool, approval.id, otherChecker, 'too late'))).toEqual({
      kind: 'conflict',
      code: 'approval_already_decided',
    });
    expect(await payoutsOf(target)).toBe(1);
  });

  it('lets exactly one of two checkers approving at once win', async () => {
    const { approval, target } = await requested();
    const outcomes = await Promise.allSettled([
      control.approve(pool, approval.id, checker),
      control.approve(pool, approval.id, otherChecker),
    ]);
    expect(outcomes.filter((outcome) => outcome.status === 'fulfilled')).toHaveLength(1);
    const lost = outcomes.find((outcome) => outcome.status === 'rejected');
    expect((lost as PromiseRejectedResult).reason).toMatchObject({ code: 'approval_already_decided' });
    expect(await payoutsOf(target)).toBe(1);
  });

  it('leaves the request pending when the action refuses, with nothing of it committed', async () => {
    const { approval, target } = await requested(2_000_000);
    expect(await refusal(control.approve(pool, approval.id, checker))).toEqual({
      kind: 'conflict',
      code: 'too_much',
    });
    expect(await payoutsOf(target)).toBe(0);
    expect((await control.find(pool, approval.id))?.status).toBe('pending');
  });

  it('answers 404 for a request that does not exist', async () => {
    expect(await refusal(control.approve(pool, '00000000-0000-4000-8000-000000000000', checker))).toEqual({
      kind: 'not_found',
      code: 'not_found',
    });
  });
});

describe('reject', () => {
  it('rejects by another holder of the role, releasing what the request held; nothing runs', async () => {
    const { approval, target } = await requested();
    const rejected = await control.reject(pool, approval.id, checker, 'wrong amount');
    expect(rejected).toMatchObject({
      status: 'rejected',
      decided_by: checker.subject,
      reason: 'wrong amount',
    });
    expect(audited.at(-1)).toMatchObject({ event: 'approval_rejected', subject: checker.subject });
    const { rows } = await pool.query('SELECT decided_by FROM releases WHERE target_id = $1', [target]);
    expect(rows).toEqual([{ decided_by: checker.subject }]);
    expect(await payoutsOf(target)).toBe(0);
  });

  it('lets the requester withdraw their own request (cancelled), but not someone without the role reject it', async () => {
    const { approval } = await requested();
    expect(await refusal(control.reject(pool, approval.id, admin, 'no'))).toEqual({
      kind: 'forbidden',
      code: 'forbidden',
    });
    const withdrawn = await control.reject(pool, approval.id, maker, 'typed the wrong batch');
    expect(withdrawn).toMatchObject({ status: 'cancelled', decided_by: maker.subject });
    expect(audited.at(-1)).toMatchObject({ event: 'approval_cancelled' });
  });
});

describe('cancelPending', () => {
  it('cancels a target’s pending requests in the caller’s transaction, releasing them; they can no longer be approved', async () => {
    const { approval, target } = await requested();
    const cancelled = await withTransaction(pool, (client) =>
      control.cancelPending(
        client,
        { target_type: 'settlement_batch', target_id: target },
        { reason: 'merchant terminated' },
      ),
    );
    expect(cancelled).toEqual([
      expect.objectContaining({
        id: approval.id,
        status: 'cancelled',
        decided_by: null,
        reason: 'merchant terminated',
      }),
    ]);
    expect(audited.at(-1)).toMatchObject({ event: 'approval_cancelled', subject: 'system' });
    const { rows } = await pool.query('SELECT decided_by FROM releases WHERE target_id = $1', [target]);
    expect(rows).toEqual([{ decided_by: null }]);
    expect(await refusal(control.approve(pool, approval.id, checker))).toEqual({
      kind: 'conflict',
      code: 'approval_already_decided',
    });
    expect(await payoutsOf(target)).toBe(0);
    // Nothing pending is left: a second call cancels nothing.
    const again = await withTransaction(pool, (client) =>
      control.cancelPending(
        client,
        { target_type: 'settlement_batch', target_id: target },
        { reason: 'again' },
      ),
    );
    expect(again).toEqual([]);
  });
});

describe('the table', () => {
  it('refuses changing a decided request, a self-approval written directly, and deleting one', async () => {
    const { approval } = await requested();
    await control.approve(pool, approval.id, checker);
    await expect(
      pool.query("UPDATE approval_requests SET status = 'rejected' WHERE id = $1", [approval.id]),
    ).rejects.toThrow(/approved already/u);
    await expect(pool.query('DELETE FROM approval_requests WHERE id = $1', [approval.id])).rejects.toThrow(
      /kept/u,
    );
    const { approval: pending } = await requested();
    await expect(
      pool.query(
        "UPDATE approval_requests SET status = 'approved', decided_by = requested_by, decided_at = now() WHERE id = $1",
        [pending.id],
      ),
    ).rejects.toThrow(/check constraint/u);
  });

  it('lists oldest first, by status and target, a page at a time', async () => {
    const first = await requested();
    const second = await requested();
    const pending = await control.list(pool, { status: 'pending', limit: 100 });
    const ids = pending.data.map((item) => item.id);
    expect(ids.indexOf(first.approval.id)).toBeLessThan(ids.indexOf(second.approval.id));
    expect(pending.data.every((item) => item.status === 'pending')).toBe(true);
    const page = await control.list(pool, { status: 'pending', limit: 1, starting_after: first.approval.id });
    expect(page.data.map((item) => item.id)).toEqual([second.approval.id]);
    const byTarget = await control.list(pool, { target_id: second.target, limit: 10 });
    expect(byTarget).toEqual({ data: [second.approval], has_more: false });
  });
});

describe('approvalRoutes', () => {
  /** The checker is whoever `authorization` names: `<subject>:<role>`. */
  async function checkerOfRequest(incoming: Request): Promise<Checker> {
    const [subject, role] = (incoming.headers.authorization ?? '').split(':');
    if (subject === undefined || role === undefined || subject === '') throw new Unauthenticated();
    return { subject, roles: [role] };
  }
  const app = () =>
    createApp({
      service: 'test-service',
      logger: createLogger({ service: 'test', level: 'warn', destination: memoryDestination().destination }),
      bodyLimitBytes: 4096,
      routes: (router) => approvalRoutes({ router, pool, dualControl: control, checkerOf: checkerOfRequest }),
    }).app;

  it('answers the decisions and their refusals as problems', async () => {
    const { approval, target } = await requested();
    const server = app();
    await request(server).post(`/v1/approval_requests/${approval.id}/approve`).send({}).expect(401);
    const self = await request(server)
      .post(`/v1/approval_requests/${approval.id}/approve`)
      .set('authorization', `${maker.subject}:finance`)
      .send({})
      .expect(403);
    expect(self.body.code).toBe('self_approval_refused');
    const noReason = await request(server)
      .post(`/v1/approval_requests/${approval.id}/reject`)
      .set('authorization', `${checker.subject}:finance`)
      .send({})
      .expect(400);
    expect(noReason.body.invalid_params.map((param: { name: string }) => param.name)).toEqual(['reason']);
    await request(server)
      .get('/v1/approval_requests/not-a-uuid')
      .set('authorization', `${checker.subject}:finance`)
      .expect(400);
    await request(server)
      .get('/v1/approval_requests/00000000-0000-4000-8000-000000000000')
      .set('authorization', `${checker.subject}:finance`)
      .expect(404);
    const approved = await request(server)
      .post(`/v1/approval_requests/${approval.id}/approve`)
      .set('authorization', `${checker.subject}:finance`)
      .send({})
      .expect(200);
    expect(approved.body).toMatchObject({ id: approval.id, status: 'approved' });
    const again = await request(server)
      .post(`/v1/approval_requests/${approval.id}/approve`)
      .set('authorization', `${otherChecker.subject}:finance`)
      .send({})
      .expect(409);
    expect(again.body.code).toBe('approval_already_decided');
    const listed = await request(server)
      .get(`/v1/approval_requests?target_id=${target}`)
      .set('authorization', `${checker.subject}:finance`)
      .expect(200);
    expect(listed.body).toEqual({ data: [approved.body], has_more: false });
    expect(await payoutsOf(target)).toBe(1);
  });
});
