/**
 * The cut between two business days is exact (DESIGN §6, migration 0005), shown with captures
 * forced onto both sides of a closure rather than raced against it: one committed before, one
 * dated before the closure but still committing while finance closes the day, one that starts
 * while the closure waits, and one after. Each must land, and settle, on its own side.
 */
import { Client } from 'pg';
import { waitFor } from '@puhui/testing';
import { SettlementHarness, percentOffRule, useHarness } from './support';
import type { ApiResponse, TestCard, TestMerchant } from './support';

const harness = new SettlementHarness();
let early: TestMerchant;
let late: TestMerchant;
let earlyCard: TestCard;
let lateCard: TestCard;

useHarness(harness, async () => {
  // Two merchants: a capture locks its merchant's accounts before it dates itself, so the
  // capture that starts during the closure must not queue behind the held one on those.
  early = await harness.addMerchant('supermarket');
  late = await harness.addMerchant('supermarket');
  earlyCard = await harness.addCard(400, [percentOffRule({ category: 'supermarket', bps: 500 })]);
  lateCard = await harness.addCard(401, [percentOffRule({ category: 'supermarket', bps: 500 })]);
});

const nextDay = (date: string) =>
  new Date(Date.parse(`${date}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10);

/** How many of this test's database sessions wait for a lock of `kind`, on a statement matching `statement`. */
async function waiting(kind: 'advisory' | 'transactionid', statement: string): Promise<number> {
  const database = new URL(harness.databaseUrl).pathname.slice(1);
  const rows = await harness.query<{ count: number }>(
    `SELECT count(*)::int AS count FROM pg_stat_activity
      WHERE datname = $1 AND wait_event_type = 'Lock' AND wait_event = $2 AND query ILIKE $3`,
    [database, kind, `%${statement}%`],
  );
  return rows[0]?.count ?? 0;
}

/** Settles once `promise` settles, so a test can tell whether it is still pending. */
function tracked<T>(promise: Promise<T>): { promise: Promise<T>; done: () => boolean } {
  let settled = false;
  void promise.finally(() => {
    settled = true;
  });
  return { promise, done: () => settled };
}

describe('closing a business day', () => {
  it('cuts exactly: a capture dated before the closure settles with the closed day, one begun during it opens the next', async () => {
    const current = await harness.call('GET', '/v1/business_days/current', { token: harness.finance });
    const day = current.body.business_date as string;

    const before = await harness.captureSale(early, earlyCard, 1_100);
    expect(before.status).toBe(201);

    // Hold the acquirer clearing account's row: a capture posts to it last, just before it
    // commits, so the next capture dates itself on the open day and then waits, uncommitted.
    const holder = new Client({ connectionString: harness.databaseUrl });
    await holder.connect();
    let inFlight: ReturnType<typeof tracked<ApiResponse>>;
    let closing: ReturnType<typeof tracked<ApiResponse>>;
    let during: ReturnType<typeof tracked<ApiResponse>>;
    try {
      await holder.query('BEGIN');
      await holder.query("SELECT 1 FROM ledger_accounts WHERE account_code = 'acquirer:clearing' FOR UPDATE");
      inFlight = tracked(harness.captureSale(early, earlyCard, 1_200));
      await waitFor(async () => (await waiting('transactionid', 'INSERT INTO ledger_transfers')) === 1, {
        description: 'the capture dated and waiting to post',
      });

      // The closure must wait for the capture already dated on the day it closes.
      closing = tracked(harness.call('POST', `/v1/business_days/${day}/close`, { token: harness.finance }));
      await waitFor(
        async () => closing.done() || (await waiting('advisory', 'pg_advisory_xact_lock')) === 1,
        { description: 'the closure waiting for the dated capture' },
      );
      expect(closing.done()).toBe(false);

      // A capture that starts now queues behind the closure and must see it.
      during = tracked(harness.captureSale(late, lateCard, 1_300));
      await waitFor(async () => (await waiting('advisory', 'open_business_date')) === 1, {
        description: 'the later capture queued behind the closure',
      });
      expect([inFlight.done(), closing.done(), during.done()]).toEqual([false, false, false]);
    } finally {
      await holder.query('COMMIT');
      await holder.end();
    }

    const [inFlightAnswer, closed, duringAnswer] = await Promise.all([
      inFlight.promise,
      closing.promise,
      during.promise,
    ]);
    expect([inFlightAnswer.status, closed.status, duringAnswer.status]).toEqual([201, 201, 201]);
    expect(closed.body).toMatchObject({ business_date: day, status: 'closed' });
    const after = await harness.captureSale(early, earlyCard, 1_400);
    expect(after.status).toBe(201);

    const run = await harness.call('POST', '/v1/settlement_runs', {
      token: harness.finance,
      body: { business_date: day },
    });
    expect(run.status).toBe(201);
    const sides = await harness.query<{ id: string; day: string; settled: boolean }>(
      `SELECT checkout_id AS id, to_char(business_date, 'YYYY-MM-DD') AS day,
              settlement_batch_id IS NOT NULL AS settled FROM checkouts`,
    );
    expect(Object.fromEntries(sides.map((side) => [side.id, [side.day, side.settled]]))).toEqual({
      [before.body.id as string]: [day, true],
      [inFlightAnswer.body.id as string]: [day, true],
      [duringAnswer.body.id as string]: [nextDay(day), false],
      [after.body.id as string]: [nextDay(day), false],
    });
    // The closed day's batch holds exactly the two sales dated before the closure.
    expect(run.body.batches).toEqual([
      expect.objectContaining({ merchant_id: early.merchant_id, capture_count: 2, gross_minor: 2_300 }),
    ]);
  });
});
