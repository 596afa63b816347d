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
export const COLLECT_WAIT_MS_DEFAULT = 2000;
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
  /**
   * How long a scrape waits for a read under way (default 2 s): past it the scrape takes the last
   * value and counts an error, and the read goes on for the next scrape. A broker or database that
   * stops answering would otherwise hold /metrics past Prometheus' 10 s scrape timeout, and the
   * target would read as down instead of its gauges as stale.
   */
  waitMs?: number;
  /** Tests: the clock. */
  now?: () => number;
}

/**
 * A function returning the last successful result of `read`, reading again when it is older
 * than `maxAgeMs` and waiting at most `waitMs` for it; undefined until a read has succeeded.
 * Never rejects.
 */
export function cachedReading<T>(settings: CachedReadingSettings<T>): () => Promise<T | undefined> {
  const maxAgeMs = settings.maxAgeMs ?? COLLECT_MAX_AGE_MS_DEFAULT;
  const now = settings.now ?? Date.now;
  const errors = collectErrors(settings.registry).labels(settings.collector);
  let last: { value: T } | undefined;
  let readAt = Number.NEGATIVE_INFINITY;
  let pending: Promise<T | undefined> | undefined;
  const waitMs = settings.waitMs ?? COLLECT_WAIT_MS_DEFAULT;
  const waited = (reading: Promise<T | undefined>): Promise<T | undefined> => {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<T | undefined>((resolve) => {
      timer = setTimeout(() => {
        errors.inc();
        resolve(last?.value);
      }, waitMs);
    });
    return Promise.race([reading, late]).finally(() => clearTimeout(timer));
  };
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
    return waited(pending);
  };
}
