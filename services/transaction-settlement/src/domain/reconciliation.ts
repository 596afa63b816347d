/**
 * Reconciliation of the acquirer's daily statement against the ledger (DESIGN §6), as pure
 * functions: reading a statement line, and the matching rules.
 *
 * A statement line is the net amount the card was charged, in fen: positive for a sale,
 * negative for a refund. The ledger items of a settlement date are its captures (net, not
 * voided: a voided sale never reaches the acquirer) and its refunds (the member's part,
 * negative), each with the capture's reference, merchant and card. Items of zero fen (a sale
 * discounted to nothing) charge no card and are not expected on the statement.
 *
 * The rules, in order:
 * 1. A line with the merchant, reference, auth code and amount of an earlier line is a
 *    `duplicate_line` of it and is matched to nothing. The amount is in the key because an
 *    acquirer may repeat a sale's auth code on its refunds, and every refund of a sale carries
 *    the sale's reference; two refunds of one sale for the same amount under one auth code
 *    would still look like a copy, and are left to finance to resolve.
 * 2. By reference (per merchant, since references are unique per merchant): lines and items
 *    with the same merchant, reference and amount pair up in time order (`matched`); then
 *    lines and items left with the same merchant, reference and direction (sale or refund)
 *    pair up in time order (`amount_mismatch`).
 * 3. By merchant + card last 4 + amount, within the time tolerance (`matched`), streamed:
 *    see `ToleranceMatcher`.
 * 4. Lines left over are `missing_in_ledger`; items left over are `missing_in_statement`.
 * Every line and every item ends in at most one pair.
 *
 * The service applies rule 2 in SQL over the whole file (store/reconciliation.ts mirrors
 * `matchByReference`; test/reconciliation-equivalence.test.ts holds the two together) and
 * streams what is left through `ToleranceMatcher`, the class `reconcileStatement` uses here.
 */
import assert from 'node:assert/strict';
import { AMOUNT_MINOR_MAX } from '@puhui/money';

export const STATEMENT_COLUMNS = [
  'settlement_date',
  'merchant_id',
  'card_last4',
  'transaction_time',
  'amount_minor',
  'reference',
  'auth_code',
] as const;

export const RECONCILIATION_CATEGORIES = [
  'matched',
  'amount_mismatch',
  'missing_in_ledger',
  'missing_in_statement',
  'duplicate_line',
] as const;
export type ReconciliationCategory = (typeof RECONCILIATION_CATEGORIES)[number];
export type MatchedBy = 'reference' | 'card_amount_time';

export interface StatementLine {
  /** Line in the file; the header is line 1. */
  line_number: number;
  settlement_date: string;
  merchant_id: string;
  card_last4: string;
  /** RFC 3339 in UTC, to the millisecond. */
  transaction_time: string;
  transaction_time_ms: number;
  /** Positive for a sale, negative for a refund; never zero. */
  amount_minor: number;
  reference: string;
  auth_code: string;
}

export interface LineProblem {
  line: number;
  reason: string;
}

export interface LedgerItem {
  kind: 'capture' | 'refund';
  /** The checkout id of a capture, the refund id of a refund. */
  ledger_id: string;
  merchant_id: string;
  card_last4: string;
  /** The capture's reference, for its refunds too. */
  reference: string;
  /** Capture: the net the card paid (positive). Refund: the member's part, negative. */
  amount_minor: number;
  occurred_at_ms: number;
}

export interface ItemOutcome {
  category: ReconciliationCategory;
  matched_by: MatchedBy | null;
  line_number: number | null;
  ledger_id: string | null;
  duplicate_of_line: number | null;
}

/** A run as stored: one reconciled statement file. */
export interface NewRun {
  run_id: string;
  file_sha256: string;
  file_bytes: number;
  settlement_date: string;
  line_count: number;
  time_tolerance_ms: number;
  created_by: string;
}

export interface CategoryTotal {
  category: ReconciliationCategory;
  item_count: number;
  line_amount_minor: number;
  ledger_amount_minor: number;
}

