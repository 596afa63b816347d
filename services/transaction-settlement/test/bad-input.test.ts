import { randomUUID } from 'node:crypto';
import { DEVELOPMENT_SERVICE_CREDENTIAL } from '@puhui/security';
import { SettlementHarness, percentOffRule, useHarness } from './support';
import type { TestCard, TestMerchant } from './support';

const harness = new SettlementHarness();
let merchant: TestMerchant;
let card: TestCard;
const rule = percentOffRule({ category: 'supermarket', bps: 500 });

useHarness(harness, async () => {
  merchant = await harness.addMerchant('supermarket');
  card = await harness.addCard(10, [rule]);
});

const body = (overrides: Record<string, unknown> = {}) => ({
  card_number: card.card_number,
  currency: 'CNY',
  reference: `R-${randomUUID()}`,
  lines: [{ category: 'general', amount_minor: 3555 }],
  ...overrides,
});
const capture = (payload: unknown, idempotencyKey: string | null = randomUUID(), token = merchant.secret) =>
  harness.call('POST', '/v1/checkouts', {
    token,
    body: payload,
    ...(idempotencyKey === null ? {} : { idempotencyKey }),
  });

async function postedCount(): Promise<number> {
  const rows = await harness.query<{ count: number }>('SELECT count(*)::int AS count FROM ledger_transfers');
  return rows[0]?.count ?? 0;
}

describe('bad input posts nothing', () => {
  it.each([
    ['a zero amount', { lines: [{ category: 'general', amount_minor: 0 }] }, 'lines.0.amount_minor'],
    ['a negative amount', { lines: [{ category: 'general', amount_minor: -100 }] }, 'lines.0.amount_minor'],
    ['a fractional amount', { lines: [{ category: 'general', amount_minor: 10.5 }] }, 'lines.0.amount_minor'],
    [
      'an amount beyond 10^12 fen',
      { lines: [{ category: 'general', amount_minor: 1_000_000_000_001 }] },
      'lines.0.amount_minor',
    ],
    ['an unknown category', { lines: [{ category: 'casino_chips', amount_minor: 100 }] }, 'lines.0.category'],
    ['another currency', { currency: 'USD' }, 'currency'],
    ['no lines', { lines: [] }, 'lines'],
    ['an unknown field', { tip_minor: 100 }, 'tip_minor'],
    ['an invalid card number', { card_number: '6222021234567890' }, 'card_number'],
  ])('refuses %s with a 400 naming the field', async (_what, overrides, field) => {
    const before = await postedCount();
    const response = await capture(body(overrides));
    expect(response.status).toBe(400);
    expect(response.headers.get('content-type')).toMatch(/application\/problem\+json/);
    expect(response.body.invalid_params.map((param: { name: string }) => param.name)).toContain(field);
    expect(await postedCount()).toBe(before);
  });

  it('names a line beyond 10^12 fen alone, and lines adding up beyond it as lines', async () => {
    const before = await postedCount();
    const names = async (lines: unknown) =>
      ((await capture(body({ lines }))).body.invalid_params as Array<{ in: string; name: string }>).map(
        (param) => `${param.in} ${param.name}`,
      );
    // Beyond the limit: the total is beyond it too, yet the field to fix is the line's.
    expect(await names([{ category: 'general', amount_minor: 1_000_000_000_001 }])).toEqual([
      'body lines.0.amount_minor',
    ]);
    expect(
      await names([
        { category: 'general', amount_minor: 600_000_000_000 },
        { category: 'general', amount_minor: 600_000_000_000 },
      ]),
    ).toEqual(['body lines']);
    expect(await postedCount()).toBe(before);
  });

  it('needs an Idempotency-Key to capture', async () => {
    const response = await capture(body(), null);
    expect(response.status).toBe(400);
    expect(response.body.invalid_params).toEqual([
      expect.objectContaining({ in: 'header', name: 'idempotency-key' }),
    ]);
  });

  it('refuses an unknown card with a 422', async () => {
    const stranger = await harness.addCard(11, [rule], {}, false);
    harness.rules.sheets.delete(stranger.card_token);
    const before = await postedCount();
    const response = await capture(body({ card_number: stranger.card_number }));
    expect(response.status).toBe(422);
    expect(response.body.code).toBe('unknown_card');
    expect(await postedCount()).toBe(before);
  });

  it('captures a frozen card without discount and says why', async () => {
    const frozen = await harness.addCard(12, [rule], { status: 'frozen' });
    const response = await capture(body({ card_number: frozen.card_number }));
    expect(response.status).toBe(201);
    expect(response.body).toMatchObject({
      discount_minor: 0,
      net_minor: 3555,
      no_discount_reason: 'card_frozen',
    });
  });

  it('refuses a refund beyond what remains, and a void after settlement', async () => {
    const captured = await capture(body());
    const id = captured.body.id as string;
    const tooMuch = await harness.call('POST', `/v1/checkouts/${id}/refunds`, {
      token: merchant.secret,
      idempotencyKey: randomUUID(),
      body: { amount_minor: 3556 },
    });
    expect(tooMuch.status).toBe(422);
    expect(tooMuch.body.code).toBe('refund_exceeds_remaining');
    // Yesterday's sale, settled: too late to void.
    await harness.query('UPDATE checkouts SET business_date = business_date - 1 WHERE checkout_id = $1', [
      id,
    ]);
    const yesterday = (
      await harness.query<{ day: string }>(
        "SELECT to_char(business_date, 'YYYY-MM-DD') AS day FROM checkouts WHERE checkout_id = $1",
        [id],
      )
    )[0]?.day;
    const run = await harness.call('POST', '/v1/settlement_runs', {
      token: harness.finance,
      body: { business_date: yesterday },
    });
    expect(run.status).toBe(201);
    const before = await postedCount();
    const voided = await harness.call('POST', `/v1/checkouts/${id}/void`, {
      token: merchant.secret,
      idempotencyKey: randomUUID(),
    });
    expect(voided.status).toBe(409);
    expect(voided.body.code).toBe('void_window_closed');
    expect(await postedCount()).toBe(before);
  });

  it('voids a fresh checkout in full, reversing every transfer', async () => {
    const captured = await capture(body());
    const voided = await harness.call('POST', `/v1/checkouts/${captured.body.id}/void`, {
      token: merchant.secret,
      idempotencyKey: randomUUID(),
    });
    expect(voided.status).toBe(200);
    expect(voided.body.status).toBe('voided');
    const sums = await harness.query<{ kind: string; total: string }>(
      'SELECT kind, sum(amount_minor)::text AS total FROM ledger_transfers WHERE checkout_id = $1 GROUP BY kind ORDER BY kind',
      [captured.body.id],
    );
    expect(sums).toEqual([
      { kind: 'capture_merchant_funded', total: '178' },
      { kind: 'capture_net', total: '3377' },
      { kind: 'refund_merchant_funded', total: '178' },
      { kind: 'refund_net', total: '3377' },
    ]);
  });
});

