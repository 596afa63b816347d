/**
 * Checks that a real answer matches what its operation documents: a documented status, its
 * content type, and a body its schema accepts (problem+json for error statuses). Test
 * harnesses run every call through this, so the documents are proven by the suites.
 */
import type { HttpMethod, Operation } from './operations';
import { PROBLEM_CONTENT_TYPE, problemSchema } from './problem';

export interface ObservedResponse {
  method: string;
  /** The path called, with or without a query string. */
  path: string;
  status: number;
  contentType: string | null;
  /** Parsed JSON, or the text of a non-JSON body. */
  body: unknown;
}

function pathPattern(expressPath: string): RegExp {
  const pattern = expressPath
    .split('/')
    .map((segment) =>
      segment.startsWith(':')
        ? '[^/]+'
        : segment.replace(/[.*+?^${}()|[\]\\]/gu, (character) => `\\${character}`),
    )
    .join('/');
  return new RegExp(`^${pattern}/?$`, 'u');
}

/**
 * The operation answering `method path`: literal paths win over templated ones
 * (`/v1/cards/imports` before `/v1/cards/:token`), as the routers mount them.
 */
export function findOperation(
  operations: readonly Operation[],
  method: string,
  path: string,
): Operation | undefined {
  const bare = path.split('?')[0] ?? path;
  const candidates = operations.filter(
    (operation) =>
      operation.method === (method.toLowerCase() as HttpMethod) && pathPattern(operation.path).test(bare),
  );
  return candidates.sort(
    (a, b) => (a.path.match(/:/gu)?.length ?? 0) - (b.path.match(/:/gu)?.length ?? 0),
  )[0];
}

/** What is wrong with `observed` by its operation's documents; empty when it conforms. */
export function responseIssues(operation: Operation, observed: ObservedResponse): string[] {
  const where = `${observed.method} ${observed.path} → ${observed.status}`;
  const mediaType = (observed.contentType ?? '').split(';')[0]?.trim() ?? '';
  const documented = operation.responses[observed.status];
  if (documented !== undefined) {
    const expected = documented.contentType ?? 'application/json';
    if (mediaType !== expected) return [`${where}: content type ${mediaType}, documented ${expected}`];
    if (documented.schema === undefined) return [];
    const result = documented.schema.safeParse(observed.body);
    return result.success
      ? []
      : result.error.issues.map((issue) => `${where}: ${issue.path.join('.') || '(body)'}: ${issue.message}`);
  }
  if (!(operation.problems as readonly number[]).includes(observed.status)) {
    return [`${where}: status not documented for ${operation.operationId}`];
  }
  if (mediaType !== PROBLEM_CONTENT_TYPE)
    return [`${where}: content type ${mediaType}, documented ${PROBLEM_CONTENT_TYPE}`];
  const result = problemSchema.safeParse(observed.body);
  return result.success
    ? []
    : result.error.issues.map((issue) => `${where}: problem ${issue.path.join('.')}: ${issue.message}`);
}

/**
 * Throws when `observed` does not match its documented operation. An answer to a path or
 * method no operation has (a test of 404 or 405 on purpose) is not checked.
 */
export function assertDocumentedResponse(operations: readonly Operation[], observed: ObservedResponse): void {
  const operation = findOperation(operations, observed.method, observed.path);
  if (operation === undefined) return;
  const issues = responseIssues(operation, observed);
  if (issues.length > 0) {
    throw new Error(
      `The answer does not match the OpenAPI document:\n${issues.join('\n')}\nbody: ${JSON.stringify(observed.body)}`,
    );
  }
}
