import { Client } from 'pg';
import { operatorToken, testSubject } from '@puhui/testing';
import { approvedMerchant, completeApplication, refusedApplication, startHarness } from './support';
import type { Harness } from './support';

let harness: Harness;

beforeAll(async () => {
  harness = await startHarness();
});

afterAll(async () => {
  await harness.close();
});

describe('bad input', () => {
  it('names each bad field in a 400 problem and stores nothing', async () => {
    const application = completeApplication();
    const response = await refusedApplication(harness, {
      ...application,
      credit_code: `${application.credit_code.slice(0, 17)}${application.credit_code.endsWith('0') ? '1' : '0'}`,
      contact: { ...application.contact, mobile: '12345' },
      legal_representative: { ...application.legal_representative, id_number: '36110219800101123X' },
      settlement_account: { ...application.settlement_account, branch_code: '10243100001' },
      category: 'casino',
      surprise: true,
    });
    expect(response.contentType).toMatch(/application\/problem\+json/);
    const names = response.body.invalid_params.map((param: { name: string }) => param.name).sort();
    expect(names).toEqual(
      [
        'category',
        'contact.mobile',
        'credit_code',
        'legal_representative.id_number',
        'settlement_account.branch_code',
        'surprise',
      ].sort(),
    );
    expect(JSON.stringify(response.body)).not.toContain(
      application.legal_representative.id_number.slice(0, 17),
    );
  });

  it('refuses a corporate account not in the legal name', async () => {
    const application = completeApplication();
    const response = await refusedApplication(harness, {
      ...application,
      settlement_account: { ...application.settlement_account, account_name: '张三' },
    });
    expect(response.body.invalid_params).toEqual([
      {
        name: 'settlement_account.account_name',
        reason: 'must equal the legal name for a corporate account',
      },
    ]);
  });

  it('refuses a second live application for the same credit code', async () => {
    const application = completeApplication();
    expect((await harness.call('POST', '/v1/merchants', { body: application })).status).toBe(201);
    const again = await harness.call('POST', '/v1/merchants', {
      body: { ...application, display_name: '另一家' },
    });
    expect(again.status).toBe(409);
    expect(again.body.code).toBe('duplicate_credit_code');
  });
});

describe('access', () => {
  it('asks for credentials, and refuses a token without the admin role', async () => {
    const anonymous = await harness.call('GET', '/v1/merchants', { token: '' });
    expect(anonymous.status).toBe(401);
    const garbage = await harness.call('GET', '/v1/merchants', { token: 'not-a-token' });
    expect(garbage.status).toBe(401);
    const finance = operatorToken(['finance'], { subject: testSubject('finance.li'), ttlSeconds: 60 });
    const forbidden = await harness.call('GET', '/v1/merchants', { token: finance });
    expect(forbidden.status).toBe(403);
    expect(forbidden.body.code).toBe('forbidden');
  });

  it("gives a merchant's key its own record only; another merchant's id is 404; a revoked key is 401", async () => {
    const mine = await approvedMerchant(harness);
    const theirs = await approvedMerchant(harness);
    const key = await harness.call('POST', `/v1/merchants/${mine}/api_keys`, {
      body: { scopes: ['checkout', 'keys'] },
    });
    expect(key.status).toBe(201);
    expect(key.body.secret).toMatch(/^sk_live_/);
    expect(key.body.prefix).toBe(key.body.secret.slice(0, 14));

    expect((await harness.call('GET', `/v1/merchants/${mine}`, { token: key.body.secret })).body.id).toBe(
      mine,
    );
    const other = await harness.call('GET', `/v1/merchants/${theirs}`, { token: key.body.secret });
    expect(other.status).toBe(404);
    const listAll = await harness.call('GET', '/v1/merchants', { token: key.body.secret });
    expect(listAll.status).toBe(403);
    const approveSelf = await harness.call('POST', `/v1/merchants/${mine}/suspend`, {
      token: key.body.secret,
      body: { reason: 'x' },
    });
    expect(approveSelf.status).toBe(403);

    const listed = await harness.call('GET', `/v1/merchants/${mine}/api_keys`, { token: key.body.secret });
    expect(listed.body.data).toEqual([expect.objectContaining({ id: key.body.id, status: 'active' })]);
    expect(JSON.stringify(listed.body)).not.toContain(key.body.secret);

    const revoked = await harness.call('DELETE', `/v1/merchants/${mine}/api_keys/${key.body.id}`);
    expect(revoked.body.status).toBe('revoked');
    expect((await harness.call('GET', `/v1/merchants/${mine}`, { token: key.body.secret })).status).toBe(401);

    const events = await harness.events.waitForCount(
      2,
      (message) => message.value.subject === mine && String(message.value.type).includes('api_key'),
    );
    expect(events.map((message) => message.value.type)).toEqual([
      'puhui.merchant.api_key.created.v1',
      'puhui.merchant.api_key.revoked.v1',
    ]);
    expect(events[0]?.value.data).toMatchObject({
      key_id: key.body.id,
      prefix: key.body.prefix,
      key_hash: expect.any(String),
    });
    expect(JSON.stringify(events)).not.toContain(key.body.secret);
  });

  it('rotates a key with an overlap during which both work', async () => {
    const merchant = await approvedMerchant(harness);
    const old = await harness.call('POST', `/v1/merchants/${merchant}/api_keys`, {
      body: { scopes: ['checkout', 'keys'] },
    });
    const rotated = await harness.call('POST', `/v1/merchants/${merchant}/api_keys`, {
      token: old.body.secret,
      body: { rotates_key_id: old.body.id, overlap_seconds: 3600 },
    });
    expect(rotated.status).toBe(201);
    // A rotation keeps the old key's scopes.
    expect(rotated.body.scopes).toEqual(['checkout', 'keys']);
    expect((await harness.call('GET', `/v1/merchants/${merchant}`, { token: old.body.secret })).status).toBe(
      200,
    );
    expect(
      (await harness.call('GET', `/v1/merchants/${merchant}`, { token: rotated.body.secret })).status,
    ).toBe(200);
    const keys = await harness.call('GET', `/v1/merchants/${merchant}/api_keys`);
    expect(keys.body.data.map((key: { status: string }) => key.status)).toEqual(['expiring', 'active']);
    const revokedEvent = await harness.events.waitForCount(
      1,
      (message) =>
        message.value.subject === merchant && message.value.type === 'puhui.merchant.api_key.revoked.v1',
    );
    const data = revokedEvent[0]?.value.data as { revoked_at: string; effective_at: string };
    expect(Date.parse(data.effective_at) - Date.parse(data.revoked_at)).toBeGreaterThan(3590 * 1000);
  });

  it('refuses keys to a merchant that is not approved', async () => {
    const created = await harness.call('POST', '/v1/merchants', { body: completeApplication() });
    const response = await harness.call('POST', `/v1/merchants/${created.body.id}/api_keys`);
    expect(response.status).toBe(403);
    expect(response.body).toMatchObject({ code: 'merchant_not_active', current_status: 'draft' });
  });
});

