/**
 * Reconciliation of the acquirer's daily statement against the ledger (DESIGN §6), as pure
 * functions: the matching rules, and what a run stores. Reading the statement's lines is in
 * domain/reconciliation-statement.ts, rule 3's streamed matcher in domain/reconciliation-tolerance.ts.
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
 *    see `ToleranceMatcher` (domain/reconciliation-tolerance.ts).
 * 4. Lines left over are `missing_in_ledger`; items left over are `missing_in_statement`.
 * Every line and every item ends in at most one pair.
 *
 * The service applies rule 2 in SQL over the whole file (store/reconciliation-staging.ts mirrors
 * `matchByReference`; test/reconciliation-equivalence.test.ts holds the two together) and
 * streams what is left through `ToleranceMatcher`, the class `reconcileStatement` uses here.
 */
import { compareText, compareToleranceEntries, ToleranceMatcher } from './reconciliation-tolerance';
import type { ToleranceEntry } from './reconciliation-tolerance';
import type { StatementLine } from './reconciliation-statement';

export const RECONCILIATION_CATEGORIES = [
  'matched',
  'amount_mismatch',
  'missing_in_ledger',
  'missing_in_statement',
  'duplicate_line',
] as const;
export type ReconciliationCategory = (typeof RECONCILIATION_CATEGORIES)[number];
export type MatchedBy = 'reference' | 'card_amount_time';

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

/** The pairs rules 2 and 3 make among the lines that are not duplicates, by line. */
interface Pairing {
  byLine: Map<number, ItemOutcome>;
  pairedItems: Set<string>;
}

function pairLines(
  candidates: readonly MatchableLine[],
  items: readonly LedgerItem[],
  toleranceMs: number,
): Pairing {
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
  return { byLine, pairedItems };
}

const UNPAIRED = { matched_by: null, ledger_id: null, duplicate_of_line: null };

/** A line's outcome: a copy of an earlier line, its pair, or missing in the ledger. */
function lineOutcome(
  line: MatchableLine,
  duplicates: ReadonlyMap<number, number>,
  pairing: Pairing,
): ItemOutcome {
  const duplicateOf = duplicates.get(line.line_number);
  if (duplicateOf !== undefined) {
    return {
      ...UNPAIRED,
      category: 'duplicate_line',
      line_number: line.line_number,
      duplicate_of_line: duplicateOf,
    };
  }
  return (
    pairing.byLine.get(line.line_number) ?? {
      ...UNPAIRED,
      category: 'missing_in_ledger',
      line_number: line.line_number,
    }
  );
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
  const pairing = pairLines(candidates, items, toleranceMs);
  const lineOutcomes = [...lines]
    .sort((a, b) => a.line_number - b.line_number)
    .map((line) => lineOutcome(line, duplicates, pairing));
  const unaccounted = items
    .filter((item) => !pairing.pairedItems.has(item.ledger_id))
    .sort(byItemTime)
    .map((item): ItemOutcome => ({
      ...UNPAIRED,
      category: 'missing_in_statement',
      line_number: null,
      ledger_id: item.ledger_id,
    }));
  return [...lineOutcomes, ...unaccounted];
}

/**
 * What correcting an exception moves: the statement's amount minus the ledger's, a side that
 * is not there counting 0 (a sale missing from the statement: minus its net; a line missing
 * from the ledger: its amount). A duplicate line is the acquirer counting one sale twice: all of
 * its amount. Positive: the acquirer clears more than the ledger expects.
 */
export function correctionDifference(item: Pick<ReconciliationItem, 'category' | 'line' | 'ledger'>): number {
  if (item.category === 'matched') return 0;
  const ledgerMinor = item.category === 'duplicate_line' ? 0 : (item.ledger?.amount_minor ?? 0);
  return (item.line?.amount_minor ?? 0) - ledgerMinor;
}
