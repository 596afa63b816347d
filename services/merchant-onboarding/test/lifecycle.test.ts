import { auditTrail, operatorToken } from '@puhui/testing';
import { ADMIN, CHECKER, approvedMerchant, completeApplication, startHarness } from './support';
import type { Harness } from './support';

let harness: Harness;

beforeAll(async () => {
  harness = await startHarness();
});

afterAll(async () => {
  await harness.close();
});

const eventsFor = (merchantId: string, type: string) =>
  harness.events.messages.filter(
    (message) => message.value.subject === merchantId && message.value.type === type,
  );

describe('an application from draft to approval', () => {
  it('lists what a draft still lacks, and approves it once complete, announcing it once', async () => {
    const { legal_name: legalName, ...rest } = completeApplication();
    const draft = await harness.call('POST', '/v1/merchants', { body: { legal_name: legalName } });
    expect(draft.status).toBe(201);
    expect(draft.body).toMatchObject({ status: 'draft', legal_name: legalName });
    expect(draft.body.requirements).toEqual([
      'display_name',
      'credit_code',
      'category',
      'mcc',
      'region_code',
      'address',
      'contact',
      'legal_representative',
      'settlement_account',
      'outlets',
    ]);
    const id = draft.body.id as string;

    const early = await harness.call('POST', `/v1/merchants/${id}/submit`);
    expect(early.status).toBe(422);
    expect(early.body).toMatchObject({ code: 'requirements_missing' });

    const completed = await harness.call('PATCH', `/v1/merchants/${id}`, { body: rest });
    expect(completed.status).toBe(200);
    expect(completed.body.requirements).toEqual([]);
    expect(completed.body.mcc).toBe('5411');
    expect(completed.body.legal_representative.id_number_masked).toMatch(/^361\*+\d{3}[\dX]$/);
    expect(JSON.stringify(completed.body)).not.toContain(rest.legal_representative.id_number);
    expect(JSON.stringify(completed.body)).not.toContain(rest.settlement_account.account_number);

    expect((await harness.call('POST', `/v1/merchants/${id}/submit`)).body.status).toBe('submitted');
    expect((await harness.call('POST', `/v1/merchants/${id}/start_review`)).body.status).toBe('in_review');
    // One admin asks, a second approves (dual control): only then is it live and announced.
    const asked = await harness.call('POST', `/v1/merchants/${id}/approve`);
    expect(asked.status).toBe(202);
    expect((await harness.call('GET', `/v1/merchants/${id}`)).body.status).toBe('in_review');
    const decided = await harness.call(
      'POST',
      `/v1/approval_requests/${asked.body.approval_request.id}/approve`,
      {
        token: operatorToken(['admin'], { subject: CHECKER }),
        body: {},
      },
    );
    expect(decided.status).toBe(200);
    const approved = await harness.call('GET', `/v1/merchants/${id}`);
    expect(approved.body).toMatchObject({ status: 'active', decided_at: expect.any(String) });

    const [event] = await harness.events.waitForCount(1, (message) => message.value.subject === id);
    expect(event?.key).toBe(id);
    expect(event?.headers['content-type']).toMatch(/application\/cloudevents\+json/);
    expect(event?.value).toMatchObject({
      specversion: '1.0',
      type: 'puhui.merchant.approved.v1',
      source: 'merchant-onboarding',
      subject: id,
      sequence: '00000000000000000001',
      data: {
        approved_by: `operator:${CHECKER}`,
        merchant: {
          merchant_id: id,
          status: 'active',
          category: 'supermarket',
          mcc: '5411',
          region_code: '361100',
          settlement_account: { account_number_last4: '0123', account_type: 'corporate' },
        },
      },
    });
    expect(JSON.stringify(event?.value)).not.toContain(rest.settlement_account.account_number);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(eventsFor(id, 'puhui.merchant.approved.v1')).toHaveLength(1);
  });

  it('lets a rejected application be corrected and resubmitted under the same id', async () => {
    const created = await harness.call('POST', '/v1/merchants', { body: completeApplication() });
    const id = created.body.id as string;
    await harness.call('POST', `/v1/merchants/${id}/submit`);
    await harness.call('POST', `/v1/merchants/${id}/start_review`);
    const rejected = await harness.call('POST', `/v1/merchants/${id}/reject`, {
      body: { reason: '营业执照照片不清晰' },
    });
    expect(rejected.body).toMatchObject({ status: 'rejected', status_reason: '营业执照照片不清晰' });
    const corrected = await harness.call('PATCH', `/v1/merchants/${id}`, {
      body: { address: '江西省上饶市信州区中山路2号' },
    });
    expect(corrected.body.status).toBe('rejected');
    const resubmitted = await harness.call('POST', `/v1/merchants/${id}/submit`);
    expect(resubmitted.body).toMatchObject({ id, status: 'submitted' });
  });

  it('suspends, reinstates and terminates an approved merchant, announcing each once', async () => {
    const id = await approvedMerchant(harness);
    const reasonless = await harness.call('POST', `/v1/merchants/${id}/suspend`, { body: {} });
    expect(reasonless.status).toBe(400);
    expect(reasonless.body.invalid_params[0]).toMatchObject({ name: 'reason' });
    expect(
      (await harness.call('POST', `/v1/merchants/${id}/suspend`, { body: { reason: '投诉调查' } })).body
        .status,
    ).toBe('suspended');
    expect((await harness.call('POST', `/v1/merchants/${id}/reinstate`)).body.status).toBe('active');
    expect(
      (await harness.call('POST', `/v1/merchants/${id}/terminate`, { body: { reason: '合同到期' } })).body
        .status,
    ).toBe('terminated');
    const events = await harness.events.waitForCount(4, (message) => message.value.subject === id);
    expect(events.map((message) => message.value.type)).toEqual([
      'puhui.merchant.approved.v1',
      'puhui.merchant.suspended.v1',
      'puhui.merchant.reinstated.v1',
      'puhui.merchant.terminated.v1',
    ]);
    expect(events.map((message) => message.value.sequence)).toEqual(
      ['1', '2', '3', '4'].map((sequence) => sequence.padStart(20, '0')),
    );
    expect(events[1]?.value.data).toMatchObject({ merchant_id: id, status: 'suspended', reason: '投诉调查' });
  });

  it('answers an illegal transition with 409 and the current status', async () => {
    const created = await harness.call('POST', '/v1/merchants', { body: completeApplication() });
    const id = created.body.id as string;
    const approveDraft = await harness.call('POST', `/v1/merchants/${id}/approve`);
    expect(approveDraft.status).toBe(409);
    expect(approveDraft.body).toMatchObject({ code: 'illegal_transition', current_status: 'draft' });
    await harness.call('POST', `/v1/merchants/${id}/terminate`, { body: { reason: '撤回' } });
    const reinstate = await harness.call('POST', `/v1/merchants/${id}/reinstate`);
    expect(reinstate.body).toMatchObject({ code: 'illegal_transition', current_status: 'terminated' });
    const edit = await harness.call('PATCH', `/v1/merchants/${id}`, { body: { address: '新地址' } });
    expect(edit.status).toBe(409);
  });

  it('holds a settlement account change for review without interrupting the merchant', async () => {
    const id = await approvedMerchant(harness);
    const account = {
      account_type: 'corporate',
      account_name: 'wrong name',
      account_number: '9558801234567890',
      bank_name: '中国银行',
      branch_code: '104431000016',
    };
    const mismatched = await harness.call('PATCH', `/v1/merchants/${id}`, {
      body: { settlement_account: account },
    });
    expect(mismatched.status).toBe(400);
    const current = await harness.call('GET', `/v1/merchants/${id}`);
    const changed = await harness.call('PATCH', `/v1/merchants/${id}`, {
      body: {
        settlement_account: { ...account, account_name: current.body.legal_name },
        display_name: '普惠超市(新)',
      },
    });
    expect(changed.status).toBe(200);
    expect(changed.body.status).toBe('active');
    expect(changed.body.display_name).toBe('普惠超市(新)');
    expect(changed.body.settlement_account.bank_name).toBe('中国工商银行上饶分行');
    expect(changed.body.pending_change.settlement_account).toMatchObject({ bank_name: '中国银行' });

    // Approved by a second admin: the one who asked may not (dual-control.test.ts).
    const approved = await harness.call('POST', `/v1/merchants/${id}/approve`, {
      token: operatorToken(['admin'], { subject: CHECKER }),
    });
    expect(approved.body).toMatchObject({ status: 'active', pending_change: null });
    expect(approved.body.settlement_account.bank_name).toBe('中国银行');
    const updates = await harness.events.waitForCount(
      2,
      (message) => message.value.subject === id && message.value.type === 'puhui.merchant.updated.v1',
    );
    expect(
      updates.map((message) => (message.value.data as { changed_fields: string[] }).changed_fields),
    ).toEqual([['display_name'], ['settlement_account']]);
  });

  it('lists merchants with filters, name search and cursor pagination', async () => {
    const ids: string[] = [];
    for (let index = 0; index < 3; index += 1) {
      const created = await harness.call('POST', '/v1/merchants', {
        body: completeApplication({ category: 'pharmacy', display_name: `康宁大药房 ${index}` }),
      });
      ids.push(created.body.id);
    }
    const first = await harness.call('GET', '/v1/merchants?category=pharmacy&status=draft&limit=2');
    expect(first.body.data.map((merchant: { id: string }) => merchant.id)).toEqual(ids.slice(0, 2));
    expect(first.body.has_more).toBe(true);
    const second = await harness.call(
      'GET',
      `/v1/merchants?category=pharmacy&status=draft&limit=2&starting_after=${ids[1]}`,
    );
    expect(second.body.data.map((merchant: { id: string }) => merchant.id)).toEqual([ids[2]]);
    expect(second.body.has_more).toBe(false);
    const byName = await harness.call('GET', `/v1/merchants?q=${encodeURIComponent('康宁大药房 1')}`);
    expect(byName.body.data.map((merchant: { id: string }) => merchant.id)).toEqual([ids[1]]);
    const tooMany = await harness.call('GET', '/v1/merchants?limit=1000');
    expect(tooMany.status).toBe(400);
  });

  it('keeps an audit trail of every change, queryable by merchant', async () => {
    const id = await approvedMerchant(harness);
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
    const approval = trail.entries[4];
    expect(approval).toMatchObject({
      actor: `operator:${CHECKER}`,
      before: { status: 'in_review' },
      after: { status: 'active' },
    });
    expect(approval.request_id).toEqual(expect.any(String));
  });
});
