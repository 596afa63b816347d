/**
 * The express app factory every service uses: request ids, request logging, security headers,
 * /healthz and /readyz, the defences of decision 0018 (the caller checked before a body is read,
 * body limits and arrival deadlines per route, slow senders cut off, addresses that keep failing
 * to authenticate refused), strict content types, a 404/405 fallback and the one problem+json
 * error mapper.
 */
import { isUtf8 } from 'node:buffer';
import { randomUUID } from 'node:crypto';
import express from 'express';
import type { Express, NextFunction, Request, RequestHandler, Response, Router } from 'express';
import { DomainError, ServiceUnavailable } from '@puhui/errors';
import { withLogContext } from '@puhui/logging';
import type { Logger } from '@puhui/logging';
import { mountDocs, verifyDocumented } from './docs';
import type { ApiDocs } from './docs';
import { documented, respond } from './operations';
import type { DocumentedHandler, HttpMethod, Operation } from './operations';
import { FailedAuthenticationGate, addressKey } from './address-gate';
import type { FailedAuthenticationLimits } from './address-gate';
import { ArrivalWatch } from './arrival';
import type { ArrivalLimits } from './arrival';
import { callerCheckOf } from './caller';
import { labelOperation, metricsHandler, observeRequests, operationLabelOf } from './metrics';
import type { MetricsEndpoint, RequestObserver } from './metrics';
import { healthOperation, readinessOperation } from './platform-operations';
import { problemFromDomainError, problemMapper, routeNotFound, sendProblem } from './problem';
import { securityHeaders } from './security-headers';

export interface ReadinessCheck {
  name: string;
  /** Resolves when the dependency answers; rejects (or times out) when it does not. */
  check: () => Promise<unknown>;
}

export interface AppOptions {
  service: string;
  logger: Logger;
  /** The JSON body limit of a route that names none (RouteOptions.bodyLimitBytes). */
  bodyLimitBytes: number;
  /** The arrival deadline of a route that names none (RouteOptions.timeoutMs); default 30 s. */
  requestTimeoutMs?: number;
  /** Slow bodies (arrival.ts); default 1 KiB/s after 5 s. */
  bodyRate?: Pick<ArrivalLimits, 'bodyRateBytesPerSecondMin' | 'bodyRateGraceMs'>;
  /** 401s per client address before it is refused (address-gate.ts); default 100 a minute. */
  failedAuthentication?: FailedAuthenticationLimits;
  /** Answers carry Strict-Transport-Security (the service is reached over TLS). */
  servedOverTls?: boolean;
  /**
   * Refuse to start when a mounted operation has callers but the routes registered no caller
   * check (`authenticateCallers`): every service sets it, so none reads a stranger's body.
   */
  requireCallerCheck?: boolean;
  readinessChecks?: readonly ReadinessCheck[];
  readinessTimeoutMs?: number;
  /** Mounts the service's routes; use `route()` so that wrong methods answer 405. */
  routes?: (router: Router) => void;
  /**
   * Routes mounted ahead of the JSON body parser (and the 415 check), which read or forward
   * the request stream themselves: the console's proxy to the services, whose bodies (CSV
   * uploads) must stream through untouched. Not checked against `docs`.
   */
  beforeBodyParser?: (router: Router) => void;
  /**
   * Serves /openapi.json, /docs and /asyncapi.json, and refuses to start when a mounted
   * route has no operation or an operation is not mounted.
   */
  docs?: ApiDocs;
  /** Told of every request's start and finish, labelled by operation (metrics.ts). */
  requestObserver?: RequestObserver;
  /** Serves GET /metrics (a platform route, before any caller check or rate limit). */
  metrics?: MetricsEndpoint;
}

export interface AppHandle {
  app: Express;
  /** Set by the server on SIGTERM: /readyz answers 503 so that load balancers stop sending. */
  markDraining(): void;
  /** The longest arrival deadline of any route: the server's own requestTimeout backstop. */
  requestTimeoutMsMax: number;
}

