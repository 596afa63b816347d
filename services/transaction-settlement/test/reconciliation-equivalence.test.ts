/**
 * The service applies the reference rules in SQL and streams the rest through the matcher; the
 * domain module states all the rules in memory. Random statements, full of near misses (shared
 * cards and amounts, partial refunds, garbled references, duplicates, times at the edge of the
 * tolerance), must come out the same both ways.
 */
import { newId } from '@puhui/contracts';
import { businessDate, parseCutoff } from '../src/domain/business-day';
import { reconcileStatement } from '../src/domain/reconciliation';
import { isLineProblem, readStatementLine } from '../src/domain/reconciliation-statement';
import type { ItemOutcome, LedgerItem, MatchableLine } from '../src/domain/reconciliation';
import { SettlementHarness, useHarness } from './support';
import { allItems, insertLedgerItems, statementCsv, uploadStatement } from './reconciliation-support';
import type { JsonObject, LedgerCapture, LedgerRefund, StatementRow } from './reconciliation-support';

const harness = new SettlementHarness();
const MINUTE_MS = 60_000;
const TOLERANCE_MS = 15 * MINUTE_MS;
const CAPTURES = 300;
let merchants: string[] = [];

useHarness(harness, async () => {
  merchants = [
    (await harness.addMerchant('supermarket')).merchant_id,
    (await harness.addMerchant('pharmacy')).merchant_id,
  ];
});

/** mulberry32: a seeded generator, so that a failing statement can be made again. */
function generator(seed: number) {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    pick: <T>(values: readonly T[]): T => values[Math.floor(next() * values.length)] as T,
    between: (low: number, high: number) => low + Math.floor(next() * (high - low + 1)),
  };
}
type Random = ReturnType<typeof generator>;

/** A future business day: the automatic settlement (which settles the last closed day) leaves it alone. */
function dayAfterToday(days: number): string {
  const today = businessDate(new Date(), parseCutoff('23:00'));
  return new Date(Date.parse(`${today}T00:00:00Z`) + days * 24 * 60 * MINUTE_MS).toISOString().slice(0, 10);
}

/**
 * Times in whole milliseconds, or for odd seeds in whole minutes: then lines and items often
 * share a time, or lie exactly the tolerance apart, and ties are decided by the rules' order.
 */
function timeStep(seed: number): number {
  return seed % 2 === 1 ? MINUTE_MS : 1;
}

function randomLedger(random: Random, date: string, step: number) {
  const noon = Date.parse(`${date}T12:00:00+08:00`);
  const captures: LedgerCapture[] = [];
  const refunds: LedgerRefund[] = [];
  for (let index = 0; index < CAPTURES; index += 1) {
    const capture: LedgerCapture = {
      checkout_id: newId('chk'),
      merchant_id: random.pick(merchants),
      card_last4: random.pick(['1111', '2222', '3333']),
      reference: `REF-${date}-${index}`,
      net_minor: random.pick([0, 900, 1000, 1000, 2500]),
      discount_minor: random.pick([0, 100]),
      voided: random.next() < 0.1,
      occurred_at: new Date(noon + random.between(0, (120 * MINUTE_MS) / step) * step).toISOString(),
      business_date: date,
    };
    if (capture.net_minor + capture.discount_minor === 0) capture.discount_minor = 100;
    captures.push(capture);
    for (let refund = 0; !capture.voided && refund < random.pick([0, 0, 0, 1, 2]); refund += 1) {
      refunds.push({
        refund_id: newId('ref'),
        checkout_id: capture.checkout_id,
        merchant_id: capture.merchant_id,
        member_refund_minor: random.pick([0, 300, 300, 450]),
        discount_reversed_minor: 50,
        created_at: new Date(noon + random.between(0, (180 * MINUTE_MS) / step) * step).toISOString(),
        business_date: date,
      });
    }
  }
  return { captures, refunds };
}

