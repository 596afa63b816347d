/**
 * The metric names a PromQL expression reads, found without a full parser: string literals,
 * label matchers `{…}`, range and subquery brackets `[…]`, grouping lists (`by (…)`,
 * `on (…)`, …) and Grafana variables (`$__rate_interval`, `${service}`) are removed first; what
 * is left that looks like a name and is not a function call or a keyword is a metric. The live
 * test (prometheus.test.ts) also runs every dashboard query on a real Prometheus, which parses
 * them for real, so a mistake here cannot hide an invalid query.
 */

const KEYWORDS = new Set([
  'and',
  'or',
  'unless',
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'offset',
  'bool',
  'inf',
  'nan',
  'atan2',
]);

/** Removes the `[...]`, `{...}` or `(...)` groups that follow `opener`'s pattern, nesting aside. */
function withoutGroups(expression: string, pattern: RegExp): string {
  return expression.replace(pattern, ' ');
}

export function metricNamesIn(expression: string): string[] {
  let rest = expression;
  rest = rest.replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/gu, '""');
  rest = rest.replace(/\$\{[^}]*\}|\$[A-Za-z_][A-Za-z0-9_]*/gu, ' ');
  rest = withoutGroups(rest, /\{[^}]*\}/gu);
  rest = withoutGroups(rest, /\[[^\]]*\]/gu);
  rest = withoutGroups(rest, /\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/gu);
  const names = new Set<string>();
  for (const match of rest.matchAll(/(?<![\w.:])([A-Za-z_:][A-Za-z0-9_:]*)(\s*\()?/gu)) {
    const [, name, call] = match;
    if (name === undefined || call !== undefined || KEYWORDS.has(name.toLowerCase())) continue;
    names.add(name);
  }
  return [...names];
}
