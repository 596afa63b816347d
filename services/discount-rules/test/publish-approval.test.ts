/**
 * Dual control (issue 16): publishing a rule the union funds part of spends union budget on
 * every matching checkout, so it needs a second admin, checked on the token subjects. A rule the
 * merchants fund alone still publishes at once.
 */
import { RULESET_VERSION_KEY } from '@puhui/discount';
import { auditTrail, operatorToken, testSubject } from '@puhui/testing';
import { ADMIN, startHarness, supermarketRule } from './support';
import type { Harness } from './support';

let harness: Harness;
let budgetId: string;

const CHECKER = testSubject('admin-checker');
const checker = () => operatorToken(['admin'], { subject: CHECKER });

beforeAll(async () => {
  harness = await startHarness();
  const budget = await harness.call('POST', '/v1/budgets', {
    body: { name: '工会补贴预算', union_id: 'union-361102', currency: 'CNY' },
  });
  budgetId = budget.body.budget_id as string;
});

afterAll(async () => {
  await harness.close();
});

async function headRuleset(): Promise<number> {
  const { rows } = await harness.db.query<{ version: string }>(
    'SELECT max(ruleset_version) AS version FROM rule_versions',
  );
  return Number(rows[0]?.version ?? 0);
}

async function committedRuleEvents(ruleId: string): Promise<number> {
  const { rows } = await harness.db.query<{ count: string }>(
    'SELECT count(*) FROM outbox_events WHERE subject = $1',
    [ruleId],
  );
  return Number(rows[0]?.count);
}

async function unionFundedDraft(): Promise<string> {
  const created = await harness.call('POST', '/v1/rules', {
    body: supermarketRule({ name: '工会补贴超市9折', union_share_bps: 5000, budget_id: budgetId }),
  });
  expect(created.status).toBe(201);
  return created.body.rule_id as string;
}