describe('concurrent decisions', () => {
  it('lets exactly one of the operators deciding at the same moment win, with exactly one event', async () => {
    const created = await harness.call('POST', '/v1/merchants', { body: completeApplication() });
    const id = created.body.id as string;
    await harness.call('POST', `/v1/merchants/${id}/submit`);
    await harness.call('POST', `/v1/merchants/${id}/start_review`);
    const asked = await harness.call('POST', `/v1/merchants/${id}/approve`);
    const approval = `/v1/approval_requests/${asked.body.approval_request.id}/approve`;
    const checker = (name: string) => operatorToken(['admin'], { subject: testSubject(name) });
    const outcomes = await Promise.all([
      harness.call('POST', approval, { token: checker('checker-one'), body: {} }),
      harness.call('POST', `/v1/merchants/${id}/reject`, { body: { reason: '资料不全' } }),
      harness.call('POST', approval, { token: checker('checker-two'), body: {} }),
    ]);
    const statuses = outcomes.map((outcome) => outcome.status).sort();
    expect(statuses).toEqual([200, 409, 409]);
    const merchant = await harness.call('GET', `/v1/merchants/${id}`);
    expect(['active', 'rejected']).toContain(merchant.body.status);
    await new Promise((resolve) => setTimeout(resolve, 500));
    const published = harness.events.messages.filter((message) => message.value.subject === id);
    expect(published).toHaveLength(merchant.body.status === 'active' ? 1 : 0);
    const trail = await harness.call('GET', `/v1/audit_events?merchant_id=${id}`);
    expect(
      trail.body.data.filter((entry: { action: string }) => ['approve', 'reject'].includes(entry.action)),
    ).toHaveLength(1);
  });

  it('keeps the audit trail append-only in the database', async () => {
    const id = await approvedMerchant(harness);
    expect(id).toMatch(/^mer_/);
    const client = new Client({ connectionString: harness.databaseUrl });
    await client.connect();
    try {
      await expect(client.query('UPDATE audit_events SET actor = $1', ['someone else'])).rejects.toThrow(
        /append-only/,
      );
      await expect(client.query('DELETE FROM audit_events')).rejects.toThrow(/append-only/);
    } finally {
      await client.end();
    }
  });
});
