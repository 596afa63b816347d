/**
 * One CSV row of a card import: checked field by field and turned into a registration (the
 * card number becomes its token and last 4 at once), or into a problem naming the line and
 * the field. Problems never repeat a field's value: a mistyped card number is still a card
 * number.
 */
import { PAN_REJECTION_MESSAGES, checkUnionPayPan, tokenizePan } from '@puhui/cards';
import { CARD_TIERS } from '@puhui/discount';
import type { CardTier } from '@puhui/discount';
import { DomainError } from '@puhui/errors';
import { referenceProblem } from './card';
import type { CardRegistration } from './card';

export const IMPORT_COLUMNS = ['card_number', 'member_id', 'union_id', 'tier'] as const;
export type ImportColumn = (typeof IMPORT_COLUMNS)[number];
/** Where each column sits in a row, from the header. */
export type ColumnPositions = Readonly<Record<ImportColumn, number>>;

export interface ImportRow extends CardRegistration {
  line: number;
}

export interface RowProblem {
  line: number;
  field: ImportColumn | null;
  reason: string;
}

const TIERS: ReadonlySet<string> = new Set(CARD_TIERS);

/**
 * The header names the four columns, in any order, and nothing else; without it nothing is
 * imported, because a file whose columns are guessed wrongly would register wrong cards.
 */
export function columnPositions(header: readonly string[]): ColumnPositions {
  const names = header.map((name) => name.trim().toLowerCase());
  const missing = IMPORT_COLUMNS.filter((column) => !names.includes(column));
  const unknown = names.filter((name) => !(IMPORT_COLUMNS as readonly string[]).includes(name));
  const repeated = names.filter((name, index) => names.indexOf(name) !== index);
  if (missing.length > 0 || unknown.length > 0 || repeated.length > 0) {
    throw new DomainError('invalid', 'invalid_csv_header', 'Invalid CSV header', {
      detail: `The first line must name the columns ${IMPORT_COLUMNS.join(',')}.`,
      extensions: { missing_columns: missing, unknown_columns: unknown, repeated_columns: repeated },
    });
  }
  return Object.fromEntries(IMPORT_COLUMNS.map((column) => [column, names.indexOf(column)])) as Record<
    ImportColumn,
    number
  >;
}

/** A data row → a registration, or the first problem found (card number first). */
export function readImportRow(
  fields: readonly string[],
  line: number,
  columns: ColumnPositions,
  cardTokenKey: string,
): ImportRow | RowProblem {
  if (fields.length !== IMPORT_COLUMNS.length) {
    return { line, field: null, reason: `expected ${IMPORT_COLUMNS.length} fields, found ${fields.length}` };
  }
  const value = (column: ImportColumn) => (fields[columns[column]] ?? '').trim();
  const pan = checkUnionPayPan(value('card_number'));
  if (!pan.ok) return { line, field: 'card_number', reason: PAN_REJECTION_MESSAGES[pan.reason] };
  for (const column of ['member_id', 'union_id'] as const) {
    const problem = referenceProblem(value(column));
    if (problem !== null) return { line, field: column, reason: problem };
  }
  const tier = value('tier');
  if (!TIERS.has(tier)) return { line, field: 'tier', reason: `must be one of ${CARD_TIERS.join(', ')}` };
  return {
    line,
    card_token: tokenizePan(pan.pan, cardTokenKey),
    card_last4: pan.pan.slice(-4),
    member_id: value('member_id'),
    union_id: value('union_id'),
    tier: tier as CardTier,
  };
}

export function isRowProblem(row: ImportRow | RowProblem): row is RowProblem {
  return 'reason' in row;
}
