/**
 * One prom-client Registry per process (decision 0024): every series carries
 * `service="<name>"`, Prometheus adds `job` and `instance`. Node's default metrics (event-loop
 * lag, memory, GC, handles) are collected on the same registry.
 */
import { Registry, collectDefaultMetrics } from 'prom-client';
import type { Metric } from 'prom-client';

export { Counter, Gauge, Histogram, Registry } from 'prom-client';
export type { CounterConfiguration, GaugeConfiguration, HistogramConfiguration } from 'prom-client';

/**
 * How often Node's event-loop delay is sampled (ms). prom-client's default is 10 ms; 20 ms halves
 * the timer wake-ups and still sees any stall long enough to matter for a 250 ms p99 target.
 */
const EVENT_LOOP_MONITORING_PRECISION_MS = 20;

let processDefaults: Registry | undefined;

/**
 * Node's default metrics, collected once per process: prom-client starts an event-loop delay
 * monitor and a GC observer for each collection and never stops them, so a test process that
 * starts fifty services would run fifty of each. Every service registry shows the same metric
 * objects, under its own `service` label.
 */
function defaultMetrics(): readonly Metric[] {
  if (processDefaults === undefined) {
    processDefaults = new Registry();
    collectDefaultMetrics({
      register: processDefaults,
      eventLoopMonitoringPrecision: EVENT_LOOP_MONITORING_PRECISION_MS,
    });
  }
  return processDefaults.getMetricsAsArray() as unknown as Metric[];
}

export function createMetricsRegistry(service: string): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  for (const metric of defaultMetrics()) registry.registerMetric(metric);
  return registry;
}

/** The text Prometheus scrapes, and the content type to send it with. */
export async function scrape(registry: Registry): Promise<{ contentType: string; body: string }> {
  return { contentType: registry.contentType, body: await registry.metrics() };
}
