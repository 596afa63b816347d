/**
 * Checks that a real answer matches what its operation documents: a documented status, its
 * content type, and a body its schema accepts (problem+json for error statuses). Test
 * harnesses run every call through this, so the documents are proven by the suites. The
 * operations come either from the zod definitions (a service's own tests) or from a served
 * OpenAPI document (the end-to-end and chaos harnesses, which run the built services).
 */
import { z } from 'zod';
import type { HttpMethod } from './operations';
import { PROBLEM_CONTENT_TYPE, problemSchema } from './problem';
import { PLATFORM_PROBLEM_CODES } from './problem-codes';

export interface ObservedResponse {
  method: string;
  /** The path called, with or without a query string. */
  path: string;
  status: number;
  contentType: string | null;
  /** Parsed JSON, or the text of a non-JSON body. */
  body: unknown;
}

/** What conformance reads of a documented answer; a schema-less one is checked by content type only. */
export interface DocumentedResponse {
  /** Defaults to `application/json`. */
  contentType?: string;
  schema?: z.ZodType;
}

/**
 * What conformance reads of an operation. A zod `Operation` has it; so has one read from an
 * OpenAPI document by `operationsFromOpenApi`, whose every status, problems included, is in
 * `responses`.
 */
export interface DocumentedAnswers {
  readonly method: HttpMethod;
  /** The express path, e.g. `/v1/merchants/:id`. */
  readonly path: string;
  readonly operationId: string;
  readonly responses: Readonly<Record<number, DocumentedResponse>>;
  /** Statuses answered as `application/problem+json` in the shared Problem shape. */
  readonly problems: readonly number[];
  /**
   * Problem codes the document gives one status wherever they are answered (a served
   * document's `x-problem-codes`); absent, the platform's own (PLATFORM_PROBLEM_CODES).
   */
  readonly problemCodes?: Readonly<Record<string, number>>;
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

function barePath(path: string): string {
  return path.split('?')[0] ?? path;
}

/**
 * The operation answering `method path`: literal paths win over templated ones
 * (`/v1/cards/imports` before `/v1/cards/:token`), as the routers mount them.
 */
export function findOperation<Documented extends DocumentedAnswers>(
  operations: readonly Documented[],
  method: string,
  path: string,
): Documented | undefined {
  const bare = barePath(path);
  const candidates = operations.filter(
    (operation) =>
      operation.method === (method.toLowerCase() as HttpMethod) && pathPattern(operation.path).test(bare),
  );
  return candidates.sort(
    (a, b) => (a.path.match(/:/gu)?.length ?? 0) - (b.path.match(/:/gu)?.length ?? 0),
  )[0];
}

/**
 * What is wrong with a problem answer beyond its shape: its `status` member is not the HTTP
 * status, or its `code` is one the document gives another status (an Idempotency-Key reused
 * answered 422 on an operation that documents 422 for other reasons, while the documents said
 * 409, passed a check of statuses alone).
 */
function problemCodeIssues(
  operation: DocumentedAnswers,
  observed: ObservedResponse,
  where: string,
): string[] {
  const { code, status } = observed.body as { code: string; status: number };
  if (status !== observed.status) return [`${where}: the problem says status ${status}`];
  const fixed = (operation.problemCodes ?? PLATFORM_PROBLEM_CODES)[code];
  return fixed === undefined || fixed === observed.status
    ? []
    : [`${where}: code ${code} is documented as status ${fixed}`];
}

function schemaIssues(schema: z.ZodType, body: unknown, where: string, prefix = ''): string[] {
  const result = schema.safeParse(body);
  return result.success
    ? []
    : result.error.issues.map(
        (issue) => `${where}: ${prefix}${issue.path.join('.') || '(body)'}: ${issue.message}`,
      );
}

/**
 * What is wrong with `observed` by its operation's documents; empty when it conforms. A 500 is
 * documented (a client must expect one) but never conforms: a suite that provokes one found a bug.
 */
export function responseIssues(operation: DocumentedAnswers, observed: ObservedResponse): string[] {
  const where = `${observed.method} ${observed.path} → ${observed.status}`;
  if (observed.status === 500) return [`${where}: an internal error is a bug, not a documented answer`];
  const mediaType = (observed.contentType ?? '').split(';')[0]?.trim() ?? '';
  const documented = operation.responses[observed.status];
  const isProblem = documented === undefined || documented.contentType === PROBLEM_CONTENT_TYPE;
  if (documented === undefined && !operation.problems.includes(observed.status)) {
    return [`${where}: status not documented for ${operation.operationId}`];
  }
  const expected = documented?.contentType ?? (isProblem ? PROBLEM_CONTENT_TYPE : 'application/json');
  if (mediaType !== expected) return [`${where}: content type ${mediaType}, documented ${expected}`];
  const schema = documented === undefined ? problemSchema : documented.schema;
  if (schema === undefined) return [];
  const issues = schemaIssues(schema, observed.body, where, documented === undefined ? 'problem ' : '');
  return issues.length > 0 || !isProblem ? issues : problemCodeIssues(operation, observed, where);
}

/**
 * Why no operation answers `method path`: the methods its path has, or that none has it. An
 * answer there (the router's own 404 or 405) is in no document, so a harness that checks every
 * answer cannot accept it as conforming.
 */
function unmatchedIssue(operations: readonly DocumentedAnswers[], observed: ObservedResponse): string {
  const bare = barePath(observed.path);
  const methods = operations
    .filter((operation) => pathPattern(operation.path).test(bare))
    .map((operation) => operation.method.toUpperCase());
  const where = `${observed.method} ${observed.path} → ${observed.status}`;
  return methods.length === 0
    ? `${where}: no documented operation has the path ${bare}`
    : `${where}: ${bare} is documented for ${[...new Set(methods)].join(', ')} only`;
}

/**
 * Throws when `observed` does not match its documented operation, and when no documented
 * operation answers its method and path at all: an answer the documents do not describe is
 * not proven by them.
 */
export function assertDocumentedResponse(
  operations: readonly DocumentedAnswers[],
  observed: ObservedResponse,
): void {
  const operation = findOperation(operations, observed.method, observed.path);
  const issues =
    operation === undefined ? [unmatchedIssue(operations, observed)] : responseIssues(operation, observed);
  if (issues.length > 0) {
    throw new Error(
      `The answer does not match the OpenAPI document:\n${issues.join('\n')}\nbody: ${JSON.stringify(observed.body)}`,
    );
  }
}

const DOCUMENTED_METHODS: readonly HttpMethod[] = ['get', 'post', 'put', 'patch', 'delete'];
const SCHEMAS_POINTER = '#/components/schemas/';
const RESPONSES_POINTER = '#/components/responses/';

const responseObjectSchema = z.looseObject({
  $ref: z.string().optional(),
  content: z.record(z.string(), z.looseObject({ schema: z.unknown().optional() })).optional(),
});
type ResponseObject = z.infer<typeof responseObjectSchema>;

const openApiSchema = z.looseObject({
  paths: z.record(z.string(), z.record(z.string(), z.unknown())),
  components: z
    .looseObject({
      schemas: z.record(z.string(), z.unknown()).optional(),
      responses: z.record(z.string(), responseObjectSchema).optional(),
      /** Each problem code answered with one status on every operation (openapi.ts). */
      'x-problem-codes': z.record(z.string(), z.int()).optional(),
    })
    .optional(),
});

const operationObjectSchema = z.looseObject({
  operationId: z.string(),
  responses: z.record(z.string(), responseObjectSchema),
});

/** `#/components/schemas/X` → `#/$defs/X`: zod's JSON Schema reader resolves references from the root. */
function withLocalReferences(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withLocalReferences);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value).map(([key, entry]) =>
      key === '$ref' && typeof entry === 'string' && entry.startsWith(SCHEMAS_POINTER)
        ? [key, `#/$defs/${entry.slice(SCHEMAS_POINTER.length)}`]
        : [key, withLocalReferences(entry)],
    ),
  );
}