export interface ReconciliationRun extends NewRun {
  status: 'completed';
  created_at: string;
  totals: CategoryTotal[];
  /** Exceptions (items not matched) finance has resolved so far. */
  resolved_count: number;
}

export interface ReconciliationItem extends Omit<ItemOutcome, 'ledger_id'> {
  item_id: string;
  run_id: string;
  line: {
    line_number: number;
    merchant_id: string;
    card_last4: string;
    transaction_time: string;
    amount_minor: number;
    reference: string;
    auth_code: string;
  } | null;
  ledger: {
    kind: 'capture' | 'refund';
    ledger_id: string;
    checkout_id: string;
    merchant_id: string;
    card_last4: string;
    reference: string;
    amount_minor: number;
    occurred_at: string;
  } | null;
  resolution: { resolved_at: string; resolved_by: string; note: string } | null;
}

const SETTLEMENT_DATE = /^(\d{4})-(\d{2})-(\d{2})$/u;
// RFC 3339 section 5.6: `T` and `Z` may be lower case; an offset is required.
const TRANSACTION_TIME =
  /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(?:[Zz]|([+-])(\d{2}):(\d{2}))$/u;
const AMOUNT = /^-?(?:0|[1-9]\d{0,12})$/u;
const MERCHANT_ID = /^[A-Za-z0-9_-]{1,64}$/u;
const CARD_LAST4 = /^\d{4}$/u;
// A reference may be empty (then only rule 3 can match the line); no control characters.
const REFERENCE = /^[^\p{Cc}]{0,64}$/u;
const AUTH_CODE = /^[A-Za-z0-9]{0,32}$/u;

function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

function isCalendarDate(year: number, month: number, day: number): boolean {
  return month >= 1 && month <= 12 && day >= 1 && day <= daysInMonth(year, month);
}

/** `YYYY-MM-DD` that names a real day, or undefined. */
export function parseSettlementDate(value: string): string | undefined {
  const match = SETTLEMENT_DATE.exec(value);
  if (match === null) return undefined;
  return isCalendarDate(Number(match[1]), Number(match[2]), Number(match[3])) ? value : undefined;
}

/**
 * An RFC 3339 date-time with an offset → milliseconds since the epoch, or undefined. Checked
 * field by field: `Date.parse` turns 30 February into 2 March. Leap seconds are refused;
 * digits beyond the millisecond are dropped.
 */
export function parseTransactionTime(value: string): number | undefined {
  const match = TRANSACTION_TIME.exec(value);
  if (match === null) return undefined;
  const [year, month, day, hour, minute, second] = match.slice(1, 7).map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const offsetHours = Number(match[9] ?? 0);
  const offsetMinutes = Number(match[10] ?? 0);
  if (!isCalendarDate(year, month, day) || hour > 23 || minute > 59 || second > 59) return undefined;
  if (offsetHours > 23 || offsetMinutes > 59) return undefined;
  const milliseconds = Number((match[7] ?? '0').slice(0, 3).padEnd(3, '0'));
  const offsetMs = (match[8] === '-' ? -1 : 1) * (offsetHours * 60 + offsetMinutes) * 60_000;
  return Date.UTC(year, month - 1, day, hour, minute, second, milliseconds) - offsetMs;
}

/** Why the header is not the expected one, or undefined when it is. */
export function statementHeaderProblem(fields: readonly string[]): string | undefined {
  const expected = STATEMENT_COLUMNS.join(',');
  return fields.join(',') === expected ? undefined : `the header must be exactly ${expected}`;
}

export function isLineProblem(value: StatementLine | LineProblem): value is LineProblem {
  return 'reason' in value;
}

/**
 * A data line → a statement line, or its first problem. Every line must carry the settlement
 * date of the first good line: a statement covers one day. Problems name the field, not its value.
 */
