/**
 * Dual control (issue 16): a merchant's approval and a change of a live merchant's settlement
 * account each need a second admin, checked on the token subjects — the attack the issue shows
 * (one admin redirects a live merchant's payouts to a personal account and approves it himself)
 * is refused, and leaves the account and the event stream as they were.
 */
import { Client } from 'pg';
import { auditTrail, operatorToken, testSubject } from '@puhui/testing';
import { ADMIN, CHECKER, approvedMerchant, completeApplication, startHarness } from './support';
import type { Harness } from './support';

let harness: Harness;
let db: Client;

beforeAll(async () => {
  harness = await startHarness();
  db = new Client({ connectionString: harness.databaseUrl });
  await db.connect();
});
afterAll(async () => {
  await db.end();
  await harness.close();
});

const checker = () => operatorToken(['admin'], { subject: CHECKER });

/** The events committed for the merchant (the outbox): what will reach Kafka, whatever the relay's pace. */
async function committedEvents(merchantId: string, type: string) {
  const { rows } = await db.query<{ envelope: { data: Record<string, unknown> } }>(
    'SELECT envelope FROM outbox_events WHERE subject = $1 AND event_type = $2 ORDER BY sequence',
    [merchantId, type],
  );
  return rows.map((row) => row.envelope.data);
}

async function inReview(): Promise<string> {
  const created = await harness.call('POST', '/v1/merchants', { body: completeApplication() });
  const id = created.body.id as string;
  for (const step of ['submit', 'start_review']) {
    expect((await harness.call('POST', `/v1/merchants/${id}/${step}`)).status).toBe(200);
  }
  return id;
}

describe('approving an application', () => {
  it('needs a second admin: the requester is refused, the checker makes it live, announced once', async () => {
    const id = await inReview();
    const asked = await harness.call('POST', `/v1/merchants/${id}/approve`);
    expect(asked.status).toBe(202);
    const request = asked.body.approval_request;
    expect(request).toMatchObject({
      service: 'merchant-onboarding',
      action: 'merchant_approval',
      target_type: 'merchant',
      target_id: id,
      requested_by: ADMIN,
      required_role: 'admin',
      status: 'pending',
      before: { status: 'in_review' },
      after: { status: 'active' },
    });
    // The checker sees the contact's mobile masked, like the account and ID numbers.
    expect(JSON.stringify(request)).not.toContain('13800138000');

    const waiting = await harness.call('GET', `/v1/merchants/${id}`);
    expect(waiting.body).toMatchObject({
      status: 'in_review',
      requirements: [],
      decided_at: null,
      pending_approval: { approval_request_id: request.id, action: 'merchant_approval', requested_by: ADMIN },
    });
    const again = await harness.call('POST', `/v1/merchants/${id}/approve`);
    expect(again.status).toBe(409);
    expect(again.body).toMatchObject({ code: 'approval_pending', approval_request_id: request.id });

    const own = await harness.call('POST', `/v1/approval_requests/${request.id}/approve`, { body: {} });
    expect(own.status).toBe(403);
    expect(own.body.code).toBe('self_approval_refused');
    expect((await harness.call('GET', `/v1/merchants/${id}`)).body.status).toBe('in_review');
    expect(await committedEvents(id, 'puhui.merchant.approved.v1')).toEqual([]);

    const inbox = await harness.call('GET', '/v1/approval_requests?status=pending&target_id=' + id, {
      token: checker(),
    });
    expect(inbox.body.data.map((entry: { id: string }) => entry.id)).toEqual([request.id]);
    const approved = await harness.call('POST', `/v1/approval_requests/${request.id}/approve`, {
      token: checker(),
      body: { reason: '资料齐全' },
    });
    expect(approved.status).toBe(200);
    expect(approved.body).toMatchObject({
      status: 'approved',
      decided_by: CHECKER,
      reason: '资料齐全',
      outcome: { merchant_id: id, status: 'active' },
    });
    const live = await harness.call('GET', `/v1/merchants/${id}`);
    expect(live.body).toMatchObject({
      status: 'active',
      pending_approval: null,
      decided_at: expect.any(String),
    });

    const announced = await harness.events.waitForCount(
      1,
      (message) => message.value.subject === id && message.value.type === 'puhui.merchant.approved.v1',
    );
    expect(announced[0]?.value.data).toMatchObject({ approved_by: `operator:${CHECKER}` });
    expect(await committedEvents(id, 'puhui.merchant.approved.v1')).toHaveLength(1);
    const trail = await auditTrail(harness, `merchant_id=${id}`);
    expect(trail.actions).toEqual([
      'application_created',
      'submit',
      'start_review',
      'approval_requested',
      'approve',
      'approval_approved',
    ]);
    expect(trail.entries[3]).toMatchObject({ actor: `operator:${ADMIN}` });
    expect(trail.entries[4]).toMatchObject({
      actor: `operator:${CHECKER}`,
      before: { status: 'in_review' },
      after: { status: 'active' },
    });

    const decidedTwice = await harness.call('POST', `/v1/approval_requests/${request.id}/approve`, {
      token: operatorToken(['admin'], { subject: testSubject('admin-third') }),
      body: {},
    });
    expect(decidedTwice.status).toBe(409);
    expect(decidedTwice.body.code).toBe('approval_already_decided');
  });

  it('is decided only by an admin', async () => {
    const id = await inReview();
    const request = (await harness.call('POST', `/v1/merchants/${id}/approve`)).body.approval_request;
    const finance = operatorToken(['finance'], { subject: testSubject('finance-checker') });
    const refused = await harness.call('POST', `/v1/approval_requests/${request.id}/approve`, {
      token: finance,
      body: {},
    });
    expect(refused.status).toBe(403);
    expect((await harness.call('GET', `/v1/merchants/${id}`)).body.status).toBe('in_review');
  });
});

