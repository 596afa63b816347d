/**
 * A service's OpenAPI 3.1 document, generated from its operations (see operations.ts): the
 * zod schemas its handlers parse with become parameters and request bodies, the documented
 * response schemas become responses, and every problem status refers to one Problem schema.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { JsonSchemaCollector, REPLICATION_WINDOW_MS } from '@puhui/contracts';
import type { JsonSchema } from '@puhui/contracts';
import type { z } from 'zod';
import type { Operation, OperationResponse, ProblemStatus } from './operations';
import { openApiPath } from './operations';
import { PLATFORM_OPERATIONS, PLATFORM_TAG } from './platform-operations';
import { PROBLEM_CONTENT_TYPE, problemSchema } from './problem';
import { PLATFORM_PROBLEM_CODES, platformCodesOf } from './problem-codes';

export interface ApiInfo {
  title: string;
  version: string;
  description: string;
  /** Where the service answers, e.g. `http://127.0.0.1:8080`. */
  serverUrl: string;
  tags: ReadonlyArray<{ name: string; description: string }>;
}

/** A service's title and version in its document: `Puhui <name>`, at its package.json's version. */
export function apiTitleAndVersion(
  name: string,
  packageDirectory: string,
): Pick<ApiInfo, 'title' | 'version'> {
  const manifest = JSON.parse(readFileSync(path.join(packageDirectory, 'package.json'), 'utf8')) as {
    version: string;
  };
  return { title: `Puhui ${name}`, version: manifest.version };
}

const COMPONENTS = '#/components/schemas/';

const PROBLEM_DESCRIPTIONS: Record<ProblemStatus, string> = {
  400: 'Malformed JSON, or fields that did not validate (each named in `invalid_params`).',
  401: 'No credentials, or credentials that are unknown, expired or revoked.',
  403: 'The caller is known but its role may not do this.',
  404: 'No such resource, or one the caller may not see (another merchant’s id answers 404).',
  405: 'The path exists but not with this method (see the Allow header).',
  408: 'The request did not arrive in time: still arriving at its deadline, or its body slower than the minimum rate (`request_timeout`, `body_too_slow`); the connection is closed.',
  409: 'The resource is in a state that does not allow this (`current_status` says which); where the operation takes an Idempotency-Key, also while the first request with that key is still being processed (`idempotency_key_in_flight`, retry later).',
  413: 'The body exceeds the size limit (this operation’s own, or the platform’s 100 KiB).',
  415: 'The body is not in a content type this operation reads.',
  422: 'The request is well formed but cannot be carried out (see `code`); where the operation takes an Idempotency-Key, also that key used before with a different request (`idempotency_key_reused`).',
  429: 'Too many at once, or too many failed authentications from this address (`too_many_failed_authentications`): retry after the Retry-After header’s seconds.',
  500: 'An error on our side; quote `request_id` to support. Safe to retry with the same Idempotency-Key.',
  503: `A dependency is not answering, or what the request names was created a moment ago in another service and has not reached this one yet (\`not_yet_available\`: an id or key minted within the last ${REPLICATION_WINDOW_MS / 60_000} minutes; past that, the usual 400/401/404); retry after the Retry-After header’s seconds.`,
};

const SECURITY_SCHEMES = {
  operatorToken: {
    type: 'http',
    scheme: 'bearer',
    bearerFormat: 'JWT',
    description:
      'A person’s operator token: an ES256 JWT the console signs for a signed-in account, at most 5 minutes long, `aud` this service, `sub` the account id, `roles` among `admin`, `finance`, `auditor` (reads wherever admin or finance may, changes nothing: 403 `read_only_role`) and `merchant_staff` (its own merchant’s data, as the merchant). Services verify it against the console’s JWKS and cannot mint one; for development, `npm run token -- admin` signs one with the development key.',
  },
  serviceCredential: {
    type: 'http',
    scheme: 'bearer',
    description:
      'Another Puhui service’s credential (`svc_…`) with one narrow role (`rate_sheet_reader`: transaction-settlement reading rate sheets); admitted by the operations that name the role only.',
  },
  merchantKey: {
    type: 'http',
    scheme: 'bearer',
    description: 'A merchant’s secret API key (`sk_live_…`), shown once when created.',
  },
  consoleSession: {
    type: 'apiKey',
    in: 'cookie',
    name: 'puhui_session',
    description:
      'A person signed in to the console: its HttpOnly, SameSite=Strict session cookie. State-changing calls also need the console’s Origin and the session’s CSRF token in X-CSRF-Token.',
  },
} as const;