/** What the statement should list, as the domain module's ledger items. */
function expectedItems(captures: readonly LedgerCapture[], refunds: readonly LedgerRefund[]): LedgerItem[] {
  const byId = new Map(captures.map((capture) => [capture.checkout_id, capture]));
  return [
    ...captures
      .filter((capture) => !capture.voided && capture.net_minor > 0)
      .map((capture): LedgerItem => ({
        kind: 'capture',
        ledger_id: capture.checkout_id,
        merchant_id: capture.merchant_id,
        card_last4: capture.card_last4,
        reference: capture.reference,
        amount_minor: capture.net_minor,
        occurred_at_ms: Date.parse(capture.occurred_at),
      })),
    ...refunds
      .filter((refund) => refund.member_refund_minor > 0)
      .map((refund): LedgerItem => {
        const capture = byId.get(refund.checkout_id) as LedgerCapture;
        return {
          kind: 'refund',
          ledger_id: refund.refund_id,
          merchant_id: capture.merchant_id,
          card_last4: capture.card_last4,
          reference: capture.reference,
          amount_minor: -refund.member_refund_minor,
          occurred_at_ms: Date.parse(refund.created_at),
        };
      }),
  ];
}

/** Lines for most items, some wrong on purpose, some twice, some for nothing; shuffled. */
function randomStatement(
  random: Random,
  date: string,
  items: readonly LedgerItem[],
  step: number,
): StatementRow[] {
  const offsetMax = (20 * MINUTE_MS) / step;
  const row = (item: Omit<LedgerItem, 'kind' | 'ledger_id'>): StatementRow => ({
    settlement_date: date,
    merchant_id: item.merchant_id,
    card_last4: item.card_last4,
    transaction_time: new Date(
      item.occurred_at_ms + random.between(-offsetMax, offsetMax) * step,
    ).toISOString(),
    amount_minor: item.amount_minor,
    reference: item.reference,
    auth_code: `A${random.between(0, 99_999)}`,
  });
  const rows: StatementRow[] = [];
  for (const item of items) {
    const roll = random.next();
    if (roll < 0.1) continue;
    const line = row(item);
    if (roll < 0.25) line.reference = random.pick(['', 'GARBLED', `${item.reference}-X`]);
    else if (roll < 0.35) line.amount_minor = item.amount_minor + random.pick([-50, 1, 700]) || 1;
    rows.push(line);
    if (random.next() < 0.08) rows.push({ ...line, transaction_time: row(item).transaction_time });
  }
  for (let extra = 0; extra < 40; extra += 1) {
    const like = random.pick(items);
    rows.push(
      row({
        ...like,
        reference: random.pick(['', 'NOPE', like.reference]),
        merchant_id: random.pick(merchants),
      }),
    );
  }
  return rows
    .map((value) => ({ value, key: random.next() }))
    .sort((a, b) => a.key - b.key)
    .map(({ value }) => value);
}

function serviceOutcomes(items: readonly JsonObject[]): ItemOutcome[] {
  return items.map((item) => ({
    category: item.category,
    matched_by: item.matched_by,
    line_number: item.statement_line?.line_number ?? null,
    ledger_id: item.ledger_item?.id ?? null,
    duplicate_of_line: item.duplicate_of_line,
  }));
}

describe('the service and the in-memory rules', () => {
  it.each([1, 2, 3, 4])('classify random statement %i alike', async (seed) => {
    const random = generator(seed);
    const date = dayAfterToday(seed);
    const { captures, refunds } = randomLedger(random, date, timeStep(seed));
    await insertLedgerItems(harness, captures, refunds);
    const items = expectedItems(captures, refunds);
    const rows = randomStatement(random, date, items, timeStep(seed));
    const csv = statementCsv(rows);

    const response = await uploadStatement(harness, csv);
    expect(response.status).toBe(201);
    const lines = csv
      .trim()
      .split('\n')
      .slice(1)
      .map((text, index) => readStatementLine(text.split(','), index + 2, date))
      .map((line) => {
        if (isLineProblem(line)) throw new Error(`generated a bad line: ${line.reason}`);
        return line as MatchableLine;
      });
    const expected = reconcileStatement(lines, items, TOLERANCE_MS);
    expect(serviceOutcomes(await allItems(harness, response.body.id))).toEqual(expected);
    // Every kind of outcome occurs, or the statement tested too little.
    expect(new Set(expected.map((outcome) => `${outcome.category}/${outcome.matched_by}`)).size).toBe(6);
  });
});
