/** What the stores' list queries share. */
import { pageRowsLimit } from '@puhui/postgres';
import type { PageRequest } from '@puhui/postgres';

/**
 * A list query's parameters: the named filters in order, null where absent (so that each
 * `($n IS NULL OR …)` holds), then the page's row limit.
 */
export function listParams<Filter extends PageRequest>(
  filter: Filter,
  names: ReadonlyArray<keyof Filter>,
): unknown[] {
  return [...names.map((name) => filter[name] ?? null), pageRowsLimit(filter)];
}