/** Only the schemes some operation uses: a service without merchant callers has no merchantKey. */
function usedSecuritySchemes(operations: readonly Operation[]) {
  const callers = new Set(operations.flatMap((operation) => operation.callers));
  return {
    ...(callers.has('admin') || callers.has('finance')
      ? { operatorToken: SECURITY_SCHEMES.operatorToken }
      : {}),
    ...(callers.has('merchant') ? { merchantKey: SECURITY_SCHEMES.merchantKey } : {}),
    ...(callers.has('rate_sheet_reader') ? { serviceCredential: SECURITY_SCHEMES.serviceCredential } : {}),
    ...(callers.has('person') ? { consoleSession: SECURITY_SCHEMES.consoleSession } : {}),
  };
}

function titleCase(header: string): string {
  return header.replace(
    /(^|-)([a-z])/gu,
    (_, dash: string, letter: string) => `${dash}${letter.toUpperCase()}`,
  );
}

function accepts(schema: z.ZodType, value: unknown): boolean {
  return schema.safeParse(value).success;
}

type ParameterIn = 'path' | 'query' | 'header';

function parametersOf(schema: z.ZodType | undefined, where: ParameterIn, collector: JsonSchemaCollector) {
  if (schema === undefined) return [];
  // Query strings and headers arrive as text; their schemas' output shows the type meant.
  const converted = collector.convert(schema, where === 'path' ? 'input' : 'output');
  const properties = (converted.properties ?? {}) as Record<string, JsonSchema>;
  const required = new Set(
    where === 'query' ? requiredQueryFields(schema) : (converted.required as string[]),
  );
  return Object.entries(properties).map(([name, property]) => {
    const { description, ...propertySchema } = property;
    return {
      name: where === 'header' ? titleCase(name) : name,
      in: where,
      required: where === 'path' || required.has(name),
      ...(typeof description === 'string' ? { description } : {}),
      schema: propertySchema,
    };
  });
}

/** A query field is required when leaving it out fails (a default makes it optional). */
function requiredQueryFields(schema: z.ZodType): string[] {
  const shape = (schema as unknown as { shape?: Record<string, z.ZodType> }).shape ?? {};
  return Object.entries(shape)
    .filter(([, field]) => !accepts(field, undefined))
    .map(([name]) => name);
}

function requestBodyOf(operation: Operation, collector: JsonSchemaCollector) {
  const { body, rawBody } = operation.request;
  if (rawBody !== undefined) {
    return {
      required: true,
      description: rawBody.description,
      content: {
        [rawBody.contentType]: {
          schema: { type: 'string' },
          ...(rawBody.example === undefined ? {} : { example: rawBody.example }),
        },
      },
    };
  }
  if (body === undefined) return undefined;
  return {
    required: !accepts(body, undefined),
    content: { 'application/json': { schema: collector.convert(body, 'input') } },
  };
}

function responseOf(response: OperationResponse, collector: JsonSchemaCollector) {
  const contentType = response.contentType ?? 'application/json';
  const schema =
    response.schema === undefined ? { type: 'string' } : collector.convert(response.schema, 'output');
  return {
    description: response.description,
    ...(response.headers === undefined
      ? {}
      : {
          headers: Object.fromEntries(
            Object.entries(response.headers).map(([name, description]) => [
              name,
              { description, schema: { type: 'string' } },
            ]),
          ),
        }),
    content: {
      [contentType]: { schema, ...(response.example === undefined ? {} : { example: response.example }) },
    },
  };
}

function securityOf(operation: Operation) {
  const roles = operation.callers.filter((caller) => caller === 'admin' || caller === 'finance');
  const services = operation.callers.filter((caller) => caller === 'rate_sheet_reader');
  return [
    ...(roles.length > 0 ? [{ operatorToken: roles }] : []),
    ...(operation.callers.includes('merchant') ? [{ merchantKey: [] }] : []),
    ...(services.length > 0 ? [{ serviceCredential: services }] : []),
    ...(operation.callers.includes('person') ? [{ consoleSession: [] }] : []),
  ];
}

