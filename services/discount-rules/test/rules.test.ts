import { setTimeout as sleep } from 'node:timers/promises';
import { ITEM_CATEGORIES, newId } from '@puhui/contracts';
import { RULESET_VERSION_KEY } from '@puhui/discount';
import { auditTrail, waitFor } from '@puhui/testing';
import { ADMIN, startHarness, supermarketRule } from './support';
import type { Harness } from './support';

let harness: Harness;

beforeAll(async () => {
  harness = await startHarness();
});

afterAll(async () => {
  await harness.close();
});

async function ruleCount(): Promise<number> {
  const { rows } = await harness.db.query<{ count: string }>('SELECT count(*) FROM rules');
  return Number(rows[0]?.count);
}

async function createBudget(unionId = 'union-361102'): Promise<string> {
  const response = await harness.call('POST', '/v1/budgets', {
    body: { name: '困难职工专项', union_id: unionId, currency: 'CNY' },
  });
  expect(response.status).toBe(201);
  return response.body.budget_id as string;
}

const eventsOf = (ruleId: string) =>
  harness.rules.messages.filter((message) => message.key === ruleId).map((message) => message.value);

describe('bad rules', () => {
  let merchantId: string;
  let budgetId: string;
  beforeAll(async () => {
    merchantId = await harness.approveMerchant('hospital');
    budgetId = await createBudget();
  });

  it.each([
    [
      'an unknown merchant category',
      { scope: { merchant_categories: ['casino'] } },
      'scope.merchant_categories.0',
    ],
    ['an empty list', { scope: { merchant_categories: [] } }, 'scope.merchant_categories'],
    // 'groceries' is no line category a checkout accepts: such a rule could never apply.
    ['a line category no checkout accepts', { item_categories: ['groceries'] }, 'item_categories.0'],
    ['shares that do not add up', { union_share_bps: 3000, merchant_share_bps: 6000 }, 'merchant_share_bps'],
    ['a share above 10000', { union_share_bps: 10001 }, 'union_share_bps'],
    ['a percentage above 100%', { benefit: { type: 'percent_off', bps: 10001 } }, 'benefit.bps'],
    [
      'a window ending before it starts',
      { schedule: { valid_from: '2025-06-01T00:00:00+08:00', valid_to: '2025-05-01T00:00:00+08:00' } },
      'schedule.valid_to',
    ],
    [
      'an empty time window',
      {
        schedule: { valid_from: '2025-06-01T00:00:00+08:00', time_of_day: { start: '10:00', end: '10:00' } },
      },
      'schedule.time_of_day.end',
    ],
    [
      'a day named twice',
      { schedule: { valid_from: '2025-06-01T00:00:00+08:00', days_of_week: [6, 7, 6] } },
      'schedule.days_of_week',
    ],
    [
      'a local time without an offset',
      { schedule: { valid_from: '2025-06-01T00:00:00' } },
      'schedule.valid_from',
    ],
    ['a union share without a budget', { union_share_bps: 5000 }, 'budget_id'],
    ['an unknown budget', { budget_id: 'bud_000000000000000000000000a', union_share_bps: 5000 }, 'budget_id'],
    [
      'an unknown merchant',
      { scope: { merchant_categories: null, merchant_ids: ['mer_unknown'] } },
      'scope.merchant_ids.0',
    ],
    ['an unknown field', { colour: 'red' }, 'colour'],
  ])('refuses %s with 400 naming it, storing nothing', async (_what, overrides, name) => {
    const before = await ruleCount();
    const response = await harness.call('POST', '/v1/rules', { body: supermarketRule(overrides) });
    expect(response.status).toBe(400);
    expect(response.contentType).toMatch(/application\/problem\+json/);
    expect(response.body.invalid_params.map((param: { name: string }) => param.name)).toContain(name);
    expect(await ruleCount()).toBe(before);
  });

  it('takes known merchants and budgets, and shares given either way', async () => {
    const response = await harness.call('POST', '/v1/rules', {
      body: supermarketRule({
        scope: { merchant_categories: ['supermarket'], merchant_ids: [merchantId] },
        merchant_share_bps: 4000,
        budget_id: budgetId,
      }),
    });
    expect(response.status).toBe(201);
    expect(response.body).toMatchObject({
      union_share_bps: 6000,
      merchant_share_bps: 4000,
      budget_id: budgetId,
    });
  });

  it('takes every line category a checkout accepts, and refuses another in an edit too', async () => {
    const created = await harness.call('POST', '/v1/rules', {
      body: supermarketRule({ item_categories: [...ITEM_CATEGORIES] }),
    });
    expect(created.status).toBe(201);
    const edited = await harness.call('PATCH', `/v1/rules/${created.body.rule_id}`, {
      body: { item_categories: ['food', 'groceries'] },
    });
    expect(edited.status).toBe(400);
    expect(edited.body.invalid_params).toEqual([expect.objectContaining({ name: 'item_categories.1' })]);
  });

  it('answers a merchant approved a moment ago and not yet replicated not_yet_available, an old unknown one 400', async () => {
    const fresh = newId('mer');
    const before = await ruleCount();
    const pending = await harness.call('POST', '/v1/rules', {
      body: supermarketRule({ scope: { merchant_categories: null, merchant_ids: [merchantId, fresh] } }),
    });
    expect(pending.status).toBe(503);
    expect(pending.body).toMatchObject({
      code: 'not_yet_available',
      invalid_params: [expect.objectContaining({ name: 'scope.merchant_ids.1' })],
    });
    const old = newId('mer', Date.now() - 10 * 60_000);
    const unknown = await harness.call('POST', '/v1/rules', {
      body: supermarketRule({ scope: { merchant_categories: null, merchant_ids: [old] } }),
    });
    expect(unknown.status).toBe(400);
    expect(unknown.body.invalid_params).toEqual([
      expect.objectContaining({ name: 'scope.merchant_ids.0', reason: 'is not a known, live merchant' }),
    ]);
    // Another problem beside the pending merchant is a 400: retrying would not help.
    const broken = await harness.call('POST', '/v1/rules', {
      body: supermarketRule({
        scope: { merchant_categories: null, merchant_ids: [fresh] },
        union_share_bps: 5000,
      }),
    });
    expect(broken.status).toBe(400);
    expect(await ruleCount()).toBe(before);
  });

  it('refuses a merchant that has been terminated', async () => {
    const closing = await harness.approveMerchant('pharmacy');
    await harness.terminateMerchant(closing);
    const response = await harness.call('POST', '/v1/rules', {
      body: supermarketRule({ scope: { merchant_categories: null, merchant_ids: [closing] } }),
    });
    expect(response.status).toBe(400);
    expect(response.body.invalid_params).toEqual([
      expect.objectContaining({ name: 'scope.merchant_ids.0', reason: 'is not a known, live merchant' }),
    ]);
  });
});

