/**
 * Issue 7, end to end across processes: what admins do at merchant-onboarding and
 * discount-rules reaches checkouts at transaction-settlement through Kafka and Redis, within
 * seconds; and every event the run produced reads as a valid CloudEvent with the official SDK.
 */
import { TOPICS } from '@puhui/contracts';
import { waitFor } from '@puhui/testing';
import { EventLog, checkCloudEvent } from './events';
import type { CheckedEvent } from './events';
import {
  capture,
  captureUntil,
  checkoutBody,
  createRule,
  fundedBudget,
  listCheckouts,
  onboardMerchant,
  publishRule,
  registerCard,
  waitUntilSettlementAccepts,
} from './puhui';
import type { Card, CheckoutLine, Merchant } from './puhui';
import { PuhuiSystem, looseAnswer } from './system';

const WITHIN_SECONDS_MS = 10_000;
const PROBLEM_JSON = /^application\/problem\+json/u;

let system: PuhuiSystem;
let events: EventLog;
let merchant: Merchant;
let card: Card;
let ruleId: string;
let budgetId: string;

/** 9.5折 on a 123.45 yuan basket: 617.25 fen off rounds half up to 617; the union funds 40% of it. */
const BASKET: CheckoutLine[] = [{ category: 'general', amount_minor: 12_345 }];
const EXPECTED = {
  gross_minor: 12_345,
  discount_minor: 617,
  union_funded_minor: 247, // round_half_up(617 × 4000 / 10000 = 246.8)
  merchant_funded_minor: 370,
  net_minor: 11_728,
};
const BUDGET_MINOR = 1_000_000;
/**
 * A line only the later rule covers (tickets, 10% off, merchant-funded): seeing it discounted
 * proves the rule published after the draft reached checkout, and the baskets of the other
 * scenarios ('general' only) never meet that rule.
 */
const LATER_RULE_LINE: CheckoutLine = { category: 'ticket', amount_minor: 10_000 };
const LATER_RULE_DISCOUNT_MINOR = 1_000;

function e2e(name: string, body: () => Promise<void>): void {
  it(name, () => system.withLogsOnFailure(body));
}

beforeAll(async () => {
  system = await PuhuiSystem.start();
  events = await EventLog.start(Object.keys(TOPICS).map((name) => system.topic(name as keyof typeof TOPICS)));
}, 120_000);

afterAll(async () => {
  await events?.stop();
  await system?.stop();
});