describe('publishing a union-funded rule', () => {
  it('waits for a second admin: refused to its requester, published by the checker', async () => {
    const ruleId = await unionFundedDraft();
    const rulesetBefore = await headRuleset();
    const asked = await harness.call('POST', `/v1/rules/${ruleId}/publish`);
    expect(asked.status).toBe(202);
    const request = asked.body.approval_request;
    expect(request).toMatchObject({
      service: 'discount-rules',
      action: 'rule_publish',
      target_type: 'rule',
      target_id: ruleId,
      requested_by: ADMIN,
      required_role: 'admin',
      status: 'pending',
      before: null,
      after: { rule_id: ruleId, version: 1, union_share_bps: 5000, budget_id: budgetId, effective_at: null },
    });
    const waiting = await harness.call('GET', `/v1/rules/${ruleId}`);
    expect(waiting.body).toMatchObject({
      status: 'draft',
      published_at: null,
      versions: [],
      pending_approval: { approval_request_id: request.id, action: 'rule_publish', requested_by: ADMIN },
    });

    // Neither a second request nor an edit slips in while the checker looks at it.
    for (const [method, path, body] of [
      ['POST', `/v1/rules/${ruleId}/publish`, undefined],
      ['PATCH', `/v1/rules/${ruleId}`, { union_share_bps: 10000 }],
    ] as const) {
      const refused = await harness.call(method, path, { body });
      expect(refused.status).toBe(409);
      expect(refused.body).toMatchObject({ code: 'approval_pending', approval_request_id: request.id });
    }
    const own = await harness.call('POST', `/v1/approval_requests/${request.id}/approve`, { body: {} });
    expect(own.status).toBe(403);
    expect(own.body.code).toBe('self_approval_refused');
    expect((await harness.call('GET', `/v1/rules/${ruleId}`)).body.status).toBe('draft');
    expect(await headRuleset()).toBe(rulesetBefore);
    expect(await committedRuleEvents(ruleId)).toBe(0);

    const approved = await harness.call('POST', `/v1/approval_requests/${request.id}/approve`, {
      token: checker(),
      body: {},
    });
    expect(approved.status).toBe(200);
    expect(approved.body).toMatchObject({
      status: 'approved',
      decided_by: CHECKER,
      outcome: { rule_id: ruleId, status: 'published', version: 1, ruleset_version: rulesetBefore + 1 },
    });
    // Redis moved on with the approval's answer, as a one-person publish moves it.
    expect(Number(await harness.redis.get(RULESET_VERSION_KEY))).toBe(rulesetBefore + 1);
    const live = await harness.call('GET', `/v1/rules/${ruleId}`);
    expect(live.body).toMatchObject({ status: 'published', pending_approval: null });
    expect(live.body.versions).toEqual([
      expect.objectContaining({
        version: 1,
        ruleset_version: rulesetBefore + 1,
        published_by: `operator:${CHECKER}`,
      }),
    ]);
    const [event] = await harness.rules.waitForCount(1, (message) => message.key === ruleId);
    expect(event?.value).toMatchObject({
      type: 'puhui.rule.published.v1',
      data: { rule: { rule_id: ruleId, union_share_bps: 5000 }, ruleset_version: rulesetBefore + 1 },
    });
    const trail = await auditTrail(harness, `rule_id=${ruleId}`);
    expect(trail.actions).toEqual([
      'rule_created',
      'approval_requested',
      'rule_published',
      'approval_approved',
    ]);
    expect(trail.entries[1]).toMatchObject({ actor: `operator:${ADMIN}` });
    expect(trail.entries[2]).toMatchObject({ actor: `operator:${CHECKER}`, request_id: expect.any(String) });
  });

  it('schedules an approved publish for its effective_at, and a rejected one publishes nothing', async () => {
    const scheduledId = await unionFundedDraft();
    const effectiveAt = new Date(Date.now() + 3_600_000).toISOString();
    const asked = await harness.call('POST', `/v1/rules/${scheduledId}/publish`, {
      body: { effective_at: effectiveAt },
    });
    expect(asked.status).toBe(202);
    const approved = await harness.call(
      'POST',
      `/v1/approval_requests/${asked.body.approval_request.id}/approve`,
      {
        token: checker(),
        body: {},
      },
    );
    expect(approved.body.outcome).toMatchObject({ status: 'draft', ruleset_version: null });
    expect((await harness.call('GET', `/v1/rules/${scheduledId}`)).body).toMatchObject({
      status: 'draft',
      scheduled_publish_at: effectiveAt,
      pending_approval: null,
    });

    const rejectedId = await unionFundedDraft();
    const rejectedAsk = await harness.call('POST', `/v1/rules/${rejectedId}/publish`);
    const rejected = await harness.call(
      'POST',
      `/v1/approval_requests/${rejectedAsk.body.approval_request.id}/reject`,
      {
        token: checker(),
        body: { reason: '预算未批' },
      },
    );
    expect(rejected.body.status).toBe('rejected');
    expect((await harness.call('GET', `/v1/rules/${rejectedId}`)).body).toMatchObject({
      status: 'draft',
      pending_approval: null,
    });
    expect(await committedRuleEvents(rejectedId)).toBe(0);
    // Rejected, it may be edited and asked for again.
    expect(
      (await harness.call('PATCH', `/v1/rules/${rejectedId}`, { body: { name: '改过的' } })).status,
    ).toBe(200);
    expect((await harness.call('POST', `/v1/rules/${rejectedId}/publish`)).status).toBe(202);
  });

  it('is cancelled when the rule is retired meanwhile', async () => {
    const ruleId = await unionFundedDraft();
    const asked = await harness.call('POST', `/v1/rules/${ruleId}/publish`);
    const retired = await harness.call('POST', `/v1/rules/${ruleId}/retire`);
    expect(retired.body).toMatchObject({ status: 'retired', pending_approval: null });
    const requestPath = `/v1/approval_requests/${asked.body.approval_request.id}`;
    expect((await harness.call('GET', requestPath)).body).toMatchObject({
      status: 'cancelled',
      decided_by: ADMIN,
    });
    const late = await harness.call('POST', `${requestPath}/approve`, { token: checker(), body: {} });
    expect(late.body.code).toBe('approval_already_decided');
    expect(await committedRuleEvents(ruleId)).toBe(0);
  });

  it('is decided only by an admin', async () => {
    const ruleId = await unionFundedDraft();
    const asked = await harness.call('POST', `/v1/rules/${ruleId}/publish`);
    const refused = await harness.call(
      'POST',
      `/v1/approval_requests/${asked.body.approval_request.id}/approve`,
      {
        token: harness.finance,
        body: {},
      },
    );
    expect(refused.status).toBe(403);
    expect((await harness.call('GET', `/v1/rules/${ruleId}`)).body.status).toBe('draft');
  });
});

describe('publishing a rule the merchants fund alone', () => {
  it('publishes at once, as before', async () => {
    const created = await harness.call('POST', '/v1/rules', { body: supermarketRule() });
    const published = await harness.call('POST', `/v1/rules/${created.body.rule_id}/publish`);
    expect(published.status).toBe(200);
    expect(published.body).toMatchObject({ status: 'published', union_share_bps: 0, pending_approval: null });
  });
});
