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
  /**
   * When not empty, a scrape must send one of them as a bearer token (METRICS_SCRAPE_TOKEN, and
   * METRICS_SCRAPE_TOKEN_PREVIOUS while it is rotated).
   */
  scrapeTokens?: readonly string[];
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

/**
 * Whether the request's bearer token is one of `tokens` (their SHA-256), each compared in constant
 * time (equal-length hashes) and every one compared, so the time says nothing about which matched.
 */
function bearerMatches(header: string | undefined, tokens: readonly Buffer[]): boolean {
  const match = /^Bearer ([^\s]+)$/u.exec(header ?? '');
  if (match?.[1] === undefined) return false;
  const offered = sha256(match[1]);
  return tokens.map((token) => timingSafeEqual(offered, token)).includes(true);
}

export function metricsHandler(endpoint: MetricsEndpoint): RequestHandler {
  const tokens = (endpoint.scrapeTokens ?? []).map(sha256);
  return async (request, response) => {
    response.locals.metricsOperation = 'metrics';
    if (tokens.length > 0 && !bearerMatches(request.header('authorization'), tokens)) {
      response.setHeader('WWW-Authenticate', 'Bearer realm="metrics"');
      throw new Unauthenticated('Send the scrape token as Authorization: Bearer <token>.');
    }
    const { contentType, body } = await endpoint.scrape();
    response.setHeader('Content-Type', contentType);
    response.setHeader('Cache-Control', 'no-store');
    response.send(body);
  };
}
