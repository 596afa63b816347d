/**
 * Tracing for a service (decision 0026). A service's main.ts calls `startTracing` before it
 * imports anything else, because the instrumentations patch http, express, pg, ioredis and
 * kafkajs as they are first required. With `OTEL_TRACES_EXPORTER=none` (the default) the SDK
 * is not even loaded: the OpenTelemetry API stays a no-op, and the outbox, the relay and the
 * log lines (which use only the API) find no span and add nothing.
 */
import { loadTracingSettings } from './settings';
import type { TracingSettings } from './settings';
import type * as Sdk from './sdk';

export { loadTracingSettings };
export type { TracingSettings };

export interface Tracing {
  settings: TracingSettings;
  enabled: boolean;
  /** Exports what is buffered; resolves at once when tracing is off. */
  forceFlush(): Promise<void>;
  shutdown(): Promise<void>;
}

let started: Tracing | undefined;

/**
 * Starts tracing for `service` as its environment says; once per process (a second call returns
 * the first). Throws when a setting is refused, so a service with a mistyped exporter does not
 * start believing it traces.
 */
export function startTracing(options: {
  service: string;
  environment?: Readonly<Record<string, string | undefined>>;
}): Tracing {
  if (started !== undefined) return started;
  const settings = loadTracingSettings(options.service, options.environment);
  if (settings.exporter === 'none') {
    started = { settings, enabled: false, forceFlush: async () => {}, shutdown: async () => {} };
    return started;
  }
  // Required here, not imported at the top: the SDK and six instrumentations load only when on.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { startSdk } = require('./sdk') as typeof Sdk;
  const sdk: Sdk.TracingSdk = startSdk(settings);
  // The service's own SIGTERM handler drains and closes for a second or more before it exits;
  // the spans of the last moments are posted meanwhile instead of being lost with the process.
  for (const signal of ['SIGTERM', 'SIGINT'] as const) process.once(signal, () => void sdk.forceFlush());
  started = { settings, enabled: true, forceFlush: () => sdk.forceFlush(), shutdown: () => sdk.shutdown() };
  return started;
}
