/**
 * The express app factory every service uses: request ids, request logging, a JSON body
 * limit, strict content types, /healthz and /readyz, a 404/405 fallback and the one
 * problem+json error mapper.
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
import { healthOperation, readinessOperation } from './platform-operations';
import { problemFromDomainError, problemMapper, routeNotFound, sendProblem } from './problem';

export interface ReadinessCheck {
  name: string;
  /** Resolves when the dependency answers; rejects (or times out) when it does not. */
  check: () => Promise<unknown>;
}

export interface AppOptions {
  service: string;
  logger: Logger;
  bodyLimitBytes: number;
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
}

export interface AppHandle {
  app: Express;
  /** Set by the server on SIGTERM: /readyz answers 503 so that load balancers stop sending. */
  markDraining(): void;
}

const REQUEST_ID_SHAPE = /^[\w.:-]{1,128}$/u;
const READINESS_TIMEOUT_MS_DEFAULT = 2000;
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
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.set('query parser', 'simple');
  app.use(assignRequestId);
  app.use(logRequests(logger));

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
          return [check.name, outcome?.status === 'fulfilled' ? 'ok' : `failing: ${String(outcome?.reason)}`];
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
      logger.warn({ checks: results }, 'not ready');
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

  if (options.docs !== undefined) mountDocs(app, options.docs);
  if (options.beforeBodyParser !== undefined) {
    const streaming = express.Router({ strict: false, caseSensitive: true });
    options.beforeBodyParser(streaming);
    app.use(streaming);
  }

  app.use(noteNonJsonBody);
  app.use(
    express.json({
      limit: options.bodyLimitBytes,
      strict: true,
      type: JSON_TYPES,
      verify: refuseInvalidUtf8,
    }),
  );
  const router = express.Router({ strict: false, caseSensitive: true });
  const mounted: MountedRoute[] = [];
  mountedRoutes.set(router, mounted);
  options.routes?.(router);
  if (options.docs !== undefined) verifyDocumented(mounted, options.docs.operations);
  app.use(router);
  app.use(() => routeNotFound());
  app.use(problemMapper(logger));

  return {
    app,
    markDraining: () => {
      draining = true;
    },
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

/** What `route()` mounted on each app's router, so that createApp can check it is documented. */
const mountedRoutes = new WeakMap<object, MountedRoute[]>();

export interface RouteOptions {
  /**
   * Content types (besides JSON) that this route reads itself as a stream, e.g. `text/csv`
   * for a bulk import. Such a body skips the 415 and the JSON parser, so the app's body
   * limit does not bound it either: the handler must bound what it reads.
   */
  rawBodyTypes?: readonly string[];
}

/**
 * Mounts `handlers` on `path`; any other method answers 405 with an Allow header.
 * Express 5 passes a rejected promise from an async handler to the error mapper.
 */
export function route(
  router: Pick<Router, 'route'>,
  path: string,
  handlers: RouteHandlers,
  options: RouteOptions = {},
): void {
  const methods = Object.keys(handlers) as Method[];
  const allow = methods.map((method) => method.toUpperCase()).join(', ');
  const chain = router.route(path);
  chain.all(refuseUnexpectedBody(options.rawBodyTypes ?? []));
  for (const method of methods) {
    const entry = handlers[method];
    if (entry === undefined) continue;
    const operation = typeof entry === 'function' ? undefined : entry.operation;
    if (operation !== undefined && (operation.method !== method || operation.path !== path)) {
      throw new Error(
        `${operation.operationId} documents ${operation.method} ${operation.path}, mounted as ${method} ${path}`,
      );
    }
    mountedRoutes.get(router)?.push({ method, path, operation });
    chain[method](typeof entry === 'function' ? entry : entry.handler);
  }
  chain.all(() => {
    throw new DomainError('method_not_allowed', 'method_not_allowed', 'Method not allowed', {
      detail: `Use ${allow} on this path.`,
      extensions: { allow },
    });
  });
}