const REQUEST_ID_SHAPE = /^[\w.:-]{1,128}$/u;
const READINESS_TIMEOUT_MS_DEFAULT = 2000;
const REQUEST_TIMEOUT_MS_DEFAULT = 30_000;
const BODY_RATE_DEFAULT = { bodyRateBytesPerSecondMin: 1024, bodyRateGraceMs: 5000 };
const FAILED_AUTHENTICATION_DEFAULT: FailedAuthenticationLimits = {
  perAddressMax: 100,
  windowMs: 60_000,
  addressesMax: 10_000,
};
const JSON_TYPES = ['application/json', 'application/*+json'];

/** The id of the request `response` answers (X-Request-Id), for audit rows; null outside a request. */
export function requestIdOf(response: Response): string | null {
  const requestId: unknown = response.locals.requestId;
  return typeof requestId === 'string' ? requestId : null;
}

function assignRequestId(request: Request, response: Response, next: NextFunction): void {
  const offered = request.header('x-request-id');
  const requestId = offered !== undefined && REQUEST_ID_SHAPE.test(offered) ? offered : randomUUID();
  response.locals.requestId = requestId;
  response.setHeader('X-Request-Id', requestId);
  withLogContext({ request_id: requestId }, () => next());
}

function logRequests(logger: Logger): RequestHandler {
  return (request, response, next) => {
    const startedAt = process.hrtime.bigint();
    response.on('finish', () => {
      const durationMs = Number(process.hrtime.bigint() - startedAt) / 1e6;
      const level = response.statusCode >= 500 ? 'error' : 'info';
      logger[level](
        {
          request_id: response.locals.requestId,
          method: request.method,
          path: request.originalUrl.split('?')[0],
          status: response.statusCode,
          duration_ms: Math.round(durationMs * 10) / 10,
          // Who called, when the service named it (`response.locals.principal`, e.g. the console's `person:<id>`).
          ...(typeof response.locals.principal === 'string' ? { principal: response.locals.principal } : {}),
        },
        'request finished',
      );
    });
    next();
  };
}

/**
 * Counts every 401 (and every caller check answered `not_yet_available`) against the client's
 * address, and refuses an address past its allowance (address-gate.ts). Mounted after the
 * probes and the docs, which stay open to everyone.
 */
function refuseFailingAddresses(gate: FailedAuthenticationGate): RequestHandler {
  return (request, response, next) => {
    const address = addressKey(request.socket.remoteAddress);
    response.on('finish', () => {
      if (response.statusCode === 401 || response.locals.callerUnknown === true) gate.recordFailure(address);
    });
    const retryAfterSeconds = gate.refusedFor(address);
    if (retryAfterSeconds !== undefined) {
      throw new DomainError('rate_limited', 'too_many_failed_authentications', 'Too many requests', {
        detail: `Too many requests without valid credentials from this address; retry after ${retryAfterSeconds} seconds.`,
        extensions: { retry_after_seconds: retryAfterSeconds },
      });
    }
    next();
  };
}

/**
 * A body must be JSON unless its route opted in to a raw type (see `RouteOptions`). The app
 * only notes a non-JSON body here, before parsing; the route decides, so that a streaming
 * route (a CSV import) can read its own body while every other route still answers 415.
 */
function noteNonJsonBody(request: Request, response: Response, next: NextFunction): void {
  const hasBody =
    request.headers['transfer-encoding'] !== undefined || Number(request.headers['content-length'] ?? 0) > 0;
  if (hasBody && !request.is(JSON_TYPES)) response.locals.nonJsonBody = true;
  next();
}