export function readStatementLine(
  fields: readonly string[],
  line: number,
  settlementDate: string | undefined,
): StatementLine | LineProblem {
  if (fields.length !== STATEMENT_COLUMNS.length) {
    return { line, reason: `expected ${STATEMENT_COLUMNS.length} fields, found ${fields.length}` };
  }
  const [date, merchantId, last4, time, amount, reference, authCode] = fields as [
    string,
    string,
    string,
    string,
    string,
    string,
    string,
  ];
  if (settlementDate !== undefined && date !== settlementDate) {
    return { line, reason: `settlement_date differs from the statement's (${settlementDate})` };
  }
  if (settlementDate === undefined && parseSettlementDate(date) === undefined) {
    return { line, reason: 'settlement_date must be a calendar date YYYY-MM-DD' };
  }
  if (!MERCHANT_ID.test(merchantId))
    return { line, reason: 'merchant_id must be 1 to 64 letters, digits, _ or -' };
  if (!CARD_LAST4.test(last4)) return { line, reason: 'card_last4 must be 4 digits' };
  const timeMs = parseTransactionTime(time);
  if (timeMs === undefined)
    return { line, reason: 'transaction_time must be an RFC 3339 date-time with an offset' };
  if (!AMOUNT.test(amount)) return { line, reason: 'amount_minor must be a whole number of fen' };
  const amountMinor = Number(amount);
  if (amountMinor === 0) return { line, reason: 'amount_minor must not be zero' };
  if (Math.abs(amountMinor) > AMOUNT_MINOR_MAX)
    return { line, reason: 'amount_minor must be at most 10^12 fen' };
  if (!REFERENCE.test(reference))
    return { line, reason: 'reference must be at most 64 printable characters' };
  if (!AUTH_CODE.test(authCode)) return { line, reason: 'auth_code must be at most 32 letters or digits' };
  return {
    line_number: line,
    settlement_date: date,
    merchant_id: merchantId,
    card_last4: last4,
    transaction_time: new Date(timeMs).toISOString(),
    transaction_time_ms: timeMs,
    amount_minor: amountMinor,
    reference,
    auth_code: authCode,
  };
}

export type MatchableLine = Pick<
  StatementLine,
  | 'line_number'
  | 'merchant_id'
  | 'card_last4'
  | 'transaction_time_ms'
  | 'amount_minor'
  | 'reference'
  | 'auth_code'
>;

/** Rule 1: each later copy → the line number of the first. */
export function findDuplicateLines(lines: readonly MatchableLine[]): Map<number, number> {
  const first = new Map<string, number>();
  const duplicates = new Map<number, number>();
  for (const line of [...lines].sort((a, b) => a.line_number - b.line_number)) {
    const key = JSON.stringify([line.merchant_id, line.reference, line.auth_code, line.amount_minor]);
    const earlier = first.get(key);
    if (earlier === undefined) first.set(key, line.line_number);
    else duplicates.set(line.line_number, earlier);
  }
  return duplicates;
}

/** Code-unit order, as Postgres sorts with COLLATE "C". */
function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

const byLineTime = (a: MatchableLine, b: MatchableLine) =>
  a.transaction_time_ms - b.transaction_time_ms || a.line_number - b.line_number;
const byItemTime = (a: LedgerItem, b: LedgerItem) =>
  a.occurred_at_ms - b.occurred_at_ms || compareText(a.ledger_id, b.ledger_id);

function groupBy<T>(values: readonly T[], keyOf: (value: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const value of values) {
    const key = keyOf(value);
    const group = groups.get(key);
    if (group === undefined) groups.set(key, [value]);
    else group.push(value);
  }
  return groups;
}

/** The k-th line of a group (in time order) pairs with the k-th item of the same group. */
function zipByKey(
  lines: readonly MatchableLine[],
  items: readonly LedgerItem[],
  keyOf: (value: { merchant_id: string; reference: string; amount_minor: number }) => string,
): Array<[MatchableLine, LedgerItem]> {
  const itemGroups = groupBy(items, keyOf);
  const pairs: Array<[MatchableLine, LedgerItem]> = [];
  for (const [key, group] of groupBy(lines, keyOf)) {
    const candidates = [...(itemGroups.get(key) ?? [])].sort(byItemTime);
    [...group].sort(byLineTime).forEach((line, rank) => {
      const item = candidates[rank];
      if (item !== undefined) pairs.push([line, item]);
    });
  }
  return pairs;
}