describe('a rule from draft to retirement', () => {
  it('publishes immutable versions, bumps the ruleset each time, announces and audits every step', async () => {
    const created = await harness.call('POST', '/v1/rules', { body: supermarketRule() });
    expect(created.status).toBe(201);
    const ruleId = created.body.rule_id as string;
    expect(created.body).toMatchObject({
      status: 'draft',
      version: 1,
      item_categories: null,
      eligibility: { card_tiers: null, union_ids: null },
      union_share_bps: 0,
      merchant_share_bps: 10000,
      benefit_description: '9.5折 · 5% off',
      stacking: 'exclusive',
      priority: 0,
    });
    const edited = await harness.call('PATCH', `/v1/rules/${ruleId}`, {
      body: { name: '超市会员日9.5折', priority: 5 },
    });
    expect(edited.body).toMatchObject({ name: '超市会员日9.5折', priority: 5, version: 1, status: 'draft' });

    const published = await harness.call('POST', `/v1/rules/${ruleId}/publish`);
    expect(published.status).toBe(200);
    expect(published.body).toMatchObject({
      status: 'published',
      version: 1,
      published_at: expect.any(String),
    });
    const [firstEvent] = await harness.rules.waitForCount(1, (message) => message.key === ruleId);
    const firstRuleset = (firstEvent?.value.data as { ruleset_version: number }).ruleset_version;
    expect(firstEvent?.value).toMatchObject({
      type: 'puhui.rule.published.v1',
      data: { rule: { rule_id: ruleId, version: 1, name: '超市会员日9.5折' } },
    });
    expect(Number(await harness.redis.get(RULESET_VERSION_KEY))).toBe(firstRuleset);
    // The publish answers the ruleset version it made live, the one its event and Redis carry.
    expect(published.body.ruleset_version).toBe(firstRuleset);
    expect((await harness.call('POST', `/v1/rules/${ruleId}/publish`)).body.code).toBe('nothing_to_publish');

    // Editing a published rule drafts its next version; the live one stays until that is published.
    const drafted = await harness.call('PATCH', `/v1/rules/${ruleId}`, {
      body: { benefit: { type: 'percent_off', bps: 1000 } },
    });
    expect(drafted.body).toMatchObject({
      status: 'published',
      version: 1,
      benefit: { bps: 500 },
      pending_draft: { version: 2, benefit: { bps: 1000 }, benefit_description: '9折 · 10% off' },
    });
    const second = await harness.call('POST', `/v1/rules/${ruleId}/publish`);
    expect(second.body).toMatchObject({
      version: 2,
      benefit: { bps: 1000 },
      pending_draft: null,
      ruleset_version: firstRuleset + 1,
    });

    const history = await harness.call('GET', `/v1/rules/${ruleId}`, { token: harness.finance });
    expect(history.body.versions.map((version: { version: number }) => version.version)).toEqual([1, 2]);
    expect(history.body.versions[0]).toMatchObject({
      ruleset_version: firstRuleset,
      published_by: `operator:${ADMIN}`,
      rule: { benefit: { bps: 500 } },
    });
    expect(history.body.versions[1].ruleset_version).toBe(firstRuleset + 1);

    const retired = await harness.call('POST', `/v1/rules/${ruleId}/retire`);
    expect(retired.body).toMatchObject({ status: 'retired', retired_at: expect.any(String) });
    const again = await harness.call('POST', `/v1/rules/${ruleId}/publish`);
    expect(again.status).toBe(409);
    expect(again.body).toMatchObject({ code: 'rule_retired', current_status: 'retired' });
    expect((await harness.call('PATCH', `/v1/rules/${ruleId}`, { body: { priority: 1 } })).status).toBe(409);
    expect((await harness.call('POST', `/v1/rules/${ruleId}/retire`)).status).toBe(409);

    const events = await harness.rules.waitForCount(3, (message) => message.key === ruleId);
    expect(
      events.map((message) => [
        message.value.type,
        (message.value.data as { ruleset_version: number }).ruleset_version,
      ]),
    ).toEqual([
      ['puhui.rule.published.v1', firstRuleset],
      ['puhui.rule.published.v1', firstRuleset + 1],
      ['puhui.rule.retired.v1', firstRuleset + 2],
    ]);
    expect(Number(await harness.redis.get(RULESET_VERSION_KEY))).toBe(firstRuleset + 2);

    const audit = await auditTrail(harness, `rule_id=${ruleId}`);
    expect(audit.actions).toEqual([
      'rule_created',
      'rule_updated',
      'rule_published',
      'rule_updated',
      'rule_published',
      'rule_retired',
    ]);
    expect(audit.entries[3]).toMatchObject({
      before: { pending_draft: null },
      after: { pending_draft: { version: 2 } },
    });
  });

  it('keeps published versions and the audit trail as they were, whatever SQL tries', async () => {
    const created = await harness.call('POST', '/v1/rules', { body: supermarketRule() });
    const ruleId = created.body.rule_id as string;
    await harness.call('POST', `/v1/rules/${ruleId}/publish`);
    await expect(
      harness.db.query(`UPDATE rule_versions SET rule = '{}' WHERE rule_id = $1`, [ruleId]),
    ).rejects.toThrow(/append-only/);
    await expect(harness.db.query('DELETE FROM rule_versions WHERE rule_id = $1', [ruleId])).rejects.toThrow(
      /append-only/,
    );
    await expect(harness.db.query('DELETE FROM audit_events WHERE rule_id = $1', [ruleId])).rejects.toThrow(
      /append-only/,
    );
    await expect(harness.db.query('UPDATE rulesets SET change = $1', ['retired'])).rejects.toThrow(
      /append-only/,
    );
  });

  it('retires a never-published draft without touching the ruleset', async () => {
    const created = await harness.call('POST', '/v1/rules', { body: supermarketRule() });
    const ruleId = created.body.rule_id as string;
    const before = await harness.redis.get(RULESET_VERSION_KEY);
    const retired = await harness.call('POST', `/v1/rules/${ruleId}/retire`);
    expect(retired.body).toMatchObject({ status: 'retired', version: 1 });
    expect(await harness.redis.get(RULESET_VERSION_KEY)).toBe(before);
    await sleep(100);
    expect(eventsOf(ruleId)).toEqual([]);
  });

  it('answers 404 for an unknown rule and 400 for a malformed id', async () => {
    const unknown = 'rul_0000000000000000000000000';
    expect((await harness.call('GET', `/v1/rules/${unknown}`)).status).toBe(404);
    expect((await harness.call('POST', `/v1/rules/${unknown}/publish`)).status).toBe(404);
    expect((await harness.call('POST', `/v1/rules/${unknown}/retire`)).status).toBe(404);
    expect((await harness.call('PATCH', `/v1/rules/${unknown}`, { body: { priority: 1 } })).status).toBe(404);
    expect((await harness.call('GET', '/v1/rules/nope')).status).toBe(400);
  });
});