/** The account: a person's own, not the merchant's. */
const personalAccount = {
  account_type: 'personal',
  account_name: '张伟',
  account_number: '6217000012345678901',
  bank_name: '中国建设银行上饶分行',
  branch_code: '105431000011',
};

describe('changing a live merchant’s settlement account', () => {
  it('is refused to the admin who asked for it: the account stays and nothing is announced', async () => {
    const id = await approvedMerchant(harness);
    const changed = await harness.call('PATCH', `/v1/merchants/${id}`, {
      body: { settlement_account: personalAccount },
    });
    expect(changed.status).toBe(200);
    expect(changed.body.settlement_account.account_number_masked).toBe('**** **** 0123');
    const requestId = changed.body.pending_approval.approval_request_id as string;
    expect(changed.body.pending_approval).toMatchObject({ action: 'merchant_change', requested_by: ADMIN });

    for (const attempt of [
      harness.call('POST', `/v1/merchants/${id}/approve`),
      harness.call('POST', `/v1/approval_requests/${requestId}/approve`, { body: {} }),
    ]) {
      const refused = await attempt;
      expect(refused.status).toBe(403);
      expect(refused.body.code).toBe('self_approval_refused');
    }
    const after = await harness.call('GET', `/v1/merchants/${id}`);
    expect(after.body.settlement_account).toMatchObject({
      account_type: 'corporate',
      account_number_masked: '**** **** 0123',
    });
    expect(after.body.settlement_account_changed_at).toBeNull();
    expect(after.body.pending_change.settlement_account.account_number_masked).toBe('**** **** 8901');
    expect(await committedEvents(id, 'puhui.merchant.settlement_account_changed.v1')).toEqual([]);
    expect(await committedEvents(id, 'puhui.merchant.updated.v1')).toEqual([]);
    const stored = await db.query('SELECT settlement_account FROM merchants WHERE merchant_id = $1', [id]);
    expect(stored.rows[0].settlement_account.account_number_last4).toBe('0123');

    // Nor can he slip another change in under the one waiting.
    const another = await harness.call('PATCH', `/v1/merchants/${id}`, {
      body: { settlement_account: { ...personalAccount, account_number: '6217000099999999999' } },
    });
    expect(another.status).toBe(409);
    expect(another.body.code).toBe('approval_pending');
  });

  it('is made by a second admin, announced with masked accounts and the contact to tell', async () => {
    const id = await approvedMerchant(harness);
    const changed = await harness.call('PATCH', `/v1/merchants/${id}`, {
      body: { settlement_account: personalAccount },
    });
    const requestId = changed.body.pending_approval.approval_request_id as string;
    const request = await harness.call('GET', `/v1/approval_requests/${requestId}`, { token: checker() });
    expect(request.body).toMatchObject({
      before: { settlement_account: { account_type: 'corporate', account_number_masked: '**** **** 0123' } },
      after: { settlement_account: { account_type: 'personal', account_number_masked: '**** **** 8901' } },
    });

    const approved = await harness.call('POST', `/v1/merchants/${id}/approve`, { token: checker() });
    expect(approved.status).toBe(200);
    expect(approved.body).toMatchObject({
      status: 'active',
      pending_change: null,
      pending_approval: null,
      settlement_account: { account_type: 'personal', account_number_masked: '**** **** 8901' },
    });
    const changedAt = approved.body.settlement_account_changed_at as string;
    expect(Date.parse(changedAt)).toBeGreaterThan(Date.now() - 60_000);
    expect((await harness.call('GET', `/v1/approval_requests/${requestId}`)).body).toMatchObject({
      status: 'approved',
      decided_by: CHECKER,
    });

    const [notice] = await harness.events.waitForCount(
      1,
      (message) =>
        message.value.subject === id && message.value.type === 'puhui.merchant.settlement_account_changed.v1',
    );
    expect(notice?.key).toBe(id);
    expect(notice?.value.data).toEqual({
      merchant_id: id,
      before: expect.objectContaining({ account_type: 'corporate', account_number_masked: '**** **** 0123' }),
      after: {
        account_type: 'personal',
        // A personal account's holder is a person: masked, as the contact is (decision 0016).
        account_name: '张*',
        account_number_masked: '**** **** 8901',
        bank_name: '中国建设银行上饶分行',
        branch_code: '105431000011',
      },
      changed_at: changedAt,
      requested_by: `operator:${ADMIN}`,
      approved_by: `operator:${CHECKER}`,
      notify: { name_masked: '王*', mobile_masked: '138****8000' },
    });
    expect(JSON.stringify(notice?.value)).not.toMatch(/6217000012345678901|13800138000|王芳|张伟/u);
    const [update] = await harness.events.waitForCount(
      1,
      (message) => message.value.subject === id && message.value.type === 'puhui.merchant.updated.v1',
    );
    expect(update?.value.data).toMatchObject({
      changed_fields: ['settlement_account'],
      merchant: {
        settlement_account_changed_at: changedAt,
        settlement_account: { account_type: 'personal' },
      },
    });
    const trail = await auditTrail(harness, `merchant_id=${id}`);
    expect(trail.actions.slice(-4)).toEqual([
      'approval_requested',
      'merchant_updated',
      'change_approved',
      'approval_approved',
    ]);
    expect(trail.entries.at(-2)).toMatchObject({ actor: `operator:${CHECKER}` });
  });

  it('is dropped when the checker rejects it, and withdrawn when its requester does', async () => {
    const id = await approvedMerchant(harness);
    const first = await harness.call('PATCH', `/v1/merchants/${id}`, {
      body: { settlement_account: personalAccount },
    });
    const rejected = await harness.call('POST', `/v1/merchants/${id}/reject`, {
      token: checker(),
      body: { reason: '个人账户不能收单' },
    });
    expect(rejected.status).toBe(200);
    expect(rejected.body).toMatchObject({ pending_change: null, pending_approval: null });
    expect(rejected.body.settlement_account.account_number_masked).toBe('**** **** 0123');
    const firstRequest = first.body.pending_approval.approval_request_id as string;
    expect((await harness.call('GET', `/v1/approval_requests/${firstRequest}`)).body).toMatchObject({
      status: 'rejected',
      decided_by: CHECKER,
      reason: '个人账户不能收单',
    });

    const second = await harness.call('PATCH', `/v1/merchants/${id}`, {
      body: { settlement_account: personalAccount },
    });
    const secondRequest = second.body.pending_approval.approval_request_id as string;
    const withdrawn = await harness.call('POST', `/v1/approval_requests/${secondRequest}/reject`, {
      body: { reason: '填错了' },
    });
    expect(withdrawn.body.status).toBe('cancelled');
    const merchant = await harness.call('GET', `/v1/merchants/${id}`);
    expect(merchant.body).toMatchObject({ pending_change: null, pending_approval: null });
    expect(await committedEvents(id, 'puhui.merchant.settlement_account_changed.v1')).toEqual([]);
    const drops = (await auditTrail(harness, `merchant_id=${id}`)).entries.filter(
      (entry: { action: string }) => entry.action === 'change_rejected',
    );
    expect(drops.map((entry: { actor: string }) => entry.actor)).toEqual([
      `operator:${CHECKER}`,
      `operator:${ADMIN}`,
    ]);
  });

  it('is cancelled when the merchant is terminated: the change never happens', async () => {
    const id = await approvedMerchant(harness);
    const changed = await harness.call('PATCH', `/v1/merchants/${id}`, {
      body: { settlement_account: personalAccount },
    });
    const requestId = changed.body.pending_approval.approval_request_id as string;
    const terminated = await harness.call('POST', `/v1/merchants/${id}/terminate`, {
      body: { reason: '商户注销' },
    });
    expect(terminated.body).toMatchObject({
      status: 'terminated',
      pending_change: null,
      pending_approval: null,
    });
    expect((await harness.call('GET', `/v1/approval_requests/${requestId}`)).body).toMatchObject({
      status: 'cancelled',
      decided_by: ADMIN,
      reason: 'The merchant was terminated.',
    });
    const late = await harness.call('POST', `/v1/approval_requests/${requestId}/approve`, {
      token: checker(),
      body: {},
    });
    expect(late.status).toBe(409);
    expect(late.body.code).toBe('approval_already_decided');
    expect(await committedEvents(id, 'puhui.merchant.settlement_account_changed.v1')).toEqual([]);
  });
});