export interface ReferencePair {
  line_number: number;
  ledger_id: string;
  category: 'matched' | 'amount_mismatch';
}

/** Rule 2, over lines that are not duplicates. */
export function matchByReference(
  lines: readonly MatchableLine[],
  items: readonly LedgerItem[],
): ReferencePair[] {
  const exact = zipByKey(lines, items, (value) =>
    JSON.stringify([value.merchant_id, value.reference, value.amount_minor]),
  );
  const pairedLines = new Set(exact.map(([line]) => line.line_number));
  const pairedItems = new Set(exact.map(([, item]) => item.ledger_id));
  const mismatched = zipByKey(
    lines.filter((line) => !pairedLines.has(line.line_number)),
    items.filter((item) => !pairedItems.has(item.ledger_id)),
    (value) => JSON.stringify([value.merchant_id, value.reference, Math.sign(value.amount_minor)]),
  );
  return [
    ...exact.map(([line, item]) => ({
      line_number: line.line_number,
      ledger_id: item.ledger_id,
      category: 'matched' as const,
    })),
    ...mismatched.map(([line, item]) => ({
      line_number: line.line_number,
      ledger_id: item.ledger_id,
      category: 'amount_mismatch' as const,
    })),
  ];
}

/** A line or a ledger item still unmatched after rules 1 and 2. */
export interface ToleranceEntry {
  side: 'line' | 'ledger';
  merchant_id: string;
  card_last4: string;
  amount_minor: number;
  at_ms: number;
  /** Set for a line. */
  line_number: number | null;
  /** Set for a ledger item. */
  ledger_id: string | null;
}

const SIDE_RANK = { line: 0, ledger: 1 } as const;

/** The order `ToleranceMatcher` needs: by merchant, card, amount, then time (lines first on a tie). */
export function compareToleranceEntries(a: ToleranceEntry, b: ToleranceEntry): number {
  return (
    compareText(a.merchant_id, b.merchant_id) ||
    compareText(a.card_last4, b.card_last4) ||
    a.amount_minor - b.amount_minor ||
    a.at_ms - b.at_ms ||
    SIDE_RANK[a.side] - SIDE_RANK[b.side] ||
    (a.line_number ?? 0) - (b.line_number ?? 0) ||
    compareText(a.ledger_id ?? '', b.ledger_id ?? '')
  );
}

/** Pending entries kept before the consumed head is cut off the array. */
const PENDING_COMPACT_AT = 1_024;

/**
 * Rule 3 over a stream sorted by `compareToleranceEntries`. Within one merchant + card +
 * amount, an entry pairs with the oldest pending entry of the other side that is at most
 * `toleranceMs` older; otherwise it waits. Taking the oldest (the first to fall out of the
 * window) gives as many pairs as any assignment could. Only entries inside the window are
 * held, so memory stays flat whatever the length of the stream.
 */
export class ToleranceMatcher {
  private groupKey: string | undefined;
  private pending: ToleranceEntry[] = [];
  private head = 0;
  private lastAtMs = Number.NEGATIVE_INFINITY;

  constructor(private readonly toleranceMs: number) {
    assert.ok(Number.isInteger(toleranceMs) && toleranceMs >= 0, 'the tolerance is a whole number of ms');
  }

