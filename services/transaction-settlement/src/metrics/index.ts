/** Settlement's own metric families, for libs/service's `metrics` hook (decision 0024). */
import type { Registry } from '@puhui/metrics';
import { settlementGauges } from './gauges';
import type { SettlementGaugeDependencies } from './gauges';
import { registerRateSheetLookups } from './rate-sheet-lookups';

export function transactionSettlementMetrics(
  dependencies: SettlementGaugeDependencies,
  registry: Registry,
): void {
  settlementGauges(registry, dependencies);
  registerRateSheetLookups(registry);
}
