/** The pure reconciliation rules: reading statement lines and matching them with the ledger. */
import fc from 'fast-check';
import { reconcileStatement } from '../src/domain/reconciliation';
import type { ItemOutcome, LedgerItem, MatchableLine } from '../src/domain/reconciliation';
import {
  isLineProblem,
  parseTransactionTime,
  readStatementLine,
  statementHeaderProblem,
} from '../src/domain/reconciliation-statement';
import { ToleranceMatcher } from '../src/domain/reconciliation-tolerance';
import type { ToleranceEntry } from '../src/domain/reconciliation-tolerance';

const MINUTE_MS = 60_000;
const TOLERANCE_MS = 15 * MINUTE_MS;
const NOON = Date.parse('2026-11-21T12:00:00+08:00');

const fields = (overrides: Partial<Record<string, string>> = {}) => {
  const line = {
    settlement_date: '2026-11-21',
    merchant_id: 'mer_a',
    card_last4: '1234',
    transaction_time: '2026-11-21T12:00:00+08:00',
    amount_minor: '9500',
    reference: 'R-1',
    auth_code: 'A1B2C3',
    ...overrides,
  };
  return Object.values(line);
};

describe('reading a statement line', () => {
  it('reads a good line, the time in UTC to the millisecond', () => {
    expect(
      readStatementLine(fields({ transaction_time: '2026-11-21T12:00:00.1234+08:00' }), 2, undefined),
    ).toEqual({
      line_number: 2,
      settlement_date: '2026-11-21',
      merchant_id: 'mer_a',
      card_last4: '1234',
      transaction_time: '2026-11-21T04:00:00.123Z',
      transaction_time_ms: Date.parse('2026-11-21T04:00:00.123Z'),
      amount_minor: 9500,
      reference: 'R-1',
      auth_code: 'A1B2C3',
    });
  });

  it('reads a refund as a negative amount, and an empty reference and auth code', () => {
    const line = readStatementLine(
      fields({ amount_minor: '-3800', reference: '', auth_code: '' }),
      3,
      '2026-11-21',
    );
    expect(line).toMatchObject({ amount_minor: -3800, reference: '', auth_code: '' });
  });

  it.each([
    ['too few fields', fields().slice(0, 6), 'expected 7 fields, found 6'],
    ['too many fields', [...fields(), 'extra'], 'expected 7 fields, found 8'],
    ['a settlement date that is no day', fields({ settlement_date: '2026-02-30' }), 'settlement_date'],
    ['a settlement date in another form', fields({ settlement_date: '21/11/2026' }), 'settlement_date'],
    ['an empty merchant id', fields({ merchant_id: '' }), 'merchant_id'],
    ['a card_last4 of 3 digits', fields({ card_last4: '123' }), 'card_last4'],
    ['a card_last4 with a letter', fields({ card_last4: '12a4' }), 'card_last4'],
    ['a time without an offset', fields({ transaction_time: '2026-11-21T12:00:00' }), 'transaction_time'],
    ['a time with a space', fields({ transaction_time: '2026-11-21 12:00:00Z' }), 'transaction_time'],
    ['30 February', fields({ transaction_time: '2026-02-30T12:00:00Z' }), 'transaction_time'],
    ['hour 24', fields({ transaction_time: '2026-11-21T24:00:00Z' }), 'transaction_time'],
    ['a leap second', fields({ transaction_time: '2026-12-31T23:59:60Z' }), 'transaction_time'],
    ['an amount in yuan', fields({ amount_minor: '95.00' }), 'amount_minor'],
    ['an amount with a plus sign', fields({ amount_minor: '+9500' }), 'amount_minor'],
    ['an amount with leading zeros', fields({ amount_minor: '09500' }), 'amount_minor'],
    ['a zero amount', fields({ amount_minor: '0' }), 'amount_minor must not be zero'],
    ['an amount beyond 10^12 fen', fields({ amount_minor: '1000000000001' }), 'amount_minor'],
    ['a reference of 65 characters', fields({ reference: 'R'.repeat(65) }), 'reference'],
    ['an auth code with punctuation', fields({ auth_code: 'A1-B2' }), 'auth_code'],
  ])('refuses %s, naming the line', (_what, line, reason) => {
    const read = readStatementLine(line, 7, undefined);
    expect(isLineProblem(read) && read.line).toBe(7);
    expect(isLineProblem(read) && read.reason).toContain(reason);
  });

  it('refuses a line of another settlement date than the statement', () => {
    expect(readStatementLine(fields({ settlement_date: '2026-11-22' }), 4, '2026-11-21')).toEqual({
      line: 4,
      reason: "settlement_date differs from the statement's (2026-11-21)",
    });
  });

  it('takes RFC 3339 offsets and lower-case T and Z', () => {
    expect(parseTransactionTime('2026-11-21t04:00:00z')).toBe(Date.parse('2026-11-21T04:00:00Z'));
    expect(parseTransactionTime('2026-11-20T23:30:00-04:30')).toBe(Date.parse('2026-11-21T04:00:00Z'));
    expect(parseTransactionTime('2024-02-29T00:00:00Z')).toBe(Date.parse('2024-02-29T00:00:00Z'));
    expect(parseTransactionTime('2026-11-21T04:00:00+24:00')).toBeUndefined();
  });

  it('wants the header exactly', () => {
    const header = [
      'settlement_date',
      'merchant_id',
      'card_last4',
      'transaction_time',
      'amount_minor',
      'reference',
      'auth_code',
    ];
    expect(statementHeaderProblem(header)).toBeUndefined();
    expect(statementHeaderProblem([...header].reverse())).toContain('the header must be exactly');
    expect(statementHeaderProblem(header.slice(0, 6))).toContain('the header must be exactly');
  });
});