  /** Feeds the next entry; answers the pair it completes, if any. */
  push(entry: ToleranceEntry): { line_number: number; ledger_id: string } | undefined {
    const key = JSON.stringify([entry.merchant_id, entry.card_last4, entry.amount_minor]);
    if (key !== this.groupKey) {
      this.groupKey = key;
      this.pending = [];
      this.head = 0;
      this.lastAtMs = Number.NEGATIVE_INFINITY;
    }
    assert.ok(entry.at_ms >= this.lastAtMs, 'tolerance entries must arrive in time order');
    this.lastAtMs = entry.at_ms;
    while (this.head < this.pending.length && entry.at_ms - this.oldest().at_ms > this.toleranceMs) {
      this.head += 1;
    }
    const oldest = this.head < this.pending.length ? this.oldest() : undefined;
    if (oldest === undefined || oldest.side === entry.side) {
      this.pending.push(entry);
      return undefined;
    }
    this.head += 1;
    if (this.head >= PENDING_COMPACT_AT) {
      this.pending = this.pending.slice(this.head);
      this.head = 0;
    }
    const [line, item] = entry.side === 'line' ? [entry, oldest] : [oldest, entry];
    assert.ok(line.line_number !== null && item.ledger_id !== null, 'a line has a number, an item an id');
    return { line_number: line.line_number, ledger_id: item.ledger_id };
  }

  private oldest(): ToleranceEntry {
    const entry = this.pending[this.head];
    assert.ok(entry !== undefined);
    return entry;
  }
}

function lineEntry(line: MatchableLine): ToleranceEntry {
  return {
    side: 'line',
    merchant_id: line.merchant_id,
    card_last4: line.card_last4,
    amount_minor: line.amount_minor,
    at_ms: line.transaction_time_ms,
    line_number: line.line_number,
    ledger_id: null,
  };
}

function ledgerEntry(item: LedgerItem): ToleranceEntry {
  return {
    side: 'ledger',
    merchant_id: item.merchant_id,
    card_last4: item.card_last4,
    amount_minor: item.amount_minor,
    at_ms: item.occurred_at_ms,
    line_number: null,
    ledger_id: item.ledger_id,
  };
}

/**
 * The whole reconciliation in memory: one outcome per line (in line order), then one per
 * ledger item no line accounts for (in time order). The reference for the service's
 * streamed, SQL-backed run, and what the tests compare it with.
 */
export function reconcileStatement(
  lines: readonly MatchableLine[],
  items: readonly LedgerItem[],
  toleranceMs: number,
): ItemOutcome[] {
  const duplicates = findDuplicateLines(lines);
  const candidates = lines.filter((line) => !duplicates.has(line.line_number));
  const byLine = new Map<number, ItemOutcome>();
  const pairedItems = new Set<string>();
  for (const pair of matchByReference(candidates, items)) {
    byLine.set(pair.line_number, { ...pair, matched_by: 'reference', duplicate_of_line: null });
    pairedItems.add(pair.ledger_id);
  }
  const matcher = new ToleranceMatcher(toleranceMs);
  const leftovers = [
    ...candidates.filter((line) => !byLine.has(line.line_number)).map(lineEntry),
    ...items.filter((item) => !pairedItems.has(item.ledger_id)).map(ledgerEntry),
  ].sort(compareToleranceEntries);
  for (const entry of leftovers) {
    const pair = matcher.push(entry);
    if (pair === undefined) continue;
    byLine.set(pair.line_number, {
      ...pair,
      category: 'matched',
      matched_by: 'card_amount_time',
      duplicate_of_line: null,
    });
    pairedItems.add(pair.ledger_id);
  }
  const none = { matched_by: null, ledger_id: null, duplicate_of_line: null };
  const lineOutcomes = [...lines]
    .sort((a, b) => a.line_number - b.line_number)
    .map((line): ItemOutcome => {
      const duplicateOf = duplicates.get(line.line_number);
      if (duplicateOf !== undefined) {
        return {
          ...none,
          category: 'duplicate_line',
          line_number: line.line_number,
          duplicate_of_line: duplicateOf,
        };
      }
      return (
        byLine.get(line.line_number) ?? {
          ...none,
          category: 'missing_in_ledger',
          line_number: line.line_number,
        }
      );
    });
  const unaccounted = items
    .filter((item) => !pairedItems.has(item.ledger_id))
    .sort(byItemTime)
    .map((item): ItemOutcome => ({
      ...none,
      category: 'missing_in_statement',
      line_number: null,
      ledger_id: item.ledger_id,
    }));
  return [...lineOutcomes, ...unaccounted];
}
