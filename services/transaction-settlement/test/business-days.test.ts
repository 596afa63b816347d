import { randomUUID } from 'node:crypto';
import { FINANCE, percentOffRule, SettlementHarness, useHarness } from './support';
import type { TestCard, TestMerchant } from './support';

const harness = new SettlementHarness();
let shop: TestMerchant;
let card: TestCard;

useHarness(harness, async () => {
  shop = await harness.addMerchant('supermarket');
  card = await harness.addCard(300, [percentOffRule({ category: 'supermarket', bps: 500 })]);
});

const capture = (amount: number) =>
  harness.captureLines(shop.secret, card.card_number, [{ category: 'general', amount_minor: amount }]);
const close = (date: string, token = harness.finance) =>
  harness.call('POST', `/v1/business_days/${date}/close`, { token });
const openDay = async (): Promise<string> =>
  (await harness.call('GET', '/v1/business_days/current', { token: harness.finance })).body
    .business_date as string;
const nextDay = (date: string) =>
  new Date(Date.parse(`${date}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10);

describe('closing a business day early', () => {
  it('moves later captures, refunds and voids to the next day and lets finance settle the closed one', async () => {
    const current = await harness.call('GET', '/v1/business_days/current', { token: shop.secret });
    expect(current.status).toBe(200);
    const day = current.body.business_date as string;
    expect(current.body).toMatchObject({ object: 'business_day', status: 'open', closed_at: null });
    expect(Date.parse(current.body.closes_at as string)).toBeGreaterThan(Date.now());

    const before = await capture(10_000);
    expect(before.status).toBe(201);

    expect((await close(day, harness.admin)).status).toBe(403);
    expect((await close(day, shop.secret)).status).toBe(403);
    expect((await close(nextDay(day))).body.code).toBe('business_day_not_open');
    expect(
      (
        await harness.call('POST', '/v1/settlement_runs', {
          token: harness.finance,
          body: { business_date: day },
        })
      ).body.code,
    ).toBe('business_day_open');

    const closed = await close(day);
    expect(closed.status).toBe(201);
    expect(closed.body).toMatchObject({
      business_date: day,
      status: 'closed',
      closed_by: `operator:${FINANCE}`,
      open_business_date: nextDay(day),
    });
    const again = await close(day);
    expect(again.status).toBe(200);
    expect(again.body.closed_at).toBe(closed.body.closed_at);
    expect(await openDay()).toBe(nextDay(day));

    const after = await capture(4_000);
    const voided = await harness.call('POST', `/v1/checkouts/${before.body.id as string}/void`, {
      token: shop.secret,
      idempotencyKey: randomUUID(),
    });
    expect(voided.status).toBe(409);
    expect(voided.body.code).toBe('void_window_closed');
    const refund = await harness.call('POST', `/v1/checkouts/${before.body.id as string}/refunds`, {
      token: shop.secret,
      idempotencyKey: randomUUID(),
      body: { amount_minor: 1_000 },
    });
    expect(refund.status).toBe(201);
    const dates = await harness.query<{ id: string; day: string }>(
      `SELECT checkout_id AS id, to_char(business_date, 'YYYY-MM-DD') AS day FROM checkouts
       UNION ALL SELECT refund_id, to_char(business_date, 'YYYY-MM-DD') FROM refunds`,
    );
    expect(Object.fromEntries(dates.map((row) => [row.id, row.day]))).toEqual({
      [before.body.id as string]: day,
      [after.body.id as string]: nextDay(day),
      [refund.body.id as string]: nextDay(day),
    });

    const run = await harness.call('POST', '/v1/settlement_runs', { token: harness.finance });
    expect(run.status).toBe(201);
    expect(run.body).toMatchObject({ business_date: day, batches_created: 1 });
    expect(run.body.batches[0]).toMatchObject({ capture_count: 1, refund_count: 0, gross_minor: 10_000 });
  });

  it('cuts exactly: no capture dated on a closed day is committed after its settlement run', async () => {
    const day = await openDay();
    const captures = Array.from({ length: 30 }, (_, index) => capture(1_000 + index));
    const closing = (async () => {
      await new Promise((resolve) => setTimeout(resolve, 20));
      const closed = await close(day);
      return harness.call('POST', '/v1/settlement_runs', {
        token: harness.finance,
        body: { business_date: closed.body.business_date as string },
      });
    })();
    const [run, ...results] = await Promise.all([closing, ...captures]);
    expect(results.map((result) => result.status)).toEqual(results.map(() => 201));
    expect(run.status).toBe(201);
    const stragglers = await harness.query(
      'SELECT checkout_id FROM checkouts WHERE business_date <= $1 AND settlement_batch_id IS NULL',
      [day],
    );
    expect(stragglers).toEqual([]);
    const sides = await harness.query<{ day: string; settled: boolean; n: number }>(
      `SELECT to_char(business_date, 'YYYY-MM-DD') AS day, settlement_batch_id IS NOT NULL AS settled,
              count(*)::int AS n
         FROM checkouts WHERE gross_minor BETWEEN 1000 AND 1029 GROUP BY 1, 2 ORDER BY 1`,
    );
    // Each capture landed wholly on one side of the cut: settled on the closed day, or open on the next.
    for (const side of sides) expect(side.settled).toBe(side.day === day);
    expect(sides.every((side) => side.day === day || side.day === nextDay(day))).toBe(true);
    expect(sides.reduce((sum, side) => sum + side.n, 0)).toBe(30);
  });

  it('keeps closures for good', async () => {
    await expect(harness.query('DELETE FROM business_day_closures')).rejects.toThrow(/stays closed/u);
    await expect(harness.query("UPDATE business_day_closures SET closed_by = 'x'")).rejects.toThrow(
      /stays closed/u,
    );
  });
});
