/**
 * The metric families every Puhui service may expose: the shared table of issue 20 (parts A and
 * B; decision 0024 keeps it), the Node defaults the dashboard reads, and Prometheus' own `up`.
 * The alert rules and the dashboard may query nothing else: a query on a name nobody exports is
 * an alert that can never fire and a panel that is always empty.
 */

/** Families from `@puhui/metrics` and libs/service (part A). */
export const PLATFORM_FAMILIES = [
  'puhui_http_requests_total',
  'puhui_http_request_duration_seconds',
  'puhui_http_requests_in_flight',
  'puhui_pg_pool_connections',
  'puhui_pg_pool_connections_max',
  'puhui_pg_pool_waiting_clients',
  'puhui_pg_pool_acquire_seconds',
  'puhui_outbox_backlog_events',
  'puhui_outbox_oldest_unpublished_age_seconds',
  'puhui_outbox_published_events_total',
  'puhui_outbox_relay_leader',
  'puhui_kafka_consumer_lag_messages',
  'puhui_events_consumed_total',
  'puhui_dlq_messages',
  'puhui_job_runs_total',
  'puhui_job_leader',
  'puhui_metrics_collect_errors_total',
] as const;

/** Families the services' own collectors register (part B). */
export const BUSINESS_FAMILIES = [
  'puhui_rate_sheet_lookups_total',
  'puhui_budget_remaining_fen',
  'puhui_budget_limit_fen',
  'puhui_budget_granted_fen',
  'puhui_business_day_captures',
  'puhui_business_day_gross_fen',
  'puhui_business_day_discount_fen',
  'puhui_reconciliation_exceptions_unresolved',
  'puhui_reconciliation_exception_oldest_unresolved_age_seconds',
  'puhui_subsidy_held_fen',
  'puhui_console_sign_ins_total',
] as const;

/**
 * Families B added inside its part beyond the shared table (spec Changes, "to C from B"):
 * rules by status, the ruleset version in Postgres and in Redis, merchants by status, and
 * subsidy payable beside held.
 */
export const BUSINESS_EXTRA_FAMILIES = [
  'puhui_discount_rules',
  'puhui_ruleset_version',
  'puhui_merchants',
  'puhui_subsidy_payable_fen',
] as const;

/** prom-client's `collectDefaultMetrics()` families that the dashboard reads. */
export const NODE_DEFAULT_FAMILIES = [
  'nodejs_eventloop_lag_seconds',
  'nodejs_eventloop_lag_p99_seconds',
  'process_resident_memory_bytes',
  'process_cpu_seconds_total',
  'nodejs_heap_size_used_bytes',
] as const;

/** Prometheus writes `up` for every target it scrapes. */
export const PROMETHEUS_FAMILIES = ['up'] as const;

/** The shared table of issue 20 (with the Node defaults and `up`): what the dashboard may read. */
export const TABLE_FAMILIES: ReadonlySet<string> = new Set([
  ...PLATFORM_FAMILIES,
  ...BUSINESS_FAMILIES,
  ...NODE_DEFAULT_FAMILIES,
  ...PROMETHEUS_FAMILIES,
]);

/** The table and B's extra families: what the alert rules may read. */
export const KNOWN_FAMILIES: ReadonlySet<string> = new Set([...TABLE_FAMILIES, ...BUSINESS_EXTRA_FAMILIES]);

/** The families that are histograms: their series carry `_bucket`, `_sum` and `_count`. */
const HISTOGRAMS = new Set(['puhui_http_request_duration_seconds', 'puhui_pg_pool_acquire_seconds']);

/** The family a series name belongs to (`…_seconds_bucket` → `…_seconds`); unknown names unchanged. */
export function familyOf(seriesName: string): string {
  const match = /^(.*)_(bucket|sum|count)$/u.exec(seriesName);
  if (match?.[1] !== undefined && HISTOGRAMS.has(match[1])) return match[1];
  return seriesName;
}
