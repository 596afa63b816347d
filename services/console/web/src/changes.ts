/**
 * An approval request's before/after as rows of a table: nested objects flatten to dotted paths,
 * amounts in fen (`*_minor`) show as yuan. Pure, so the console's jest tests it.
 */
import { formatShanghaiTime, formatYuan } from './format';

export interface ChangeRow {
  field: string;
  before: string;
  after: string;
  changed: boolean;
}

const MAX_DEPTH = 4;
const MAX_ROWS = 100;

function flatten(value: unknown, prefix: string, into: Map<string, unknown>, depth: number): void {
  if (value !== null && typeof value === 'object' && !Array.isArray(value) && depth < MAX_DEPTH) {
    for (const [key, inner] of Object.entries(value as Record<string, unknown>)) {
      flatten(inner, prefix === '' ? key : `${prefix}.${key}`, into, depth + 1);
    }
    return;
  }
  into.set(prefix === '' ? 'value' : prefix, value);
}

/** An RFC 3339 instant with a time and an offset (a plain date such as a business day stays as it is). */
const INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/;

export function showValue(field: string, value: unknown): string {
  if (value === undefined || value === null || value === '') return '—';
  if (typeof value === 'number' && field.endsWith('_minor') && Number.isSafeInteger(value))
    return formatYuan(value);
  if (typeof value === 'string' && INSTANT.test(value)) return formatShanghaiTime(value);
  if (typeof value === 'number' && field.endsWith('_bps') && Number.isSafeInteger(value))
    return `${value / 100}%`;
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean')
    return String(value);
  // A list of named things (a merchant's outlets) shows their names; a list of words, the words.
  if (Array.isArray(value)) {
    if (value.length === 0) return '—';
    if (value.every((item) => typeof item === 'string' || typeof item === 'number')) return value.join('、');
    if (value.every((item) => isNamed(item))) return value.map((item) => item.name).join('、');
  }
  return JSON.stringify(value);
}

function isNamed(value: unknown): value is { name: string } {
  return (
    value !== null && typeof value === 'object' && typeof (value as { name?: unknown }).name === 'string'
  );
}

/**
 * The words of a before/after table in the page's language: field names by dotted path, and the
 * coded values (statuses by the request's target type, categories, account types, yes/no).
 */
export interface ChangeWords {
  fields: Readonly<Record<string, string>>;
  /** Statuses by target type: merchant, rule, settlement_batch… */
  statuses: Readonly<Record<string, Readonly<Record<string, string>>>>;
  /** Other coded values by field path (its last segment also matches: `category`, `account_type`). */
  values: Readonly<Record<string, Readonly<Record<string, string>>>>;
  yes: string;
  no: string;
  /** Joins a known parent's name to the rest of a path it has no word for: "结算账户 · foo". */
  separator: string;
}

/** A field's name: its own word, else its nearest named parent's and the rest, else the path. */
export function fieldName(field: string, words: ChangeWords): string {
  const own = words.fields[field];
  if (own !== undefined) return own;
  const segments = field.split('.');
  for (let length = segments.length - 1; length > 0; length -= 1) {
    const parent = words.fields[segments.slice(0, length).join('.')];
    if (parent !== undefined) return [parent, ...segments.slice(length)].join(words.separator);
  }
  return field;
}

/** A shown value in words when it is a code the page knows (`in_review` → 审核中), else as shown. */
export function valueWords(targetType: string, field: string, shown: string, words: ChangeWords): string {
  const leaf = field.split('.').at(-1) ?? field;
  if (leaf === 'status') return words.statuses[targetType]?.[shown] ?? shown;
  const coded = words.values[field] ?? words.values[leaf];
  if (coded?.[shown] !== undefined) return coded[shown];
  if (shown === 'true') return words.yes;
  if (shown === 'false') return words.no;
  return shown;
}

/** The rows with their field names and coded values in words (changed is decided on the codes). */
export function wordedChangeRows(
  targetType: string,
  before: unknown,
  after: unknown,
  words: ChangeWords,
): Array<ChangeRow & { path: string }> {
  return changeRows(before, after).map((row) => ({
    path: row.field,
    field: fieldName(row.field, words),
    before: valueWords(targetType, row.field, row.before, words),
    after: valueWords(targetType, row.field, row.after, words),
    changed: row.changed,
  }));
}

export function changeRows(before: unknown, after: unknown): ChangeRow[] {
  const old = new Map<string, unknown>();
  const next = new Map<string, unknown>();
  if (before !== null && before !== undefined) flatten(before, '', old, 0);
  if (after !== null && after !== undefined) flatten(after, '', next, 0);
  const fields = [...new Set([...old.keys(), ...next.keys()])].slice(0, MAX_ROWS);
  const rows = fields.map((field) => {
    const shownBefore = showValue(field, old.get(field));
    const shownAfter = showValue(field, next.get(field));
    return { field, before: shownBefore, after: shownAfter, changed: shownBefore !== shownAfter };
  });
  // What changes first: a merchant's approval carries its whole record, of which one field moves.
  return [...rows.filter((row) => row.changed), ...rows.filter((row) => !row.changed)];
}