function refuseUnexpectedBody(rawBodyTypes: readonly string[]): RequestHandler {
  return (request, response, next) => {
    const accepted = rawBodyTypes.length > 0 && request.is([...rawBodyTypes]) !== false;
    if (response.locals.nonJsonBody === true && !accepted) {
      const types = ['application/json', ...rawBodyTypes].join(' or ');
      throw new DomainError('unsupported_media_type', 'unsupported_media_type', 'Unsupported media type', {
        detail: `Send the body as ${types}.`,
      });
    }
    next();
  };
}

function withTimeout<T>(promise: Promise<T>, timeoutMs: number, name: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${name} did not answer within ${timeoutMs} ms`)), timeoutMs);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

export function createApp(options: AppOptions): AppHandle {
  const { logger } = options;
  const readinessTimeoutMs = options.readinessTimeoutMs ?? READINESS_TIMEOUT_MS_DEFAULT;
  let draining = false;
  const requestTimeoutMs = options.requestTimeoutMs ?? REQUEST_TIMEOUT_MS_DEFAULT;
  const arrival = new ArrivalWatch({ requestTimeoutMs, ...(options.bodyRate ?? BODY_RATE_DEFAULT) });
  const gate = new FailedAuthenticationGate(options.failedAuthentication ?? FAILED_AUTHENTICATION_DEFAULT);
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.set('query parser', 'simple');
  if (options.requestObserver !== undefined) app.use(observeRequests(options.requestObserver));
  app.use(assignRequestId);
  app.use(logRequests(logger));
  app.use(securityHeaders({ servedOverTls: options.servedOverTls === true }));
  app.use((request, response, next) => {
    arrival.watch(request, response);
    next();
  });

  route(app, '/healthz', {
    get: documented(healthOperation, (_request, response) => {
      respond(response, healthOperation, 200, { status: 'ok', service: options.service });
    }),
  });
  route(app, '/readyz', {
    get: documented(readinessOperation, async (request, response) => {
      if (draining) {
        const problem = problemFromDomainError(
          new ServiceUnavailable('shutting_down', 'The service is shutting down.'),
          request.originalUrl,
          response.locals.requestId as string,
        );
        sendProblem(response, problem);
        return;
      }
      const checks = options.readinessChecks ?? [];
      const outcomes = await Promise.allSettled(
        checks.map((check) => withTimeout(check.check(), readinessTimeoutMs, check.name)),
      );
      const results = Object.fromEntries(
        checks.map((check, index) => {
          const outcome = outcomes[index];
          return [check.name, outcome?.status === 'fulfilled' ? 'ok' : 'failing'];
        }),
      );
      const failing = Object.entries(results).filter(([, result]) => result !== 'ok');
      if (failing.length === 0) {
        respond(response, readinessOperation, 200, {
          status: 'ready',
          service: options.service,
          checks: results,
        });
        return;
      }
      // The reasons (a host name, a driver message) are for the logs, not for whoever asks.
      const reasons = Object.fromEntries(
        checks.flatMap((check, index) => {
          const outcome = outcomes[index];
          return outcome?.status === 'rejected' ? [[check.name, String(outcome.reason)]] : [];
        }),
      );
      logger.warn({ checks: results, reasons }, 'not ready');
      const problem = problemFromDomainError(
        new DomainError('unavailable', 'not_ready', 'Not ready', {
          detail: `Not ready: ${failing.map(([name]) => name).join(', ')} not answering.`,
          extensions: { checks: results },
        }),
        request.originalUrl,
        response.locals.requestId as string,
      );
      sendProblem(response, problem);
    }),
  });

  if (options.metrics !== undefined) route(app, '/metrics', { get: metricsHandler(options.metrics) });
  if (options.docs !== undefined) mountDocs(app, options.docs);
  app.use(refuseFailingAddresses(gate));
  if (options.beforeBodyParser !== undefined) {
    const streaming = express.Router({ strict: false, caseSensitive: true });
    options.beforeBodyParser(streaming);
    app.use(streaming);
  }

  app.use(noteNonJsonBody);
  const router = express.Router({ strict: false, caseSensitive: true });
  const settings: RouterSettings = {
    mounted: [],
    bodyLimitBytes: options.bodyLimitBytes,
    requestTimeoutMs,
    requestTimeoutMsMax: requestTimeoutMs,
    arrival,
  };
  routerSettings.set(router, settings);
  options.routes?.(router);
  if (options.docs !== undefined) verifyDocumented(settings.mounted, options.docs.operations);
  if (options.requireCallerCheck === true && callerCheckOf(router) === undefined) {
    const withCallers = settings.mounted.filter((mounted) => (mounted.operation?.callers.length ?? 0) > 0);
    if (withCallers.length > 0)
      throw new Error(
        `${withCallers.map((mounted) => `${mounted.method.toUpperCase()} ${mounted.path}`).join(', ')} ` +
          'take callers but no caller check is registered (authenticateCallers): their bodies would be read before the caller is known.',
      );
  }
  app.use(router);
  app.use(() => routeNotFound());
  app.use(problemMapper(logger));

  return {
    app,
    markDraining: () => {
      draining = true;
    },
    requestTimeoutMsMax: settings.requestTimeoutMsMax,
  };
}

/**
 * JSON.parse would read invalid UTF-8 as U+FFFD and a name or reference would be stored with a
 * character nobody sent; refuse the body instead (body-parser turns the error into a 400 below).
 */
function refuseInvalidUtf8(_request: unknown, _response: unknown, body: Buffer, encoding: string): void {
  if (encoding.toLowerCase() === 'utf-8' && !isUtf8(body)) {
    throw Object.assign(new Error('The request body is not valid UTF-8.'), {
      status: 400,
      type: 'entity.encoding.invalid',
    });
  }
}

type Method = HttpMethod;
/** A plain handler, or one with the operation it implements (see `documented()`). */
export type RouteHandlers = Partial<Record<Method, RequestHandler | DocumentedHandler>>;

export interface MountedRoute {
  method: Method;
  path: string;
  operation: Operation | undefined;
}

/** What `route()` needs of the app whose router it mounts on, and what it mounted there. */
interface RouterSettings {
  mounted: MountedRoute[];
  bodyLimitBytes: number;
  requestTimeoutMs: number;
  /** Raised by routes with a longer deadline. */
  requestTimeoutMsMax: number;
  arrival: ArrivalWatch;
}

const routerSettings = new WeakMap<object, RouterSettings>();

export interface RouteOptions {
  /**
   * Content types (besides JSON) that this route reads itself as a stream, e.g. `text/csv`
   * for a bulk import. Such a body skips the 415 and the JSON parser: the handler bounds what
   * it reads (with `bodyLimitBytes` a larger declared Content-Length is refused up front).
   */
  rawBodyTypes?: readonly string[];
  /**
   * The largest body this route takes (413 past it), instead of the app's (HTTP_BODY_LIMIT_BYTES,
   * 100 KiB): e.g. a preview of many checkouts. A raw body's declared Content-Length is held to
   * it before anything is read.
   */
  bodyLimitBytes?: number;
  /**
   * How long the request may take to arrive, body included (408 and the connection closed
   * after), instead of the app's (HTTP_REQUEST_TIMEOUT_MS, 30 s): e.g. a streamed import.
   */
  timeoutMs?: number;
}

/** One JSON parser per limit in use (a handful), not one per route. */
const jsonParsers = new Map<number, RequestHandler>();

function jsonBody(limitBytes: number): RequestHandler {
  let parser = jsonParsers.get(limitBytes);
  if (parser === undefined) {
    parser = express.json({ limit: limitBytes, strict: true, type: JSON_TYPES, verify: refuseInvalidUtf8 });
    jsonParsers.set(limitBytes, parser);
  }
  return parser;
}

/** A streamed body declaring more than the route takes is refused before a byte of it is read. */
function refuseDeclaredOverLimit(limitBytes: number | undefined): RequestHandler {
  return (request, _response, next) => {
    const declared = Number(request.headers['content-length'] ?? 0);
    if (limitBytes !== undefined && declared > limitBytes)
      throw new DomainError('payload_too_large', 'payload_too_large', 'Payload too large', {
        detail: `The request body exceeds the size limit of ${limitBytes} bytes.`,
      });
    next();
  };
}

/** The steps ahead of a handler on an app's router: deadline, caller, content type, body. */
function beforeHandler(
  router: object,
  settings: RouterSettings,
  operation: Operation | undefined,
  options: RouteOptions,
): RequestHandler[] {
  const timeoutMs = options.timeoutMs ?? settings.requestTimeoutMs;
  settings.requestTimeoutMsMax = Math.max(settings.requestTimeoutMsMax, timeoutMs);
  const rawBodyTypes = options.rawBodyTypes ?? [];
  const steps: RequestHandler[] = [
    (request, _response, next) => {
      settings.arrival.setDeadline(request, timeoutMs);
      next();
    },
  ];
  // An operation without callers is anyone's; an undocumented handler is checked like the rest.
  if ((operation?.callers.length ?? 1) > 0)
    steps.push(async (request, response, next) => {
      try {
        await callerCheckOf(router)?.(request, response);
      } catch (error) {
        // A key "not yet available" (minted a moment ago, decision 0011) is not a known caller
        // either: a guesser minting fresh-looking keys is counted like one sending old ones.
        if (error instanceof DomainError && error.code === 'not_yet_available')
          response.locals.callerUnknown = true;
        throw error;
      }
      next();
    });
  steps.push(refuseUnexpectedBody(rawBodyTypes));
  steps.push(
    rawBodyTypes.length > 0
      ? refuseDeclaredOverLimit(options.bodyLimitBytes)
      : jsonBody(options.bodyLimitBytes ?? settings.bodyLimitBytes),
  );
  return steps;
}

/**
 * Mounts `handlers` on `path`; any other method answers 405 with an Allow header. On an app's
 * router each handler first gets its deadline, its caller checked (when the operation has
 * callers and the routes registered a check, caller.ts), its content type checked and its JSON
 * body parsed within the route's limit. Express 5 passes a rejected promise from an async
 * handler to the error mapper.
 */
export function route(
  router: Pick<Router, 'route'>,
  path: string,
  handlers: RouteHandlers,
  options: RouteOptions = {},
): void {
  const methods = Object.keys(handlers) as Method[];
  const allow = methods.map((method) => method.toUpperCase()).join(', ');
  const settings = routerSettings.get(router);
  const chain = router.route(path);
  // The app's own routes (the probes) read no body: a body of another type is still refused.
  if (settings === undefined) chain.all(refuseUnexpectedBody(options.rawBodyTypes ?? []));
  for (const method of methods) {
    const entry = handlers[method];
    if (entry === undefined) continue;
    const operation = typeof entry === 'function' ? undefined : entry.operation;
    if (operation !== undefined && (operation.method !== method || operation.path !== path)) {
      throw new Error(
        `${operation.operationId} documents ${operation.method} ${operation.path}, mounted as ${method} ${path}`,
      );
    }
    settings?.mounted.push({ method, path, operation });
    const handler = typeof entry === 'function' ? entry : entry.handler;
    const steps = settings === undefined ? [] : beforeHandler(router, settings, operation, options);
    // Labelled first, so that a refusal (401, 413) counts under the operation it was for.
    if (operation !== undefined) steps.unshift(labelOperation(operationLabelOf(operation.operationId)));
    chain[method](...steps, handler);
  }
  chain.all(() => {
    throw new DomainError('method_not_allowed', 'method_not_allowed', 'Method not allowed', {
      detail: `Use ${allow} on this path.`,
      extensions: { allow },
    });
  });
}