e2e('a published rule reaches checkout with exactly its discount, and a draft does not', async () => {
  merchant = await onboardMerchant(system, 'supermarket');
  const replicatedMs = await waitUntilSettlementAccepts(system, merchant);
  card = await registerCard(system, 70_001);
  budgetId = await fundedBudget(system, BUDGET_MINOR);
  const draft = await createRule(system, {
    name: '端到端超市9.5折',
    scope: { merchant_categories: null, merchant_ids: [merchant.merchant_id] },
    benefit: { type: 'percent_off', bps: 500 },
    union_share_bps: 4000,
    budget_id: budgetId,
    schedule: { valid_from: '2025-01-01T00:00:00+08:00' },
  });
  ruleId = draft.body.rule_id as string;
  expect(draft.body).toMatchObject({ status: 'draft', version: 1 });

  // Only once a rule published after the draft is seen at checkout can "no discount" mean the
  // draft does not apply, rather than that nothing had reached settlement yet.
  const later = await laterRuleSeenAtCheckout();
  const beforePublish = await capture(system, merchant, checkoutBody(card, BASKET));
  expect(beforePublish.status).toBe(201);
  expect(beforePublish.body.ruleset_version).toBeGreaterThanOrEqual(later.ruleset_version);
  expect(beforePublish.body).toMatchObject({
    status: 'captured',
    gross_minor: 12_345,
    discount_minor: 0,
    merchant_funded_minor: 0,
    union_funded_minor: 0,
    net_minor: 12_345,
    no_discount_reason: null,
    card_last4: card.card_last4,
  });
  expect(beforePublish.body.lines).toEqual([
    expect.objectContaining({ discount_minor: 0, applied_rules: [] }),
  ]);

  const publishedAt = Date.now();
  await publishRule(system, ruleId);
  const [publishedEvent] = await events.waitFor(
    system.topic('rules'),
    (envelope) => envelope.type === 'puhui.rule.published.v1' && envelope.subject === ruleId,
  );
  const rulesetVersion = JSON.parse(publishedEvent?.value ?? '{}').data.ruleset_version as number;
  const discounted = await captureUntil(
    system,
    merchant,
    () => checkoutBody(card, BASKET),
    (response) => response.status === 201 && response.body.discount_minor > 0,
    'a capture with the published rule',
    WITHIN_SECONDS_MS,
  );
  console.log(
    `scenario 1: merchant replicated to settlement in ${replicatedMs} ms; publish → first discounted capture ${Date.now() - publishedAt} ms (${discounted.attempts} capture(s))`,
  );
  expect(discounted.response.body).toMatchObject({
    status: 'captured',
    currency: 'CNY',
    ...EXPECTED,
    budget_exhausted: false,
    no_discount_reason: null,
    ruleset_version: rulesetVersion,
  });
  expect(discounted.response.body.lines).toEqual([
    expect.objectContaining({
      category: 'general',
      amount_minor: 12_345,
      discount_minor: 617,
      applied_rules: [
        {
          rule_id: ruleId,
          version: 1,
          discount_minor: 617,
          union_funded_minor: 247,
          merchant_funded_minor: 370,
          budget_id: budgetId,
          budget_balance_after_minor: BUDGET_MINOR - 247,
        },
      ],
    }),
  ]);
  const stored = looseAnswer(
    await system.clients(merchant.secret)['transaction-settlement'].GET('/v1/checkouts/{id}', {
      params: { path: { id: discounted.response.body.id } },
    }),
  );
  expect(stored.body).toMatchObject({ id: discounted.response.body.id, ...EXPECTED });
  const budget = looseAnswer(
    await system
      .clients(system.finance)
      ['transaction-settlement'].GET('/v1/budgets/{id}', { params: { path: { id: budgetId } } }),
  );
  expect(budget.body.balance_minor).toBe(BUDGET_MINOR - 247);
});

/**
 * Publishes a rule created after the draft, covering only LATER_RULE_LINE, and quotes a basket
 * with that line and a 'general' one until the later rule applies to its line. That quote must
 * show the draft nowhere: the 'general' line undiscounted and the later rule the only one applied.
 */
async function laterRuleSeenAtCheckout(): Promise<{ ruleset_version: number }> {
  const created = await createRule(system, {
    name: '端到端门票9折（草稿之后发布）',
    scope: { merchant_categories: null, merchant_ids: [merchant.merchant_id] },
    item_categories: [LATER_RULE_LINE.category],
    benefit: { type: 'percent_off', bps: 1000 },
    schedule: { valid_from: '2025-01-01T00:00:00+08:00' },
  });
  const laterRuleId = created.body.rule_id as string;
  await publishRule(system, laterRuleId);
  const quoted = await waitFor(
    async () => {
      const response = looseAnswer(
        await system.clients(merchant.secret)['transaction-settlement'].POST('/v1/checkouts/quote', {
          body: checkoutBody(card, [...BASKET, LATER_RULE_LINE]),
        }),
      );
      if (response.status !== 200)
        throw new Error(`quote refused: ${response.status} ${JSON.stringify(response.body)}`);
      return response.body.lines[1]?.discount_minor > 0 ? response : undefined;
    },
    { timeoutMs: WITHIN_SECONDS_MS, intervalMs: 50, description: 'the later rule applied at checkout' },
  );
  expect(quoted.body).toMatchObject({
    gross_minor: 12_345 + LATER_RULE_LINE.amount_minor,
    discount_minor: LATER_RULE_DISCOUNT_MINOR,
    union_funded_minor: 0,
  });
  expect(quoted.body.lines).toEqual([
    expect.objectContaining({ category: 'general', discount_minor: 0, applied_rules: [] }),
    expect.objectContaining({
      category: LATER_RULE_LINE.category,
      discount_minor: LATER_RULE_DISCOUNT_MINOR,
      applied_rules: [
        {
          rule_id: laterRuleId,
          version: 1,
          discount_minor: LATER_RULE_DISCOUNT_MINOR,
          merchant_funded_minor: LATER_RULE_DISCOUNT_MINOR,
          union_funded_minor: 0,
          budget_id: null,
          budget_balance_after_minor: null,
        },
      ],
    }),
  ]);
  return { ruleset_version: quoted.body.ruleset_version as number };
}

