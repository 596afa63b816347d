/**
 * The CSV files people download (the payment file, merchants' statements) and open in a
 * spreadsheet: UTF-8 with a byte-order mark (Excel on Windows otherwise reads Chinese names as
 * GBK mojibake), every value a spreadsheet would run as a formula (starting = + - @, tab or CR)
 * prefixed with a quote by csv-stringify's `escape_formulas` (numbers excepted: a refund's -500
 * stays a number), and each `*_minor` (fen) column followed by its `*_yuan` twin ("12.34").
 * Column lists are the documented contract (docs/decisions/0005).
 */
import { stringify } from 'csv-stringify/sync';
import { yuanDecimal } from '@puhui/money';

export const PAYMENT_FILE_COLUMNS = [
  'batch_id',
  'business_date',
  'merchant_id',
  'legal_name',
  'account_name',
  'account_number',
  'bank_name',
  'branch_code',
  'amount_minor',
  'currency',
  'reference',
] as const;

export const STATEMENT_COLUMNS = [
  'business_date',
  'batch_id',
  'kind',
  'checkout_id',
  'refund_id',
  'reference',
  'card_last4',
  'occurred_at',
  'gross_minor',
  'discount_minor',
  'merchant_funded_minor',
  'union_funded_minor',
  'card_amount_minor',
  'line_descriptions',
] as const;

const MINOR = /_minor$/u;

/** The header as written: each fen column followed by its yuan twin. */
export function spreadsheetHeader(columns: readonly string[]): string[] {
  return columns.flatMap((column) =>
    MINOR.test(column) ? [column, column.replace(MINOR, '_yuan')] : [column],
  );
}

export function spreadsheetCsv(
  rows: ReadonlyArray<Record<string, unknown>>,
  columns: readonly string[],
): string {
  const header = spreadsheetHeader(columns);
  const withYuan = rows.map((row) => {
    const copy: Record<string, unknown> = { ...row };
    for (const column of columns) if (MINOR.test(column)) copy[column.replace(MINOR, '_yuan')] = row[column];
    return copy;
  });
  return stringify(withYuan, {
    header: true,
    bom: true,
    escape_formulas: true,
    columns: header,
    cast: {
      // The yuan twins carry the fen number until here, so that escape_formulas sees a number.
      number: (value, context) =>
        String(context.column).endsWith('_yuan') ? yuanDecimal(value) : String(value),
    },
  });
}
