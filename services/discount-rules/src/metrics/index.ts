/**
 * discount-rules' own metric families, for libs/service's `metrics` hook (decision 0024):
 * `puhui_discount_rules{status}` (draft, published, retired) and
 * `puhui_ruleset_version{store}`: the published ruleset version in Postgres and the one Redis
 * serves to checkouts. The two differ while a publish is being copied to Redis; a difference
 * that stays means checkouts price with an old ruleset. Both read at scrape time, cached 5 s
 * (@puhui/metrics' cachedReading): a few rows of the rules' status index, one row of
 * ruleset_head and one Redis GET.
 */
import { RULESET_VERSION_KEY } from '@puhui/discount';
import type { Redis } from '@puhui/cache';
import type { Logger } from '@puhui/logging';
import { COLLECT_MAX_AGE_MS_DEFAULT, Gauge, cachedReading } from '@puhui/metrics';
import type { Registry } from '@puhui/metrics';
import type { Pool } from '@puhui/postgres';

export const RULE_STATUSES = ['draft', 'published', 'retired'] as const;

interface RulesReading {
  rules: Record<(typeof RULE_STATUSES)[number], number>;
  postgresVersion: number;
  /** Null while Redis holds no version (before the first sync, or after a flush). */
  redisVersion: number | null;
}

async function readRules(pool: Pool, redis: Redis): Promise<RulesReading> {
  const [byStatus, head, cached] = await Promise.all([
    pool.query<{ status: (typeof RULE_STATUSES)[number]; rules: string }>(
      'SELECT status, count(*)::text AS rules FROM rules GROUP BY status',
    ),
    pool.query<{ ruleset_version: string }>('SELECT ruleset_version::text FROM ruleset_head'),
    redis.get(RULESET_VERSION_KEY),
  ]);
  const rules = Object.fromEntries(RULE_STATUSES.map((status) => [status, 0])) as RulesReading['rules'];
  for (const row of byStatus.rows) rules[row.status] = Number(row.rules);
  return {
    rules,
    postgresVersion: Number(head.rows[0]?.ruleset_version ?? 0),
    redisVersion: cached === null ? null : Number(cached),
  };
}

export interface DiscountRulesMetricsDependencies {
  pool: Pool;
  redis: Redis;
  logger: Logger;
  /** METRICS_COLLECT_MAX_AGE_MS: how long a reading is shown before a scrape reads again. */
  config: { METRICS_COLLECT_MAX_AGE_MS?: number };
}

export function discountRulesMetrics(
  { pool, redis, logger, config }: DiscountRulesMetricsDependencies,
  registry: Registry,
): void {
  const reading = cachedReading({
    registry,
    collector: 'discount_rules',
    read: () =>
      readRules(pool, redis).catch((error: unknown) => {
        logger.warn(
          { collector: 'discount_rules', error: (error as Error).message },
          'metrics reading failed; last values kept',
        );
        throw error;
      }),
    maxAgeMs: config.METRICS_COLLECT_MAX_AGE_MS ?? COLLECT_MAX_AGE_MS_DEFAULT,
  });
  new Gauge({
    name: 'puhui_discount_rules',
    help: 'Discount rules by status (draft, published, retired).',
    labelNames: ['status'],
    registers: [registry],
    async collect() {
      const current = await reading();
      if (current === undefined) return;
      for (const status of RULE_STATUSES) this.set({ status }, current.rules[status]);
    },
  });
  new Gauge({
    name: 'puhui_ruleset_version',
    help: 'The published ruleset version: in Postgres (store="postgres") and as Redis serves it to checkouts (store="redis", absent while Redis holds none).',
    labelNames: ['store'],
    registers: [registry],
    async collect() {
      const current = await reading();
      if (current === undefined) return;
      this.reset();
      this.set({ store: 'postgres' }, current.postgresVersion);
      if (current.redisVersion !== null) this.set({ store: 'redis' }, current.redisVersion);
    },
  });
}
