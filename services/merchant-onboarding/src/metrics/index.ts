/**
 * merchant-onboarding's own metric family, for libs/service's `metrics` hook (decision 0024):
 * `puhui_merchants{status}`, every merchant by its lifecycle status (draft, submitted,
 * in_review, rejected, active, suspended, terminated): applications waiting for a reviewer
 * show as submitted + in_review. Read at scrape time through the status index, cached 5 s
 * (@puhui/metrics' cachedReading).
 */
import { MERCHANT_STATUSES } from '@puhui/contracts';
import type { MerchantStatus } from '@puhui/contracts';
import type { Logger } from '@puhui/logging';
import { COLLECT_MAX_AGE_MS_DEFAULT, Gauge, cachedReading } from '@puhui/metrics';
import type { Registry } from '@puhui/metrics';
import type { Pool } from '@puhui/postgres';

// The lifecycle's statuses as the contracts name them: every one shows, at 0 when none.
export { MERCHANT_STATUSES };

async function readMerchants(pool: Pool): Promise<Record<MerchantStatus, number>> {
  const { rows } = await pool.query<{ status: MerchantStatus; merchants: string }>(
    'SELECT status, count(*)::text AS merchants FROM merchants GROUP BY status',
  );
  const counts = Object.fromEntries(MERCHANT_STATUSES.map((status) => [status, 0])) as Record<
    MerchantStatus,
    number
  >;
  for (const row of rows) counts[row.status] = Number(row.merchants);
  return counts;
}

export function merchantOnboardingMetrics(
  { pool, logger, config }: { pool: Pool; logger: Logger; config: { METRICS_COLLECT_MAX_AGE_MS?: number } },
  registry: Registry,
): void {
  const reading = cachedReading({
    registry,
    collector: 'merchants',
    read: () =>
      readMerchants(pool).catch((error: unknown) => {
        logger.warn(
          { collector: 'merchants', error: (error as Error).message },
          'metrics reading failed; last values kept',
        );
        throw error;
      }),
    maxAgeMs: config.METRICS_COLLECT_MAX_AGE_MS ?? COLLECT_MAX_AGE_MS_DEFAULT,
  });
  new Gauge({
    name: 'puhui_merchants',
    help: 'Merchants by lifecycle status (submitted + in_review: applications waiting for a reviewer).',
    labelNames: ['status'],
    registers: [registry],
    async collect() {
      const counts = await reading();
      if (counts === undefined) return;
      for (const status of MERCHANT_STATUSES) this.set({ status }, counts[status]);
    },
  });
}