function whoMayCall(operation: Operation): string {
  if (operation.callers.length === 0) return 'Anyone, without credentials.';
  const names = operation.callers.map((caller) =>
    caller === 'merchant'
      ? 'a merchant (secret API key)'
      : caller === 'rate_sheet_reader'
        ? 'a service credential with role `rate_sheet_reader`'
        : caller === 'person'
          ? 'a person signed in to the console (session cookie)'
          : `operator role \`${caller}\``,
  );
  return `Who may call: ${names.join(', ')}.`;
}

function operationObject(operation: Operation, collector: JsonSchemaCollector) {
  const requestBody = requestBodyOf(operation, collector);
  const parameters = [
    ...parametersOf(operation.request.path, 'path', collector),
    ...parametersOf(operation.request.query, 'query', collector),
    ...parametersOf(operation.request.headers, 'header', collector),
  ];
  return {
    operationId: operation.operationId,
    summary: operation.summary,
    description: [operation.description, whoMayCall(operation)].filter(Boolean).join('\n\n'),
    tags: [...operation.tags],
    security: securityOf(operation),
    ...(parameters.length > 0 ? { parameters } : {}),
    ...(requestBody === undefined ? {} : { requestBody }),
    responses: {
      ...Object.fromEntries(
        Object.entries(operation.responses).map(([status, response]) => [
          status,
          responseOf(response as OperationResponse, collector),
        ]),
      ),
      ...Object.fromEntries(
        operation.problems.map((status) => [
          String(status),
          { $ref: `#/components/responses/Problem${status}` },
        ]),
      ),
    },
  };
}

/** A shared problem response, naming the codes answered with its status on every operation. */
function problemResponse(status: ProblemStatus, problem: JsonSchema) {
  const codes = platformCodesOf(status);
  const named = codes.map((code) => `\`${code}\``).join(', ');
  return {
    description: `${PROBLEM_DESCRIPTIONS[status]}${codes.length === 0 ? '' : ` Codes with this status on every operation: ${named}.`}`,
    content: { [PROBLEM_CONTENT_TYPE]: { schema: problem } },
  };
}

export function openApiDocument(info: ApiInfo, operations: readonly Operation[]): Record<string, unknown> {
  const collector = new JsonSchemaCollector({
    io: 'output',
    target: 'draft-2020-12',
    componentsPath: COMPONENTS,
  });
  const problem = collector.convert(problemSchema, 'output');
  const paths: Record<string, Record<string, unknown>> = {};
  const operationIds = new Set<string>();
  for (const operation of [...PLATFORM_OPERATIONS, ...operations]) {
    if (operationIds.has(operation.operationId))
      throw new Error(`operationId ${operation.operationId} is used twice`);
    operationIds.add(operation.operationId);
    const path = (paths[openApiPath(operation.path)] ??= {});
    if (path[operation.method] !== undefined)
      throw new Error(`${operation.method.toUpperCase()} ${operation.path} is described twice`);
    path[operation.method] = operationObject(operation, collector);
  }
  const problemStatuses = [...new Set(operations.flatMap((operation) => operation.problems))].sort(
    (a, b) => a - b,
  );
  problemStatuses.push(
    ...PLATFORM_OPERATIONS.flatMap((operation) => operation.problems).filter(
      (status) => !problemStatuses.includes(status),
    ),
  );
  problemStatuses.sort((a, b) => a - b);
  return {
    openapi: '3.1.0',
    info: {
      title: info.title,
      version: info.version,
      description: info.description,
      license: { name: 'Proprietary', identifier: 'LicenseRef-Proprietary' },
    },
    servers: [{ url: info.serverUrl, description: 'This service' }],
    tags: [...info.tags, PLATFORM_TAG].map((tag) => ({ ...tag })),
    paths,
    components: {
      securitySchemes: usedSecuritySchemes(operations),
      schemas: Object.fromEntries(
        Object.entries(collector.components).sort(([a], [b]) => a.localeCompare(b)),
      ),
      // Read by the conformance check, which fails an answer giving one of these another status.
      'x-problem-codes': PLATFORM_PROBLEM_CODES,
      responses: Object.fromEntries(
        problemStatuses.map((status) => [`Problem${status}`, problemResponse(status, problem)]),
      ),
    },
  };
}
