/**
 * Rule 3 of the reconciliation (domain/reconciliation.ts): lines and ledger items left after
 * rules 1 and 2 pair by merchant, card last 4 and amount within a time tolerance, streamed in
 * one sorted pass so that memory stays flat whatever the length of the statement.
 */
import assert from 'node:assert/strict';

/** Code-unit order, as Postgres sorts with COLLATE "C". */
export function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
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
