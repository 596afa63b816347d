/**
 * The OpenTelemetry SDK as Puhui runs it: a Node tracer provider (AsyncLocalStorage context,
 * W3C trace-context propagation), a batch span processor posting OTLP/HTTP JSON, and the
 * instrumentations of what the services use: http (the server side continues a caller's
 * `traceparent`; outgoing requests, the console's proxy among them, send the current one),
 * express, undici (fetch), pg, ioredis, and kafkajs consumers (./kafka-consumers.ts).
 * Loaded only when tracing is on (./index.ts), so the default costs nothing.
 */
import type { IncomingMessage } from 'node:http';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { registerInstrumentations } from '@opentelemetry/instrumentation';
import { ExpressInstrumentation, ExpressLayerType } from '@opentelemetry/instrumentation-express';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { IORedisInstrumentation } from '@opentelemetry/instrumentation-ioredis';
import { PgInstrumentation } from '@opentelemetry/instrumentation-pg';
import { UndiciInstrumentation } from '@opentelemetry/instrumentation-undici';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { ATTR_SERVICE_NAME } from '@opentelemetry/semantic-conventions';
import { KafkaConsumerInstrumentation } from './kafka-consumers';
import type { TracingSettings } from './settings';

/**
 * Platform routes polled by probes and Prometheus (every few seconds per target): a span each
 * would bury the traces anyone looks for.
 */
const UNTRACED_PATHS: ReadonlySet<string> = new Set(['/healthz', '/readyz', '/metrics']);

export interface TracingSdk {
  forceFlush(): Promise<void>;
  shutdown(): Promise<void>;
}

function untracedRequest(request: IncomingMessage): boolean {
  const path = (request.url ?? '/').split('?', 1)[0] ?? '/';
  return UNTRACED_PATHS.has(path);
}

export function startSdk(settings: TracingSettings): TracingSdk {
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({ [ATTR_SERVICE_NAME]: settings.serviceName }),
    // The batch processor's queue (2,048 spans) and schedule (OTEL_BSP_* variables, 5 s by
    // default) bound what a slow or absent collector can cost: spans beyond the queue are dropped.
    spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter({ url: settings.tracesEndpoint }))],
  });
  provider.register();
  registerInstrumentations({
    tracerProvider: provider,
    instrumentations: [
      new HttpInstrumentation({
        ignoreIncomingRequestHook: untracedRequest,
        // A client request outside any trace (a library's own call) is not worth a root trace.
        requireParentforOutgoingSpans: true,
      }),
      // Middleware layers (body parsers, security headers, rate limits) would add ~10 spans to
      // every request and router layers one more; the handler's span says where the time went.
      // Each span costs the service CPU (bench/capture-overhead.ts: ~0.3 ms a span on this machine).
      new ExpressInstrumentation({
        ignoreLayersType: [ExpressLayerType.MIDDLEWARE, ExpressLayerType.ROUTER],
      }),
      new UndiciInstrumentation({ requireParentforSpans: true }),
      // Without a parent these would be the outbox relay's and the jobs' polling queries, tens
      // per second: only queries inside a request or a consumed event are traced.
      // No span per pool checkout either: puhui_pg_pool_acquire_seconds (decision 0024) measures the wait.
      new PgInstrumentation({ requireParentSpan: true, ignoreConnectSpans: true }),
      new IORedisInstrumentation({ requireParentSpan: true }),
      new KafkaConsumerInstrumentation(),
    ],
  });
  return {
    forceFlush: () => provider.forceFlush(),
    shutdown: () => provider.shutdown(),
  };
}
