/**
 * What the app tells a metrics library (decision 0024) without depending on one: each request's
 * start and finish, labelled by its operation, and GET /metrics answered from a scrape function.
 * /metrics is a platform route like /healthz: no merchant key, operator token or rate limit, not
 * in the OpenAPI document; with a scrape token it asks for `Authorization: Bearer <token>`.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { RequestHandler, Response } from 'express';
import { Unauthenticated } from '@puhui/errors';

export interface RequestObserver {
  requestStarted(): void;
  /** `operation`: the operationId, a platform route's name (`healthz`, `metrics`, …) or `unmatched`. */
  requestFinished(operation: string, method: string, statusCode: number, seconds: number): void;
}

export interface MetricsEndpoint {
  scrape: () => Promise<{ contentType: string; body: string }>;
  /** When set, a scrape must send it as a bearer token (METRICS_SCRAPE_TOKEN). */
  scrapeToken?: string;
}

export const UNMATCHED_OPERATION = 'unmatched';

/** The label of the platform's own operations: the route's name rather than its operationId. */
const PLATFORM_OPERATION_LABELS: Readonly<Record<string, string>> = {
  getHealth: 'healthz',
  getReadiness: 'readyz',
};

export function operationLabelOf(operationId: string): string {
  return PLATFORM_OPERATION_LABELS[operationId] ?? operationId;
}

/** Names the operation a request reached, for the observer (set before the caller is checked). */
export function labelOperation(label: string): RequestHandler {
  return (_request, response, next) => {
    response.locals.metricsOperation = label;
    next();
  };
}

/** Reports every request's start, and its finish (answered, or its connection closed early). */
export function observeRequests(observer: RequestObserver): RequestHandler {
  return (request, response, next) => {
    const startedAt = process.hrtime.bigint();
    observer.requestStarted();
    response.once('close', () => {
      const seconds = Number(process.hrtime.bigint() - startedAt) / 1e9;
      observer.requestFinished(operationOf(response), request.method, response.statusCode, seconds);
    });
    next();
  };
}

function operationOf(response: Response): string {
  const label: unknown = response.locals.metricsOperation;
  return typeof label === 'string' ? label : UNMATCHED_OPERATION;
}

function sha256(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

/** Whether the request's bearer token is `token`, compared in constant time (of equal-length hashes). */
function bearerMatches(header: string | undefined, token: Buffer): boolean {
  const match = /^Bearer ([^\s]+)$/u.exec(header ?? '');
  return match?.[1] !== undefined && timingSafeEqual(sha256(match[1]), token);
}

export function metricsHandler(endpoint: MetricsEndpoint): RequestHandler {
  const token = endpoint.scrapeToken === undefined ? undefined : sha256(endpoint.scrapeToken);
  return async (request, response) => {
    response.locals.metricsOperation = 'metrics';
    if (token !== undefined && !bearerMatches(request.header('authorization'), token)) {
      response.setHeader('WWW-Authenticate', 'Bearer realm="metrics"');
      throw new Unauthenticated('Send the scrape token as Authorization: Bearer <token>.');
    }
    const { contentType, body } = await endpoint.scrape();
    response.setHeader('Content-Type', contentType);
    response.setHeader('Cache-Control', 'no-store');
    response.send(body);
  };
}
