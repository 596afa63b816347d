/** Settlement's own metric families, for libs/service's `metrics` hook (decision 0024). */
import type { Registry } from '@puhui/metrics';
import { settlementGauges } from './gauges';
import type { SettlementGaugeDependencies, SettlementGaugeOptions } from './gauges';
import { registerRateSheetLookups } from './rate-sheet-lookups';

export function transactionSettlementMetrics(
  dependencies: SettlementGaugeDependencies,
  registry: Registry,
  options?: SettlementGaugeOptions,
): void {
  settlementGauges(registry, dependencies, options);
  registerRateSheetLookups(registry);
}
