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
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean')
    return String(value);
  return JSON.stringify(value);
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