describe('a change made pending before dual control', () => {
  it('gets its request in its requester’s name, who still cannot approve it', async () => {
    const id = await approvedMerchant(harness);
    const changed = await harness.call('PATCH', `/v1/merchants/${id}`, {
      body: { settlement_account: personalAccount },
    });
    // As if the change predated approval requests: the merchant holds it, no request waits.
    await db.query(`UPDATE approval_requests SET status = 'cancelled', decided_at = now() WHERE id = $1`, [
      changed.body.pending_approval.approval_request_id,
    ]);
    expect((await harness.call('GET', `/v1/merchants/${id}`)).body.pending_approval).toBeNull();
    const own = await harness.call('POST', `/v1/merchants/${id}/approve`);
    expect(own.status).toBe(403);
    expect(own.body.code).toBe('self_approval_refused');
    const approved = await harness.call('POST', `/v1/merchants/${id}/approve`, { token: checker() });
    expect(approved.status).toBe(200);
    expect(approved.body.settlement_account.account_number_masked).toBe('**** **** 8901');
  });
});

describe('rejecting an application whose approval waits', () => {
  it('cancels the approval request', async () => {
    const id = await inReview();
    const request = (await harness.call('POST', `/v1/merchants/${id}/approve`)).body.approval_request;
    const rejected = await harness.call('POST', `/v1/merchants/${id}/reject`, {
      token: checker(),
      body: { reason: '营业执照过期' },
    });
    expect(rejected.body).toMatchObject({ status: 'rejected', pending_approval: null });
    expect((await harness.call('GET', `/v1/approval_requests/${request.id}`)).body).toMatchObject({
      status: 'cancelled',
      decided_by: CHECKER,
    });
    expect(await committedEvents(id, 'puhui.merchant.approved.v1')).toEqual([]);
  });
});
