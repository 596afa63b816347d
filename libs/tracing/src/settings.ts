/**
 * The tracing settings: the standard OpenTelemetry variable names (so an operator's usual
 * collector configuration works unchanged), parsed once with zod. Off unless
 * `OTEL_TRACES_EXPORTER=otlp` says otherwise.
 */
import { z } from 'zod';

/** The OTLP/HTTP port a collector listens on by default (the OpenTelemetry specification's). */
const OTLP_HTTP_ENDPOINT_DEFAULT = 'http://localhost:4318';
const OTLP_TRACES_PATH = '/v1/traces';
/** OTLP/HTTP: an endpoint of another scheme (grpc://, a bare host:port) is a mistake to refuse. */
const HTTP_PROTOCOL = /^https?$/u;

const tracingEnvironment = z.object({
  /** `none` (the default: no SDK is loaded, no span is made) or `otlp` (OTLP/HTTP with JSON). */
  OTEL_TRACES_EXPORTER: z.enum(['none', 'otlp']).default('none'),
  /** The collector's base URL; `/v1/traces` is appended (the specification's rule). */
  OTEL_EXPORTER_OTLP_ENDPOINT: z.url({ protocol: HTTP_PROTOCOL }).optional(),
  /** The full URL traces are posted to; wins over OTEL_EXPORTER_OTLP_ENDPOINT. */
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: z.url({ protocol: HTTP_PROTOCOL }).optional(),
  /** `service.name` of every span; the service's own name by default. */
  OTEL_SERVICE_NAME: z.string().min(1).max(100).optional(),
});

export interface TracingSettings {
  exporter: 'none' | 'otlp';
  /** Where spans are posted (OTLP/HTTP). */
  tracesEndpoint: string;
  serviceName: string;
}

/** The settings of `environment` (the process's by default); refuses a value it does not know, by name. */
export function loadTracingSettings(
  service: string,
  environment: Readonly<Record<string, string | undefined>> = process.env,
): TracingSettings {
  const parsed = tracingEnvironment.safeParse({
    OTEL_TRACES_EXPORTER: blankToUndefined(environment.OTEL_TRACES_EXPORTER),
    OTEL_EXPORTER_OTLP_ENDPOINT: blankToUndefined(environment.OTEL_EXPORTER_OTLP_ENDPOINT),
    OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: blankToUndefined(environment.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT),
    OTEL_SERVICE_NAME: blankToUndefined(environment.OTEL_SERVICE_NAME),
  });
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
    throw new Error(`tracing settings refused: ${problems.join('; ')}`);
  }
  const settings = parsed.data;
  const base = (settings.OTEL_EXPORTER_OTLP_ENDPOINT ?? OTLP_HTTP_ENDPOINT_DEFAULT).replace(/\/+$/u, '');
  return Object.freeze({
    exporter: settings.OTEL_TRACES_EXPORTER,
    tracesEndpoint: settings.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ?? `${base}${OTLP_TRACES_PATH}`,
    serviceName: settings.OTEL_SERVICE_NAME ?? service,
  });
}

function blankToUndefined(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}
