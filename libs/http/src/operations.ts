/**
 * Operations: each HTTP operation described once, next to its handler, with the same zod
 * schemas the handler parses its request with and the schemas of what it answers. `route()`
 * mounts them; `openApiDocument()` turns a service's list of them into OpenAPI 3.1.
 */
import type { RequestHandler, Response } from 'express';
import type { z } from 'zod';

export type HttpMethod = 'get' | 'post' | 'put' | 'patch' | 'delete';

/**
 * Who may call: an operator role (a bearer JWT the console signs; an auditor reads wherever admin
 * or finance may), a merchant (bearer secret API key), or another service holding a service
 * credential with the role (`rate_sheet_reader`: settlement reading rate sheets); `person`: someone
 * signed in to the console, by its session cookie (the console's own API).
 */
export type Caller = 'admin' | 'finance' | 'merchant' | 'rate_sheet_reader' | 'person';

/** A body the route reads itself as a stream (a CSV import), not parsed by zod. */
export interface RawBody {
  contentType: string;
  description: string;
  example?: string;
}

export interface OperationRequest {
  path?: z.ZodType;
  query?: z.ZodType;
  /** Header names in lower case, as express hands them over (`idempotency-key`). */
  headers?: z.ZodType;
  body?: z.ZodType;
  rawBody?: RawBody;
}

export interface OperationResponse {
  description: string;
  /** Absent for a body that is not JSON and has no schema, e.g. a CSV file. */
  schema?: z.ZodType;
  /** Defaults to `application/json`. */
  contentType?: string;
  example?: string;
  headers?: Readonly<Record<string, string>>;
}

/** Statuses of `application/problem+json` answers (RFC 9457). */
export type ProblemStatus = 400 | 401 | 403 | 404 | 405 | 408 | 409 | 413 | 415 | 422 | 429 | 500 | 503;

export interface OperationSpec<
  Request extends OperationRequest = OperationRequest,
  Responses extends Readonly<Record<number, OperationResponse>> = Readonly<Record<number, OperationResponse>>,
> {
  method: HttpMethod;
  /** The express path, e.g. `/v1/merchants/:id` (documented as `/v1/merchants/{id}`). */
  path: string;
  operationId: string;
  summary: string;
  description?: string;
  tags: readonly [string, ...string[]];
  /** Empty: anyone, without credentials. */
  callers: readonly Caller[];
  request?: Request;
  responses: Responses;
  /**
   * Problems particular to this operation (409, 422, 429, 503...). Those that follow from its
   * shape are added: 400/413/415 for the body framing the app checks on every route, 401/403
   * for callers, 429 for merchant callers, 503 for callers, 404 for a path with an id, and 500
   * everywhere.
   */
  problems?: readonly ProblemStatus[];
  /**
   * Mounted ahead of the app's body parser (the platform's probes): no body is read or
   * refused, so no 400/413/415 for one.
   */
  beforeBodyParser?: boolean;
}

export interface Operation<
  Request extends OperationRequest = OperationRequest,
  Responses extends Readonly<Record<number, OperationResponse>> = Readonly<Record<number, OperationResponse>>,
> extends Readonly<OperationSpec<Request, Responses>> {
  request: Request;
  /** Every problem status the operation may answer, sorted. */
  problems: readonly ProblemStatus[];
}

function derivedProblems(spec: OperationSpec): ProblemStatus[] {
  const request = spec.request ?? {};
  const statuses = new Set<ProblemStatus>(spec.problems ?? []);
  if (request.path !== undefined || request.query !== undefined || request.headers !== undefined)
    statuses.add(400);
  // The app reads a JSON body before routing (app.ts) and refuses a body of another type on a
  // route that reads none, whatever the method (a GET may carry a body too), so every route
  // behind the parser can be refused for one: malformed (400), over the limit (413), not JSON (415).
  // A body too slow to arrive, or still arriving at its route's deadline, is 408 (decision 0018).
  if (spec.beforeBodyParser !== true)
    for (const status of [400, 408, 413, 415] as const) statuses.add(status);
  // An error on our side can come from any handler; the suites fail on one (conformance.ts).
  statuses.add(500);
  if (spec.callers.length > 0) statuses.add(401);
  // Merchant keys are rate limited per key (libs/service, MERCHANT_RATE_LIMIT_PER_SECOND), and an
  // address that keeps failing to authenticate is refused on every authenticated operation (0018).
  if (spec.callers.length > 0) statuses.add(429);
  if (spec.callers.length > 0 && spec.callers.some((caller) => caller !== 'merchant')) statuses.add(403);
  if (/:[a-z_]+/u.test(spec.path)) statuses.add(404);
  // Every authenticated operation reads Postgres: while it is away the answer is 503
  // dependency_unavailable with Retry-After (problem.ts).
  if (spec.callers.length > 0) statuses.add(503);
  return [...statuses].sort((a, b) => a - b);
}

export function defineOperation<
  const Request extends OperationRequest = Record<never, never>,
  const Responses extends Readonly<Record<number, OperationResponse>> = Readonly<
    Record<number, OperationResponse>
  >,
>(spec: OperationSpec<Request, Responses>): Operation<Request, Responses> {
  return Object.freeze({
    ...spec,
    request: spec.request ?? ({} as Request),
    problems: derivedProblems(spec as OperationSpec),
  });
}

/** `/v1/merchants/:id` → `/v1/merchants/{id}`. */
export function openApiPath(expressPath: string): string {
  return expressPath.replace(/:([A-Za-z_][A-Za-z0-9_]*)/gu, '{$1}');
}

/** A handler together with the operation it implements. */
export interface DocumentedHandler {
  operation: Operation;
  handler: RequestHandler;
}

export function documented(operation: Operation, handler: RequestHandler): DocumentedHandler {
  return { operation, handler };
}

/** What `respond` sends for a documented response: its schema's input, or text for a file. */
export type ResponseBody<Documented> = Documented extends { schema: infer Schema extends z.ZodType }
  ? z.input<Schema>
  : string | Buffer;

/**
 * Sends `body` with `status`, typed by the schema the operation documents for that status,
 * so a view that drifts from its documented shape fails the typecheck.
 */
export function respond<
  Responses extends Readonly<Record<number, OperationResponse>>,
  Status extends keyof Responses & number,
>(
  response: Response,
  operation: Operation<OperationRequest, Responses>,
  status: Status,
  body: ResponseBody<Responses[Status]>,
): void {
  const documented = operation.responses[status];
  const contentType = documented?.contentType ?? 'application/json';
  if (contentType === 'application/json') response.status(status).json(body);
  else response.status(status).type(contentType).send(body);
}
