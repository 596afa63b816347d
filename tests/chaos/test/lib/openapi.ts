/**
 * The operations a service documents at GET /openapi.json, read loosely: what hostile-input
 * and access checks need (method, path, parameters, JSON body schema, who may call it).
 */
import type { Json } from '../../../e2e/test/system';

export type JsonSchema = Json;

export interface Parameter {
  in: 'path' | 'query' | 'header';
  name: string;
  required: boolean;
  schema: JsonSchema;
}

export interface DocumentedOperation {
  service: string;
  method: string;
  path: string;
  operationId: string;
  parameters: Parameter[];
  /** application/json request body schema ($refs resolved), when it takes one. */
  jsonBody?: JsonSchema;
  /** A raw body type (text/csv) the route streams instead. */
  rawBodyType?: string;
  /** The document's example of that raw body (a valid file). */
  rawBodyExample?: string;
  /** Operator roles allowed, when operator tokens may call it. */
  operatorRoles: string[];
  merchantKey: boolean;
  responses: string[];
}

function resolve(schema: JsonSchema, components: Json, depth = 0): JsonSchema {
  if (schema === null || typeof schema !== 'object' || depth > 20) return schema;
  if (Array.isArray(schema)) return schema.map((item) => resolve(item, components, depth + 1));
  if (typeof schema.$ref === 'string') {
    const name = schema.$ref.split('/').pop() as string;
    return resolve(components.schemas?.[name] ?? {}, components, depth + 1);
  }
  return Object.fromEntries(
    Object.entries(schema).map(([key, value]) => [key, resolve(value as JsonSchema, components, depth + 1)]),
  );
}

/**
 * The operations that need credentials; with `includePublic`, those that do not (health,
 * readiness) as well, for checks that hold for any request (no 500 from bad framing).
 */
export async function documentedOperations(
  service: string,
  baseUrl: string,
  { includePublic = false }: { includePublic?: boolean } = {},
): Promise<DocumentedOperation[]> {
  const response = await fetch(`${baseUrl}/openapi.json`);
  const document = (await response.json()) as Json;
  const operations: DocumentedOperation[] = [];
  for (const [path, item] of Object.entries(document.paths as Json)) {
    for (const [method, operation] of Object.entries(item as Json)) {
      if (operation === null || typeof operation !== 'object' || typeof operation.operationId !== 'string')
        continue;
      const security = (operation.security ?? []) as Array<Record<string, string[]>>;
      // The console's own operations take a person's session cookie, not a bearer credential,
      // and refuse a state change without the console's Origin first: its suite covers them.
      if (security.length > 0 && security.every((entry) => entry.consoleSession !== undefined)) continue;
      if (security.length === 0 && !includePublic) continue;
      const content = (operation.requestBody?.content ?? {}) as Json;
      const rawBodyType = Object.keys(content).find((type) => type !== 'application/json');
      operations.push({
        service,
        method: method.toUpperCase(),
        path,
        operationId: operation.operationId,
        parameters: ((operation.parameters ?? []) as Json[]).map((parameter) => ({
          in: parameter.in,
          name: parameter.name,
          required: parameter.required === true,
          schema: resolve(parameter.schema ?? {}, document.components ?? {}),
        })),
        ...(content['application/json'] === undefined
          ? {}
          : { jsonBody: resolve(content['application/json'].schema ?? {}, document.components ?? {}) }),
        ...(rawBodyType === undefined ? {} : { rawBodyType }),
        ...(typeof content[rawBodyType ?? '']?.example === 'string'
          ? { rawBodyExample: content[rawBodyType ?? ''].example as string }
          : {}),
        operatorRoles: security.flatMap((entry) => entry.operatorToken ?? []),
        merchantKey: security.some((entry) => entry.merchantKey !== undefined),
        responses: Object.keys(operation.responses ?? {}),
      });
    }
  }
  return operations;
}
