/**
 * Postgres pool use, read from each pg Pool at scrape time (its counts are plain fields: no
 * query), and the time to get a connection, which libs/postgres reports through the pool's
 * `acquireObserver` (createPool). `pool` is a name the code gives (`requests`, `jobs`,
 * `outbox-relay`): a handful per process.
 */
import { Gauge, Histogram } from 'prom-client';
import type { Registry } from 'prom-client';

/** What the gauges read of a pg Pool. */
export interface PoolCounts {
  readonly totalCount: number;
  readonly idleCount: number;
  readonly waitingCount: number;
  readonly options: { readonly max?: number };
}

/**
 * Seconds to get a pooled connection: an idle one takes microseconds, a new one a few ms, and a
 * wait for a busy pool up to the 5 s connect timeout (libs/postgres CONNECT_TIMEOUT_MS).
 */
export const POOL_ACQUIRE_BUCKETS_SECONDS = [
  0.0005, 0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5,
];

export class PoolMetrics {
  private readonly pools = new Map<string, PoolCounts>();
  private readonly acquire: Histogram<'pool'>;

  constructor(registry: Registry) {
    const pools = this.pools;
    new Gauge({
      name: 'puhui_pg_pool_connections',
      help: 'Connections each Postgres pool holds, idle or busy (checked out).',
      labelNames: ['pool', 'state'],
      registers: [registry],
      collect() {
        for (const [name, pool] of pools) {
          this.set({ pool: name, state: 'idle' }, pool.idleCount);
          this.set({ pool: name, state: 'busy' }, pool.totalCount - pool.idleCount);
        }
      },
    });
    new Gauge({
      name: 'puhui_pg_pool_connections_max',
      help: 'The most connections each Postgres pool opens.',
      labelNames: ['pool'],
      registers: [registry],
      collect() {
        for (const [name, pool] of pools) this.set({ pool: name }, pool.options.max ?? 10);
      },
    });
    new Gauge({
      name: 'puhui_pg_pool_waiting_clients',
      help: 'Callers queued for a connection of each Postgres pool.',
      labelNames: ['pool'],
      registers: [registry],
      collect() {
        for (const [name, pool] of pools) this.set({ pool: name }, pool.waitingCount);
      },
    });
    this.acquire = new Histogram({
      name: 'puhui_pg_pool_acquire_seconds',
      help: 'Time to get a connection from each Postgres pool (failed attempts included).',
      labelNames: ['pool'],
      buckets: POOL_ACQUIRE_BUCKETS_SECONDS,
      registers: [registry],
    });
  }

  /** Reports `pool` under `name`; returns the observer to pass as createPool's acquireObserver. */
  observer(name: string): (seconds: number) => void {
    const child = this.acquire.labels(name);
    return (seconds) => child.observe(seconds);
  }

  /** The pool, once created, whose counts the gauges read under `name`. */
  track(name: string, pool: PoolCounts): void {
    this.pools.set(name, pool);
  }
}
