/**
 * Reading the acquirer's daily statement (DESIGN §6): its header, and each data line into a
 * `StatementLine` or the first problem with it. Pure functions; the rules that match the lines
 * are in domain/reconciliation.ts.
 */
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
