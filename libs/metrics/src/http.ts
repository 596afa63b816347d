/**
 * The request families of every service's HTTP server. libs/http reports each finished request
 * through its RequestObserver interface; this turns the reports into series. Per request the hot
 * path does one Map lookup, one counter increment and one histogram observation: the label
 * children are made once per label set (operations × methods × status classes, a few hundred)
 * and kept.
 */
import { Counter, Gauge, Histogram } from 'prom-client';
import type { Registry } from 'prom-client';

/** Seconds: 5 ms to 10 s, the buckets the shared table fixes (a capture's p99 sits near 50 ms). */
export const HTTP_DURATION_BUCKETS_SECONDS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** Methods kept as they are; anything else a client sends is `OTHER`, so the label stays bounded. */
const KNOWN_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);
const STATUS_CLASSES = ['1xx', '2xx', '3xx', '4xx', '5xx'] as const;

export const HTTP_REQUEST_LABELS = ['operation', 'method', 'status_class'] as const;

interface Children {
  requests: { inc: () => void };
  duration: { observe: (seconds: number) => void };
}

export function statusClassOf(statusCode: number): string {
  const index = Math.floor(statusCode / 100) - 1;
  return STATUS_CLASSES[index] ?? '5xx';
}

export class HttpMetrics {
  private readonly requests: Counter<(typeof HTTP_REQUEST_LABELS)[number]>;
  private readonly duration: Histogram<(typeof HTTP_REQUEST_LABELS)[number]>;
  private readonly inFlight: Gauge;
  private readonly children = new Map<string, Children>();

  constructor(registry: Registry) {
    this.requests = new Counter({
      name: 'puhui_http_requests_total',
      help: 'HTTP requests answered, by operation (operationId, a platform route, or unmatched), method and status class.',
      labelNames: HTTP_REQUEST_LABELS,
      registers: [registry],
    });
    this.duration = new Histogram({
      name: 'puhui_http_request_duration_seconds',
      help: 'Time from the request reaching the app to the last byte of the answer.',
      labelNames: HTTP_REQUEST_LABELS,
      buckets: HTTP_DURATION_BUCKETS_SECONDS,
      registers: [registry],
    });
    this.inFlight = new Gauge({
      name: 'puhui_http_requests_in_flight',
      help: 'Requests received and not yet answered.',
      registers: [registry],
    });
  }

  requestStarted(): void {
    this.inFlight.inc();
  }

  requestFinished(operation: string, method: string, statusCode: number, seconds: number): void {
    this.inFlight.dec();
    const knownMethod = KNOWN_METHODS.has(method) ? method : 'OTHER';
    const statusClass = statusClassOf(statusCode);
    const key = `${operation} ${knownMethod} ${statusClass}`;
    let children = this.children.get(key);
    if (children === undefined) {
      children = {
        requests: this.requests.labels(operation, knownMethod, statusClass),
        duration: this.duration.labels(operation, knownMethod, statusClass),
      };
      this.children.set(key, children);
    }
    children.requests.inc();
    children.duration.observe(seconds);
  }
}
