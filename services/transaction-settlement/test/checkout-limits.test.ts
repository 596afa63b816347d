/**
 * Issue 14: bounds on what one checkout may claim. Shown on a running system before: a
 * ¥10,000,000,000 capture was accepted, and nothing limited how often one card drew a subsidy.
 */
import { randomUUID } from 'node:crypto';
import {
  CHECKOUT_GROSS_MINOR_MAX_BY_CATEGORY,
  CHECKOUT_QUANTITY_TOTAL_MAX,
} from '../src/domain/checkout-limits';
import { SettlementHarness, percentOffRule, unionFundedRule, useHarness } from './support';
import type { TestMerchant } from './support';

const harness = new SettlementHarness();
let merchant: TestMerchant;
/** The service's default, UNION_FUNDED_CAPTURES_PER_CARD_HOUR_MAX. */
const VELOCITY_MAX = 10;

useHarness(harness, async () => {
  merchant = await harness.addMerchant('supermarket');
});

const capture = (cardNumber: string, lines: unknown[]) =>
  harness.captureLines(merchant.secret, cardNumber, lines);

async function postedCount(): Promise<number> {
  const rows = await harness.query<{ count: number }>('SELECT count(*)::int AS count FROM ledger_transfers');
  return rows[0]?.count ?? 0;
}

it("refuses a checkout over its merchant category's gross ceiling with a 422 naming the lines, posting nothing", async () => {
  const card = await harness.addCard(31, [percentOffRule({ category: 'supermarket', bps: 500 })]);
  const ceiling = CHECKOUT_GROSS_MINOR_MAX_BY_CATEGORY.supermarket;
  const before = await postedCount();
  for (const lines of [
    [{ category: 'general', amount_minor: 1_000_000_000_000 }],
    [
      { category: 'general', amount_minor: ceiling },
      { category: 'general', amount_minor: 1 },
    ],
  ]) {
    for (const path of ['/v1/checkouts', '/v1/checkouts/quote']) {
      const response = await harness.call('POST', path, {
        token: merchant.secret,
        idempotencyKey: randomUUID(),
        body: { card_number: card.card_number, currency: 'CNY', reference: `R-${randomUUID()}`, lines },
      });
      expect(response.status).toBe(422);
      expect(response.body).toMatchObject({ code: 'checkout_gross_exceeds_limit', gross_minor_max: ceiling });
      expect(response.body.invalid_params[0].name).toBe('lines');
    }
  }
  expect(await postedCount()).toBe(before);
  expect((await capture(card.card_number, [{ category: 'general', amount_minor: ceiling }])).status).toBe(
    201,
  );
});

it('refuses more units in one checkout than the bound', async () => {
  const card = await harness.addCard(32, [percentOffRule({ category: 'supermarket', bps: 500 })]);
  const half = CHECKOUT_QUANTITY_TOTAL_MAX / 2;
  const response = await capture(card.card_number, [
    { category: 'general', amount_minor: 1_000, quantity: half },
    { category: 'general', amount_minor: 1_000, quantity: half + 1 },
  ]);
  expect(response.status).toBe(422);
  expect(response.body).toMatchObject({ code: 'checkout_quantity_exceeds_limit' });
});

it('grants one card at most N union-funded checkouts an hour, exactly, even when they race', async () => {
  const budgetId = await harness.fundedBudget('velocity', 10_000_000);
  const card = await harness.addCard(33, [unionFundedRule(budgetId, 1000, 10_000)]);
  const lines = [{ category: 'general', amount_minor: 10_000 }];
  const answers = await Promise.all(
    Array.from({ length: VELOCITY_MAX + 5 }, () => capture(card.card_number, lines)),
  );
  const statuses = answers.map((answer) => answer.status);
  expect(statuses.filter((status) => status === 201)).toHaveLength(VELOCITY_MAX);
  const refused = answers.filter((answer) => answer.status === 422);
  expect(refused).toHaveLength(5);
  for (const answer of refused) {
    expect(answer.body).toMatchObject({
      code: 'card_velocity_exceeded',
      union_funded_captures_per_hour_max: VELOCITY_MAX,
    });
  }
  // A card without a subsidy at stake is not limited: another card, a merchant-funded rule.
  const plain = await harness.addCard(34, [percentOffRule({ category: 'supermarket', bps: 500 })]);
  for (let index = 0; index <= VELOCITY_MAX; index += 1) {
    expect((await capture(plain.card_number, lines)).status).toBe(201);
  }
});