e2e(
  'suspending a merchant stops its checkouts within seconds; reinstating lets them through again',
  async () => {
    const before = await capture(system, merchant, checkoutBody(card, BASKET));
    expect(before.status).toBe(201);

    const onboarding = system.clients(system.admin)['merchant-onboarding'];
    const ofMerchant = { params: { path: { id: merchant.merchant_id } } };
    const suspended = looseAnswer(
      await onboarding.POST('/v1/merchants/{id}/suspend', {
        ...ofMerchant,
        body: { reason: '端到端测试：资料复核' },
      }),
    );
    expect(suspended.status).toBe(200);
    expect(suspended.body.status).toBe('suspended');
    const refused = await captureUntil(
      system,
      merchant,
      () => checkoutBody(card, BASKET),
      (response) => response.status === 403,
      'captures refused after the suspension',
      WITHIN_SECONDS_MS,
    );
    console.log(
      `scenario 2: suspension → captures refused after ${refused.elapsedMs} ms (${refused.attempts - 1} capture(s) still taken meanwhile)`,
    );
    expect(refused.elapsedMs).toBeLessThanOrEqual(WITHIN_SECONDS_MS);
    expect(refused.response.contentType).toMatch(PROBLEM_JSON);
    expect(refused.response.body).toMatchObject({ status: 403, code: 'forbidden' });
    expect(refused.response.body.detail).toContain('suspended');
    const stillRefused = await capture(system, merchant, checkoutBody(card, BASKET));
    expect(stillRefused.status).toBe(403);

    const reinstated = looseAnswer(await onboarding.POST('/v1/merchants/{id}/reinstate', ofMerchant));
    expect(reinstated.status).toBe(200);
    expect(reinstated.body.status).toBe('active');
    const accepted = await captureUntil(
      system,
      merchant,
      () => checkoutBody(card, BASKET),
      (response) => response.status === 201,
      'captures accepted after reinstatement',
      WITHIN_SECONDS_MS,
    );
    console.log(`scenario 2: reinstatement → captures accepted after ${accepted.elapsedMs} ms`);
    expect(accepted.response.body).toMatchObject(EXPECTED);
  },
);

e2e('a frozen card gets no discount within seconds, and its discount back once unfrozen', async () => {
  const cards = system.clients(system.admin)['discount-rules'];
  const ofCard = { params: { path: { token: card.card_token } } };
  const frozen = looseAnswer(
    await cards.PATCH('/v1/cards/{token}', { ...ofCard, body: { status: 'frozen' } }),
  );
  expect(frozen.status).toBe(200);
  expect(frozen.body.status).toBe('frozen');
  const undiscounted = await captureUntil(
    system,
    merchant,
    () => checkoutBody(card, BASKET),
    (response) => response.status === 201 && response.body.no_discount_reason === 'card_frozen',
    'a capture without discount for the frozen card',
    WITHIN_SECONDS_MS,
  );
  console.log(
    `scenario 3: freeze → first undiscounted capture after ${undiscounted.elapsedMs} ms (${undiscounted.attempts - 1} discounted meanwhile)`,
  );
  expect(undiscounted.response.body).toMatchObject({
    status: 'captured',
    gross_minor: 12_345,
    discount_minor: 0,
    merchant_funded_minor: 0,
    union_funded_minor: 0,
    net_minor: 12_345,
    no_discount_reason: 'card_frozen',
  });
  expect(undiscounted.response.body.lines).toEqual([
    expect.objectContaining({ discount_minor: 0, applied_rules: [] }),
  ]);

  const thawed = looseAnswer(
    await cards.PATCH('/v1/cards/{token}', { ...ofCard, body: { status: 'active' } }),
  );
  expect(thawed.status).toBe(200);
  const discountedAgain = await captureUntil(
    system,
    merchant,
    () => checkoutBody(card, BASKET),
    (response) => response.status === 201 && response.body.discount_minor > 0,
    'a discounted capture after unfreezing',
    WITHIN_SECONDS_MS,
  );
  expect(discountedAgain.response.body).toMatchObject({ ...EXPECTED, no_discount_reason: null });
});

