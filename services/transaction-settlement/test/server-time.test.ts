/**
 * Issue 14: the server, not the POS, decides when a checkout happened for schedules, caps and
 * usage periods (DESIGN §4.0). Shown on a running system before: a card with a ¥50-a-month
 * subsidy got it again for each month a capture was back-dated, a weekend-only rule could be
 * claimed on a Tuesday, and a quote dated 2000-01-01 was accepted.
 */
import { randomUUID } from 'node:crypto';
import { OCCURRED_AT_WINDOW_MS } from '../src/domain/checkout-limits';
import { SettlementHarness, percentOffRule, useHarness } from './support';
import type { TestMerchant } from './support';

const harness = new SettlementHarness();
let merchant: TestMerchant;
const MINUTE_MS = 60_000;
const DAY_MS = 24 * 60 * MINUTE_MS;

useHarness(harness, async () => {
  merchant = await harness.addMerchant('supermarket');
});

const at = (offsetMs: number) => new Date(Date.now() + offsetMs).toISOString();

function checkout(cardNumber: string, occurredAt?: string) {
  return {
    card_number: cardNumber,
    currency: 'CNY',
    reference: `R-${randomUUID()}`,
    ...(occurredAt === undefined ? {} : { occurred_at: occurredAt }),
    lines: [{ category: 'general', amount_minor: 100_000 }],
  };
}
const capture = (body: unknown, idempotencyKey = randomUUID()) =>
  harness.call('POST', '/v1/checkouts', { token: merchant.secret, idempotencyKey, body });

async function postedCount(): Promise<number> {
  const rows = await harness.query<{ count: number }>('SELECT count(*)::int AS count FROM ledger_transfers');
  return rows[0]?.count ?? 0;
}

it('refuses an occurred_at beyond the window, either way, with a 422 naming it, and posts nothing', async () => {
  const card = await harness.addCard(21, [percentOffRule({ category: 'supermarket', bps: 1000 })]);
  const before = await postedCount();
  for (const occurredAt of [
    at(-40 * DAY_MS),
    at(-OCCURRED_AT_WINDOW_MS - MINUTE_MS),
    at(OCCURRED_AT_WINDOW_MS + MINUTE_MS),
    '2000-01-01T00:00:00+08:00',
  ]) {
    for (const path of ['/v1/checkouts', '/v1/checkouts/quote']) {
      const response = await harness.call('POST', path, {
        token: merchant.secret,
        idempotencyKey: randomUUID(),
        body: checkout(card.card_number, occurredAt),
      });
      expect(response.status).toBe(422);
      expect(response.body).toMatchObject({ code: 'occurred_at_out_of_window', window_minutes: 15 });
      expect(response.body.invalid_params.map((param: { name: string }) => param.name)).toEqual([
        'occurred_at',
      ]);
    }
  }
  expect(await postedCount()).toBe(before);
  const inside = await capture(checkout(card.card_number, at(-OCCURRED_AT_WINDOW_MS + MINUTE_MS)));
  expect(inside.status).toBe(201);
  expect(inside.body.discount_minor).toBe(10_000);
});

it('grants a monthly capped subsidy once per month of the capture time, however the POS dates it', async () => {
  const cap = percentOffRule({
    category: 'supermarket',
    bps: 1000,
    caps: { per_transaction_minor: null, per_card_day_minor: null, per_card_month_minor: 5_000 },
  });
  const card = await harness.addCard(22, [cap]);
  const first = await capture(checkout(card.card_number));
  expect(first.body.discount_minor).toBe(5_000);
  // Dated a few minutes back (inside the window) or not at all: the same month, the cap is spent.
  const again = await capture(checkout(card.card_number, at(-10 * MINUTE_MS)));
  expect(again.status).toBe(201);
  expect(again.body.discount_minor).toBe(0);
  const backDated = await capture(checkout(card.card_number, at(-35 * DAY_MS)));
  expect(backDated.status).toBe(422);
});

it('evaluates a schedule at the capture time, not at an occurred_at inside the window', async () => {
  // Ended a minute ago: a POS dating the sale five minutes back would have been inside it.
  const ended = percentOffRule({
    category: 'supermarket',
    bps: 2000,
    schedule: {
      valid_from: '2020-01-01T00:00:00+08:00',
      valid_to: at(-MINUTE_MS),
      days_of_week: null,
      time_of_day: null,
    },
  });
  // Starts in ten minutes: a POS dating the sale twelve minutes ahead would have been inside it.
  const upcoming = percentOffRule({
    category: 'supermarket',
    bps: 3000,
    schedule: { valid_from: at(10 * MINUTE_MS), valid_to: null, days_of_week: null, time_of_day: null },
  });
  const card = await harness.addCard(23, [ended, upcoming]);
  for (const occurredAt of [at(-5 * MINUTE_MS), at(12 * MINUTE_MS)]) {
    const quote = await harness.call('POST', '/v1/checkouts/quote', {
      token: merchant.secret,
      body: checkout(card.card_number, occurredAt),
    });
    expect(quote.status).toBe(200);
    expect(quote.body.discount_minor).toBe(0);
    const captured = await capture(checkout(card.card_number, occurredAt));
    expect(captured.status).toBe(201);
    expect(captured.body.discount_minor).toBe(0);
    // The POS's time is kept as information.
    expect(captured.body.occurred_at).toBe(occurredAt);
  }
});

it('answers a retry of a stored capture with its answer even after the window has passed', async () => {
  const card = await harness.addCard(24, [percentOffRule({ category: 'supermarket', bps: 1000 })]);
  const key = randomUUID();
  const body = checkout(card.card_number, at(-OCCURRED_AT_WINDOW_MS + 2_000));
  const first = await capture(body, key);
  expect(first.status).toBe(201);
  // Wait until the same occurred_at is outside the window: a new capture would be refused…
  await new Promise((resolve) => setTimeout(resolve, 3_000));
  expect((await capture({ ...body, reference: `R-${randomUUID()}` })).status).toBe(422);
  // …but the retry with its key is the stored answer.
  const retry = await capture(body, key);
  expect(retry.status).toBe(201);
  expect(retry.headers.get('idempotent-replayed')).toBe('true');
  expect(retry.body).toEqual(first.body);
});