describe('a scheduled publish', () => {
  it('goes live at effective_at, not before', async () => {
    const created = await harness.call('POST', '/v1/rules', { body: supermarketRule() });
    const ruleId = created.body.rule_id as string;
    const past = await harness.call('POST', `/v1/rules/${ruleId}/publish`, {
      body: { effective_at: new Date(Date.now() - 60_000).toISOString() },
    });
    expect(past.status).toBe(400);
    expect(past.body.invalid_params[0].name).toBe('effective_at');

    const effectiveAt = new Date(Date.now() + 1_500);
    const scheduled = await harness.call('POST', `/v1/rules/${ruleId}/publish`, {
      body: { effective_at: effectiveAt.toISOString() },
    });
    expect(scheduled.body).toMatchObject({
      status: 'draft',
      scheduled_publish_at: effectiveAt.toISOString(),
      ruleset_version: null,
    });
    const live = await waitFor(async () => {
      const rule = await harness.call('GET', `/v1/rules/${ruleId}`);
      return rule.body.status === 'published' ? rule.body : undefined;
    });
    const publishedAt = Date.parse(live.published_at as string);
    expect(publishedAt).toBeGreaterThanOrEqual(effectiveAt.getTime());
    expect(publishedAt).toBeLessThan(effectiveAt.getTime() + 2 * harness.config.BACKGROUND_INTERVAL_MS);
    expect(live).toMatchObject({ scheduled_publish_at: null, version: 1 });
    const audit = await auditTrail(harness, `rule_id=${ruleId}`);
    expect(audit.actions).toEqual(['rule_created', 'publish_scheduled', 'scheduled_publish']);
  });
});