/** A JSON body is checked against its schema; any other (a CSV file) by its content type only, as in `Operation`s. */
function isJsonMediaType(mediaType: string): boolean {
  return mediaType === 'application/json' || mediaType.endsWith('+json');
}

/**
 * The operations of a served (or committed) OpenAPI 3.1 document, for `assertDocumentedResponse`:
 * each status with its one media type and, for JSON, its schema read back into zod with the
 * document's components. Throws on a document it cannot read, so a harness never checks
 * against less than the document says.
 */
export function operationsFromOpenApi(document: unknown): DocumentedAnswers[] {
  const parsed = openApiSchema.parse(document);
  const definitions = withLocalReferences(parsed.components?.schemas ?? {});
  const compiled = new Map<string, z.ZodType>();
  const schemaOf = (schema: unknown): z.ZodType => {
    const local = JSON.stringify(withLocalReferences(schema));
    let converted = compiled.get(local);
    if (converted === undefined) {
      const root = { ...(JSON.parse(local) as object), $defs: definitions };
      converted = z.fromJSONSchema(root as z.core.JSONSchema.JSONSchema);
      compiled.set(local, converted);
    }
    return converted;
  };
  const resolve = (response: ResponseObject, where: string): ResponseObject => {
    if (response.$ref === undefined) return response;
    const name = response.$ref.startsWith(RESPONSES_POINTER)
      ? response.$ref.slice(RESPONSES_POINTER.length)
      : undefined;
    const target = name === undefined ? undefined : parsed.components?.responses?.[name];
    if (target === undefined) throw new Error(`${where}: cannot resolve ${response.$ref}`);
    return target;
  };
  const problemCodes = parsed.components?.['x-problem-codes'] ?? {};
  const operations: DocumentedAnswers[] = [];
  for (const [documentPath, item] of Object.entries(parsed.paths)) {
    for (const method of DOCUMENTED_METHODS) {
      if (item[method] === undefined) continue;
      const where = `${method.toUpperCase()} ${documentPath}`;
      const operation = operationObjectSchema.parse(item[method]);
      const responses: Record<number, DocumentedResponse> = {};
      for (const [status, response] of Object.entries(operation.responses)) {
        const media = Object.entries(resolve(response, `${where} ${status}`).content ?? {});
        if (media.length !== 1)
          throw new Error(`${where} ${status}: ${media.length} media types, expected one`);
        const [contentType, { schema }] = media[0] as [string, { schema?: unknown }];
        responses[Number(status)] = {
          contentType,
          ...(isJsonMediaType(contentType) && schema !== undefined ? { schema: schemaOf(schema) } : {}),
        };
      }
      operations.push({
        method,
        path: documentPath.replace(/\{([^}]+)\}/gu, ':$1'),
        operationId: operation.operationId,
        responses,
        problems: [],
        problemCodes,
      });
    }
  }
  return operations;
}