let serial = 0;
function line(overrides: Partial<MatchableLine> = {}): MatchableLine {
  serial += 1;
  return {
    line_number: serial + 1,
    merchant_id: 'mer_a',
    card_last4: '1234',
    transaction_time_ms: NOON,
    amount_minor: 9500,
    reference: `R-${serial}`,
    auth_code: `AUTH${serial}`,
    ...overrides,
  };
}

function item(overrides: Partial<LedgerItem> = {}): LedgerItem {
  serial += 1;
  return {
    kind: 'capture',
    ledger_id: `chk_${String(serial).padStart(25, '0')}`,
    merchant_id: 'mer_a',
    card_last4: '1234',
    reference: `R-${serial}`,
    amount_minor: 9500,
    occurred_at_ms: NOON,
    ...overrides,
  };
}

const summary = (outcomes: readonly ItemOutcome[]) =>
  outcomes.map((outcome) => [outcome.category, outcome.line_number, outcome.ledger_id, outcome.matched_by]);

describe('matching a statement with the ledger', () => {
  it('matches by reference first, even when the card and time disagree', () => {
    const sale = item({ reference: 'R-7' });
    const statement = line({
      reference: 'R-7',
      card_last4: '9999',
      transaction_time_ms: NOON + 5 * 60 * MINUTE_MS,
    });
    expect(summary(reconcileStatement([statement], [sale], TOLERANCE_MS))).toEqual([
      ['matched', statement.line_number, sale.ledger_id, 'reference'],
    ]);
  });

  it('matches by merchant, card and amount within the tolerance, the bound included', () => {
    const sale = item();
    const statement = line({ reference: 'garbled', transaction_time_ms: NOON + TOLERANCE_MS });
    expect(summary(reconcileStatement([statement], [sale], TOLERANCE_MS))).toEqual([
      ['matched', statement.line_number, sale.ledger_id, 'card_amount_time'],
    ]);
  });

  it('leaves both sides missing one millisecond outside the tolerance', () => {
    const sale = item();
    const statement = line({ reference: 'garbled', transaction_time_ms: NOON - TOLERANCE_MS - 1 });
    expect(summary(reconcileStatement([statement], [sale], TOLERANCE_MS))).toEqual([
      ['missing_in_ledger', statement.line_number, null, null],
      ['missing_in_statement', null, sale.ledger_id, null],
    ]);
  });

  it('does not match across merchants or cards without a reference', () => {
    const sale = item();
    const otherMerchant = line({ reference: 'x', merchant_id: 'mer_b' });
    const otherCard = line({ reference: 'y', card_last4: '4321' });
    expect(
      reconcileStatement([otherMerchant, otherCard], [sale], TOLERANCE_MS).map((o) => o.category),
    ).toEqual(['missing_in_ledger', 'missing_in_ledger', 'missing_in_statement']);
  });

  it('calls a reference match with another amount a mismatch, not a match', () => {
    const sale = item({ reference: 'R-M', amount_minor: 38_000 });
    const statement = line({ reference: 'R-M', amount_minor: 38_100 });
    expect(summary(reconcileStatement([statement], [sale], TOLERANCE_MS))).toEqual([
      ['amount_mismatch', statement.line_number, sale.ledger_id, 'reference'],
    ]);
  });

  it('never pairs a refund line with the sale of the same reference', () => {
    const sale = item({ reference: 'R-S', amount_minor: 9500 });
    const refundLine = line({ reference: 'R-S', amount_minor: -3800 });
    expect(reconcileStatement([refundLine], [sale], TOLERANCE_MS).map((o) => o.category)).toEqual([
      'missing_in_ledger',
      'missing_in_statement',
    ]);
  });

  it('pairs two partial refunds of one sale with their lines by amount, then in time order', () => {
    const first = item({ kind: 'refund', reference: 'R-P', amount_minor: -1000, occurred_at_ms: NOON });
    const second = item({
      kind: 'refund',
      reference: 'R-P',
      amount_minor: -2000,
      occurred_at_ms: NOON + MINUTE_MS,
    });
    const lines = [
      line({ reference: 'R-P', amount_minor: -2000, transaction_time_ms: NOON }),
      line({ reference: 'R-P', amount_minor: -1000, transaction_time_ms: NOON + MINUTE_MS }),
    ];
    expect(summary(reconcileStatement(lines, [first, second], TOLERANCE_MS))).toEqual([
      ['matched', lines[0]?.line_number, second.ledger_id, 'reference'],
      ['matched', lines[1]?.line_number, first.ledger_id, 'reference'],
    ]);
  });

  it('marks the second and later copies of a line as duplicates of the first, and matches the first', () => {
    const sale = item({ reference: 'R-D' });
    const original = line({ reference: 'R-D', auth_code: 'X1' });
    const copies = [
      { ...original, line_number: original.line_number + 1 },
      { ...original, line_number: original.line_number + 2, transaction_time_ms: NOON + 1 },
    ];
    expect(reconcileStatement([original, ...copies], [sale], TOLERANCE_MS)).toEqual([
      expect.objectContaining({ category: 'matched', line_number: original.line_number }),
      expect.objectContaining({ category: 'duplicate_line', duplicate_of_line: original.line_number }),
      expect.objectContaining({ category: 'duplicate_line', duplicate_of_line: original.line_number }),
    ]);
  });

  it('does not call two refunds of one sale with their own auth codes duplicates', () => {
    const lines = [
      line({ reference: 'R-Q', amount_minor: -500, auth_code: 'A' }),
      line({ reference: 'R-Q', amount_minor: -500, auth_code: 'B' }),
    ];
    expect(reconcileStatement(lines, [], TOLERANCE_MS).map((o) => o.category)).toEqual([
      'missing_in_ledger',
      'missing_in_ledger',
    ]);
  });
});

