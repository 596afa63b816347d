/**
 * Issue 14: a capture needs the card present. Shown on a running system before: a merchant read
 * `card_token` from its own GET /v1/checkouts and captured with only that token, earning a union
 * subsidy with no card present. Merchants now send the card number and never see the token.
 */
import { randomUUID } from 'node:crypto';
import { SettlementHarness, percentOffRule, useHarness } from './support';
import type { TestCard, TestMerchant } from './support';

const harness = new SettlementHarness();
let shop: TestMerchant;
let pharmacy: TestMerchant;
let card: TestCard;

useHarness(harness, async () => {
  shop = await harness.addMerchant('supermarket');
  pharmacy = await harness.addMerchant('pharmacy');
  card = await harness.addCard(41, [percentOffRule({ category: 'supermarket', bps: 500 })]);
});

const sale = (card: Record<string, string>) => ({
  ...card,
  currency: 'CNY',
  reference: `R-${randomUUID()}`,
  lines: [{ category: 'general', amount_minor: 10_000 }],
});

it('refuses a capture or quote by card token from a merchant key, naming card_token, and posts nothing', async () => {
  for (const path of ['/v1/checkouts', '/v1/checkouts/quote']) {
    const response = await harness.call('POST', path, {
      token: shop.secret,
      idempotencyKey: randomUUID(),
      body: sale({ card_token: card.card_token }),
    });
    expect(response.status).toBe(400);
    expect(response.body.invalid_params.map((param: { name: string }) => param.name)).toEqual([
      'card_token',
      'card_number',
    ]);
  }
  const rows = await harness.query<{ count: number }>('SELECT count(*)::int AS count FROM checkouts');
  expect(rows[0]?.count).toBe(0);
});

it('shows merchants a handle of the card scoped to them, never the programme-wide token; finance sees the token', async () => {
  const first = await harness.call('POST', '/v1/checkouts', {
    token: shop.secret,
    idempotencyKey: randomUUID(),
    body: sale({ card_number: card.card_number }),
  });
  const second = await harness.call('POST', '/v1/checkouts', {
    token: shop.secret,
    idempotencyKey: randomUUID(),
    body: sale({ card_number: card.card_number }),
  });
  expect(first.status).toBe(201);
  expect(first.body.card_handle).toMatch(/^mch_card_[0-9a-f]{32}$/u);
  expect(second.body.card_handle).toBe(first.body.card_handle);
  const answers = [
    first,
    await harness.call('GET', `/v1/checkouts/${first.body.id}`, { token: shop.secret }),
    await harness.call('GET', '/v1/checkouts', { token: shop.secret }),
    await harness.call('POST', `/v1/checkouts/${second.body.id}/void`, {
      token: shop.secret,
      idempotencyKey: randomUUID(),
    }),
  ];
  for (const answer of answers) {
    expect(answer.status).toBeLessThan(300);
    expect(answer.text).not.toContain(card.card_token);
    expect(answer.text).toContain(first.body.card_handle);
  }
  // The same card at another merchant has another handle: it links nothing across merchants.
  const elsewhere = await harness.call('POST', '/v1/checkouts', {
    token: pharmacy.secret,
    idempotencyKey: randomUUID(),
    body: sale({ card_number: card.card_number }),
  });
  expect(elsewhere.status).toBe(201);
  expect(elsewhere.body.card_handle).not.toBe(first.body.card_handle);
  const asFinance = await harness.call('GET', `/v1/checkouts/${first.body.id}`, { token: harness.finance });
  expect(asFinance.body.card_token).toBe(card.card_token);
  expect(asFinance.body.card_handle).toBeUndefined();
});
