/**
 * Gauges read at scrape time (a table, Kafka's watermarks) go through `cachedReading`: one read
 * per `maxAgeMs` (5 s by default) however many scrapes arrive — two Prometheus servers and a
 * person's curl are one query, not three — and concurrent scrapes share the read under way. A
 * read that fails keeps the last value and counts `puhui_metrics_collect_errors_total{collector}`,
 * so a slow or missing dependency shows as a counter moving, not as a scrape failing.
 */
import { Counter } from 'prom-client';
import type { Registry } from 'prom-client';

export const COLLECT_MAX_AGE_MS_DEFAULT = 5000;
const COLLECT_ERRORS_NAME = 'puhui_metrics_collect_errors_total';

/** The registry's collect-errors counter (made on first use: one per registry). */
export function collectErrors(registry: Registry): Counter<'collector'> {
  const existing = registry.getSingleMetric(COLLECT_ERRORS_NAME);
  if (existing !== undefined) return existing as Counter<'collector'>;
  return new Counter({
    name: COLLECT_ERRORS_NAME,
    help: 'Reads of a scrape-time gauge that failed (the gauge kept its last value), by collector.',
    labelNames: ['collector'],
    registers: [registry],
  });
}

export interface CachedReadingSettings<T> {
  registry: Registry;
  /** Names the reading in puhui_metrics_collect_errors_total{collector} (a constant, not a value). */
  collector: string;
  read: () => Promise<T>;
  maxAgeMs?: number;
  /** Tests: the clock. */
  now?: () => number;
}

/**
 * A function returning the last successful result of `read`, reading again when it is older
 * than `maxAgeMs`; undefined until a read has succeeded. Never rejects.
 */
export function cachedReading<T>(settings: CachedReadingSettings<T>): () => Promise<T | undefined> {
  const maxAgeMs = settings.maxAgeMs ?? COLLECT_MAX_AGE_MS_DEFAULT;
  const now = settings.now ?? Date.now;
  const errors = collectErrors(settings.registry).labels(settings.collector);
  let last: { value: T } | undefined;
  let readAt = Number.NEGATIVE_INFINITY;
  let pending: Promise<T | undefined> | undefined;
  return () => {
    if (now() - readAt < maxAgeMs) return Promise.resolve(last?.value);
    pending ??= settings
      .read()
      .then(
        (value) => {
          last = { value };
          return value;
        },
        () => {
          errors.inc();
          return last?.value;
        },
      )
      .finally(() => {
        readAt = now();
        pending = undefined;
      });
    return pending;
  };
}