describe('the time-tolerance matcher', () => {
  const entry = (side: 'line' | 'ledger', atMs: number, id: number): ToleranceEntry => ({
    side,
    merchant_id: 'mer_a',
    card_last4: '1234',
    amount_minor: 100,
    at_ms: atMs,
    line_number: side === 'line' ? id : null,
    ledger_id: side === 'ledger' ? `chk_${id}` : null,
  });

  it('pairs with the oldest waiting entry of the other side, so a later one still finds a partner', () => {
    const matcher = new ToleranceMatcher(10);
    expect(matcher.push(entry('line', 0, 2))).toBeUndefined();
    expect(matcher.push(entry('line', 9, 3))).toBeUndefined();
    expect(matcher.push(entry('ledger', 10, 1))).toEqual({ line_number: 2, ledger_id: 'chk_1' });
    expect(matcher.push(entry('ledger', 19, 2))).toEqual({ line_number: 3, ledger_id: 'chk_2' });
  });

  it('refuses entries out of time order', () => {
    const matcher = new ToleranceMatcher(10);
    matcher.push(entry('line', 50, 2));
    expect(() => matcher.push(entry('ledger', 40, 1))).toThrow(/time order/);
  });
});

/** The largest number of line–item pairs within the tolerance, by augmenting paths. */
function maximumPairs(
  lines: readonly MatchableLine[],
  items: readonly LedgerItem[],
  toleranceMs: number,
): number {
  const partnerOfItem = new Map<number, number>();
  const fits = (l: MatchableLine, i: LedgerItem) =>
    l.merchant_id === i.merchant_id &&
    l.card_last4 === i.card_last4 &&
    l.amount_minor === i.amount_minor &&
    Math.abs(l.transaction_time_ms - i.occurred_at_ms) <= toleranceMs;
  const augment = (lineIndex: number, seen: Set<number>): boolean =>
    items.some((candidate, itemIndex) => {
      if (seen.has(itemIndex) || !fits(lines[lineIndex] as MatchableLine, candidate)) return false;
      seen.add(itemIndex);
      const partner = partnerOfItem.get(itemIndex);
      if (partner !== undefined && !augment(partner, seen)) return false;
      partnerOfItem.set(itemIndex, lineIndex);
      return true;
    });
  return lines.filter((_, index) => augment(index, new Set())).length;
}

