/**
 * The handler most operations have: the caller is checked first (so a stranger gets 401/403
 * whatever it sent), then the request is parsed by the operation's own schemas, and what the
 * answer gives is sent with the documented status. Also the audit trail's list, which every
 * service with an audit trail serves the same way.
 */
import type { Request, Response, Router } from 'express';
import type { z } from 'zod';
import { route } from './app';
import { defineOperation, documented, respond } from './operations';
import type {
  DocumentedHandler,
  Operation,
  OperationRequest,
  OperationResponse,
  ResponseBody,
} from './operations';
import { parseRequest } from './validation';
import type { ParsedRequest } from './validation';

type Part<Schemas, Name extends string> = Schemas extends Record<Name, infer Schema> ? Schema : undefined;

/** The request as `parseRequest` answers it for an operation's schemas. */
export type ParsedBy<Schemas> = ParsedRequest<
  Part<Schemas, 'path'>,
  Part<Schemas, 'query'>,
  Part<Schemas, 'body'>,
  Part<Schemas, 'headers'>
>;

export function answered<
  Schemas extends OperationRequest,
  Responses extends Readonly<Record<number, OperationResponse>>,
  Status extends keyof Responses & number,
  Caller,
>(
  operation: Operation<Schemas, Responses>,
  status: Status,
  callerOf: (request: Request, response: Response) => Promise<Caller>,
  answer: (
    caller: Caller,
    request: ParsedBy<Schemas>,
  ) => Promise<ResponseBody<Responses[Status]>> | ResponseBody<Responses[Status]>,
): DocumentedHandler {
  return documented(operation, async (request, response) => {
    const caller = await callerOf(request, response);
    const parsed = parseRequest(request, operation.request) as unknown as ParsedBy<Schemas>;
    respond(response, operation, status, await answer(caller, parsed));
  });
}

/**
 * `GET /v1/audit_events`: admins read a page of the append-only audit trail, oldest first, with
 * the service's `query` and list `schema` (`pageSchema`) and a `summary` of what it records.
 * `mount` serves it with the service's admin check and its store's list.
 */
export function auditTrailRoutes<Query extends z.ZodType, List extends z.ZodType>(
  query: Query,
  schema: List,
  summary: string,
) {
  const operation = defineOperation({
    method: 'get',
    path: '/v1/audit_events',
    operationId: 'listAuditEvents',
    summary,
    tags: ['audit'],
    callers: ['admin'],
    request: { query },
    responses: {
      200: { description: 'A page of the audit trail, oldest first.', schema },
    },
  });
  return {
    operations: [operation],
    mount: (
      router: Router,
      adminOf: (request: Request, response: Response) => Promise<unknown>,
      list: (query: z.output<Query>) => Promise<z.input<List>>,
    ): void => {
      route(router, operation.path, {
        get: answered(operation, 200, adminOf, (_admin, { query }) => list(query as z.output<Query>)),
      });
    },
  };
}