describe('listing rules', () => {
  it('filters by status and merchant category and pages with starting_after', async () => {
    const hotel = await harness.call('POST', '/v1/rules', {
      body: supermarketRule({
        name: '酒店7.8折',
        scope: { merchant_categories: ['hotel'] },
        benefit: { type: 'percent_off', bps: 2200 },
      }),
    });
    const everywhere = await harness.call('POST', '/v1/rules', {
      body: supermarketRule({ name: '全场', scope: {} }),
    });
    await harness.call('POST', `/v1/rules/${hotel.body.rule_id}/publish`);
    const hotels = await harness.call('GET', '/v1/rules?merchant_category=hotel&limit=100');
    const ids = hotels.body.data.map((rule: { rule_id: string }) => rule.rule_id);
    expect(ids).toEqual(expect.arrayContaining([hotel.body.rule_id, everywhere.body.rule_id]));
    expect(
      hotels.body.data.every(
        (rule: { scope: { merchant_categories: string[] | null } }) =>
          rule.scope.merchant_categories?.includes('hotel') ?? true,
      ),
    ).toBe(true);
    const published = await harness.call('GET', '/v1/rules?status=published&merchant_category=hotel');
    expect(published.body.data.map((rule: { rule_id: string }) => rule.rule_id)).toEqual([
      hotel.body.rule_id,
    ]);

    const pages: string[] = [];
    let cursor = '';
    for (let page = 0; page < 50; page += 1) {
      const response = await harness.call('GET', `/v1/rules?limit=2${cursor}`);
      pages.push(...response.body.data.map((rule: { rule_id: string }) => rule.rule_id));
      if (!response.body.has_more) break;
      cursor = `&starting_after=${pages[pages.length - 1]}`;
    }
    expect(pages).toEqual([...pages].sort());
    expect(pages.length).toBe(await ruleCount());
    expect((await harness.call('GET', '/v1/rules?limit=101')).status).toBe(400);
  });
});

describe('budgets', () => {
  it('creates, announces, lists and finds a budget', async () => {
    const created = await harness.call('POST', '/v1/budgets', {
      body: { name: '劳模疗休养补贴', union_id: 'union-361103', currency: 'CNY' },
    });
    expect(created.status).toBe(201);
    const budgetId = created.body.budget_id as string;
    expect(budgetId).toMatch(/^bud_[0-9a-z]{25}$/);
    const [event] = await harness.rules.waitForCount(1, (message) => message.key === budgetId);
    expect(event?.value).toMatchObject({
      type: 'puhui.budget.created.v1',
      subject: budgetId,
      data: { budget_id: budgetId, union_id: 'union-361103', currency: 'CNY', name: '劳模疗休养补贴' },
    });
    expect((await harness.call('GET', `/v1/budgets/${budgetId}`, { token: harness.finance })).body).toEqual(
      created.body,
    );
    const list = await harness.call('GET', '/v1/budgets?union_id=union-361103');
    expect(list.body).toEqual({ data: [created.body], has_more: false });
    expect((await harness.call('GET', '/v1/budgets/bud_0000000000000000000000000')).status).toBe(404);
    const usd = await harness.call('POST', '/v1/budgets', {
      body: { name: 'x', union_id: 'u', currency: 'USD' },
    });
    expect(usd.body.invalid_params).toEqual([expect.objectContaining({ name: 'currency' })]);
    expect(
      (
        await harness.call('POST', '/v1/budgets', {
          body: { name: 'x', union_id: 'u', currency: 'CNY' },
          token: harness.finance,
        })
      ).status,
    ).toBe(403);
  });
});