e2e('every event the scenarios produced is a valid CloudEvent per the cloudevents SDK', async () => {
  const checkouts = await listCheckouts(system, merchant);
  // Everything above is in Kafka: one captured event per checkout, the lifecycle and card changes.
  await events.waitFor(
    system.topic('checkouts'),
    (envelope) => envelope.type === 'puhui.checkout.captured.v1',
    checkouts.length,
  );
  await events.waitFor(
    system.topic('merchants'),
    (envelope) => envelope.type === 'puhui.merchant.reinstated.v1',
  );
  await events.waitFor(system.topic('cards'), (envelope) => envelope.type === 'puhui.card.updated.v1', 2);

  const checked: CheckedEvent[] = events.records.map((record) => checkCloudEvent(record, system.topicPrefix));
  const types = new Map<string, number>();
  for (const { event } of checked) types.set(event.type, (types.get(event.type) ?? 0) + 1);
  console.log(
    `scenario 5: ${checked.length} Kafka records read as valid CloudEvents: ${[...types].map(([type, count]) => `${type} ×${count}`).join(', ')}`,
  );
  expect([...types.keys()].sort()).toEqual(
    [
      'puhui.merchant.approved.v1',
      'puhui.merchant.api_key.created.v1',
      'puhui.merchant.suspended.v1',
      'puhui.merchant.reinstated.v1',
      'puhui.card.registered.v1',
      'puhui.card.updated.v1',
      'puhui.budget.created.v1',
      'puhui.rule.published.v1',
      'puhui.checkout.captured.v1',
    ].sort(),
  );

  // Per aggregate, distinct events carry increasing sequences in the order they sit in their partition.
  const lastSequence = new Map<string, { id: string; sequence: string }>();
  for (const { event, record } of checked) {
    const aggregate = `${record.topic}|${event.subject}`;
    const sequence = String((event as unknown as Record<string, unknown>).sequence);
    const previous = lastSequence.get(aggregate);
    if (previous !== undefined && previous.id !== event.id) expect(sequence > previous.sequence).toBe(true);
    lastSequence.set(aggregate, { id: event.id, sequence });
  }
  // Message keys as DESIGN §3 names them: merchant id for merchants and checkouts, card token, rule/budget id.
  for (const { event, record } of checked) {
    const data = event.data as Record<string, unknown>;
    const expectedKey = record.topic === system.topic('checkouts') ? data.merchant_id : event.subject;
    expect(record.key).toBe(expectedKey);
  }
  // The check is not vacuous: without the structured-mode content-type header the SDK does not read a message.
  const sample = checked[0]?.record;
  expect(sample).toBeDefined();
  if (sample !== undefined) {
    expect(() => checkCloudEvent({ ...sample, headers: {} }, system.topicPrefix)).toThrow(
      /does not recognise/u,
    );
  }
  // One captured event per checkout, with the checkout's figures.
  const captured = checked.filter(({ event }) => event.type === 'puhui.checkout.captured.v1');
  for (const checkout of checkouts) {
    const mine = captured.filter(
      ({ event }) => (event.data as { checkout_id: string }).checkout_id === checkout.id,
    );
    expect(new Set(mine.map(({ event }) => event.id)).size).toBe(1);
    expect(mine[0]?.event.data).toMatchObject({
      checkout_id: checkout.id,
      merchant_id: merchant.merchant_id,
      gross_minor: checkout.gross_minor,
      discount_minor: checkout.discount_minor,
      net_minor: checkout.net_minor,
    });
  }
});