describe('merchants and availability', () => {
  it("hides another merchant's checkout (404) and refuses a suspended merchant (403)", async () => {
    const other = await harness.addMerchant('supermarket');
    const captured = await capture(body());
    const peek = await harness.call('GET', `/v1/checkouts/${captured.body.id}`, { token: other.secret });
    expect(peek.status).toBe(404);
    await harness.suspendMerchant(other.merchant_id);
    const deadline = Date.now() + 10_000;
    let response = await capture(body(), randomUUID(), other.secret);
    while (response.status !== 403 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      response = await capture(body({ reference: `R-${randomUUID()}` }), randomUUID(), other.secret);
    }
    expect(response.status).toBe(403);
  });

  it('reads a rate sheet through from discount-rules on a cache miss, and answers 503 when neither answers', async () => {
    const uncached = await harness.addCard(13, [rule], {}, false);
    const callsBefore = harness.rules.calls;
    const served = await capture(body({ card_number: uncached.card_number }));
    expect(served.status).toBe(201);
    expect(served.body.discount_minor).toBe(178);
    expect(harness.rules.calls).toBe(callsBefore + 1);
    // With its own service credential, not a person's token it could mint.
    expect(harness.rules.lastAuthorization).toBe(`Bearer ${DEVELOPMENT_SERVICE_CREDENTIAL}`);

    const another = await harness.addCard(14, [rule], {}, false);
    harness.rules.mode = 'down';
    const before = await postedCount();
    const refused = await capture(body({ card_number: another.card_number }));
    expect(refused.status).toBe(503);
    expect(refused.body.code).toBe('rate_sheet_unavailable');
    expect(await postedCount()).toBe(before);
    harness.rules.mode = 'up';
  });
});