describe('properties', () => {
  const arbitraryLine = fc.record({
    merchant_id: fc.constantFrom('mer_a', 'mer_b'),
    card_last4: fc.constantFrom('1111', '2222'),
    transaction_time_ms: fc.integer({ min: NOON, max: NOON + 60 * MINUTE_MS }),
    amount_minor: fc.constantFrom(100, 200, -100),
    reference: fc.constantFrom('', 'R-1', 'R-2', 'R-3', 'X'),
    auth_code: fc.constantFrom('A', 'B'),
  });
  const arbitraryItem = fc.record({
    merchant_id: fc.constantFrom('mer_a', 'mer_b'),
    card_last4: fc.constantFrom('1111', '2222'),
    occurred_at_ms: fc.integer({ min: NOON, max: NOON + 60 * MINUTE_MS }),
    amount_minor: fc.constantFrom(100, 200, -100),
    reference: fc.constantFrom('R-1', 'R-2', 'R-3'),
  });
  const statement = fc
    .tuple(fc.array(arbitraryLine, { maxLength: 25 }), fc.array(arbitraryItem, { maxLength: 25 }))
    .map(([lines, items]) => ({
      lines: lines.map((value, index) => ({ ...value, line_number: index + 2 })),
      items: items.map((value, index): LedgerItem => ({
        ...value,
        kind: value.amount_minor > 0 ? 'capture' : 'refund',
        ledger_id: `chk_${String(index).padStart(25, '0')}`,
      })),
    }));

  it('classifies every line once and accounts for every ledger item at most once', () => {
    fc.assert(
      fc.property(statement, ({ lines, items }) => {
        const outcomes = reconcileStatement(lines, items, TOLERANCE_MS);
        const lineNumbers = outcomes.flatMap((outcome) =>
          outcome.line_number === null ? [] : [outcome.line_number],
        );
        expect(lineNumbers).toEqual(lines.map((value) => value.line_number));
        const ledgerIds = outcomes.flatMap((outcome) =>
          outcome.ledger_id === null ? [] : [outcome.ledger_id],
        );
        expect(new Set(ledgerIds).size).toBe(ledgerIds.length);
        expect(new Set(ledgerIds)).toEqual(new Set(items.map((value) => value.ledger_id)));
      }),
    );
  });

  it('pairs only what the rules allow', () => {
    fc.assert(
      fc.property(statement, ({ lines, items }) => {
        const byNumber = new Map(lines.map((value) => [value.line_number, value]));
        const byId = new Map(items.map((value) => [value.ledger_id, value]));
        for (const outcome of reconcileStatement(lines, items, TOLERANCE_MS)) {
          const l = outcome.line_number === null ? undefined : byNumber.get(outcome.line_number);
          const i = outcome.ledger_id === null ? undefined : byId.get(outcome.ledger_id);
          if (l === undefined || i === undefined) continue;
          expect(l.merchant_id).toBe(i.merchant_id);
          expect(Math.sign(l.amount_minor)).toBe(Math.sign(i.amount_minor));
          if (outcome.category === 'matched') expect(l.amount_minor).toBe(i.amount_minor);
          if (outcome.category === 'amount_mismatch') expect(l.amount_minor).not.toBe(i.amount_minor);
          if (outcome.matched_by === 'reference') expect(l.reference).toBe(i.reference);
          if (outcome.matched_by === 'card_amount_time') {
            expect(l.card_last4).toBe(i.card_last4);
            expect(Math.abs(l.transaction_time_ms - i.occurred_at_ms)).toBeLessThanOrEqual(TOLERANCE_MS);
          }
        }
      }),
    );
  });

  it('pairs as many lines by card, amount and time as any assignment could', () => {
    const noReferences = statement.map(({ lines, items }) => ({
      lines: lines.map((value) => ({ ...value, reference: '', auth_code: `A${value.line_number}` })),
      items,
    }));
    fc.assert(
      fc.property(
        noReferences,
        fc.integer({ min: 0, max: 30 * MINUTE_MS }),
        ({ lines, items }, toleranceMs) => {
          const outcomes = reconcileStatement(lines, items, toleranceMs);
          const paired = outcomes.filter((outcome) => outcome.matched_by === 'card_amount_time').length;
          expect(paired).toBe(maximumPairs(lines, items, toleranceMs));
        },
      ),
    );
  });

  it('gives the same answer whatever order lines and items come in', () => {
    fc.assert(
      fc.property(statement, fc.integer(), ({ lines, items }, seed) => {
        const shuffle = <T>(values: readonly T[]) =>
          values
            .map((value, index) => ({ value, key: Math.sin(seed + index) }))
            .sort((a, b) => a.key - b.key)
            .map(({ value }) => value);
        expect(reconcileStatement(shuffle(lines), shuffle(items), TOLERANCE_MS)).toEqual(
          reconcileStatement(lines, items, TOLERANCE_MS),
        );
      }),
    );
  });
});
