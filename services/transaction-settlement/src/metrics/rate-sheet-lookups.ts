/**
 * `puhui_rate_sheet_lookups_total{result}`: what each checkout's look into Redis for the card's
 * rate sheet found (rates/rate-sheets.ts). `hit`: a signed sheet of the current ruleset; `miss`:
 * no version or no sheet; `invalid`: a sheet whose signature or shape was refused; `error`:
 * Redis did not answer. A miss, an invalid sheet and an error all read through from
 * discount-rules. The counter is the process's (one registry per process, decision 0024): the
 * rate sheet reader counts into it without knowing the registry, and the service's `metrics`
 * hook registers it.
 */
import { Counter } from '@puhui/metrics';
import type { Registry } from '@puhui/metrics';

export type RateSheetLookupResult = 'hit' | 'miss' | 'invalid' | 'error';
const RESULTS: readonly RateSheetLookupResult[] = ['hit', 'miss', 'invalid', 'error'];

const lookups = new Counter({
  name: 'puhui_rate_sheet_lookups_total',
  help: 'Rate sheet lookups in Redis at checkout, by result (hit, miss, invalid, error).',
  labelNames: ['result'],
  registers: [],
});
// Every result shows from the first scrape, so a rate of misses exists before the first miss.
for (const result of RESULTS) lookups.inc({ result }, 0);

export function countRateSheetLookup(result: RateSheetLookupResult): void {
  lookups.inc({ result });
}

export function registerRateSheetLookups(registry: Registry): void {
  registry.registerMetric(lookups);
}
