/**
 * Hostile requests, generated with fast-check from each operation's OpenAPI description. Each
 * one is a *valid* request with exactly one thing broken, so that it is *certain* to be
 * invalid for that one reason (any 2xx is a bug, not a lucky valid request) and the answer
 * can be held to name it:
 *
 * - body: one field, possibly nested (`lines.0.amount_minor`), of a wrong JSON type, out of
 *   its range (negative, huge, fractional), not in its enum, not matching its pattern or
 *   format, or too long (unicode); one required field left out; one unknown field added
 *   (schemas are strict) — each answered 400 with `invalid_params` naming that field and no
 *   other; a body that is not an object; malformed JSON; a body over HTTP_BODY_LIMIT_BYTES;
 * - query: `limit` and other parameters out of range, not in their enum or of the wrong shape
 *   (400 naming the parameter);
 * - path: ids that cannot exist (unicode, huge, traversal-looking): 400 naming the parameter,
 *   or 404;
 * - headers: Idempotency-Key missing, too long or with control-looking bytes on an otherwise
 *   valid request (so a service ignoring the key would answer 2xx and move money); a wrong
 *   Content-Type.
 *
 * Bad framing (`badFramingRequests`, issue 14) is not sampled but sent whole to every operation,
 * so that none can be missed: the valid body claiming `Content-Encoding: gzip`, `deflate` or
 * `br` while plain (400 `malformed_body_encoding` where a JSON body is read); each path
 * parameter a malformed percent-encoding, with and without credentials (400 `malformed_path`,
 * or 401 when authentication comes first); bytes that are not UTF-8 inside a string of the
 * valid JSON body (400 `invalid_utf8`).
 *
 * The valid request comes from the operation's schema (required fields from their const,
 * enum, default, format and bounds; path values of real objects; the document's example of a
 * raw body), or from an override the caller gives where a schema cannot say what is valid
 * (a card number that passes Luhn, ids of existing objects, a rule whose shares add up).
 */
import fc from 'fast-check';
import type { Arbitrary } from 'fast-check';
import type { Json } from '../../../e2e/test/system';
import type { DocumentedOperation, JsonSchema } from './openapi';

export type RequestPart = 'path' | 'query' | 'body' | 'header';

/** What the answer must say, beyond being a 4xx problem+json with a stable code. */
export type HostileExpectation =
  /** 400 whose `invalid_params` name this field and nothing else; with `orNotFound`, 404 will do. */
  | { names: { in: RequestPart; name: string }; orNotFound?: true }
  /** A problem with one of these codes: the request is refused before any field is read. */
  | { codes: readonly string[] }
  /**
   * Any answer below 500, a 4xx one a problem+json: framing broken on a part the operation may
   * not read (a body sent to one that takes none, a CSV upload that reads its own stream), so
   * what it answers is recorded, not prescribed.
   */
  | { below500: true };

export interface RawRequest {
  method: string;
  /** Path with parameters filled in (already URL-encoded). */
  path: string;
  headers: Record<string, string>;
  /** The raw body bytes to send, when any. */
  body?: string | Buffer;
}

export interface HostileRequest extends RawRequest {
  kind: string;
  expect: HostileExpectation;
  /** Sent without the operation's credentials (the caller's default is to send them). */
  withoutCredentials?: true;
}

export interface RequestContext {
  /** A value for each path parameter that names a real object, so that body checks are reached. */
  pathValues: (operation: DocumentedOperation) => Record<string, string>;
  bodyLimitBytes: number;
  /** A valid JSON body where the schema alone cannot give one; undefined: built from the schema. */
  validBody?: (operation: DocumentedOperation) => Json | undefined;
  /**
   * Fields sent instead of another, by the field they replace (`card_token` instead of
   * `card_number`): a request that breaks one, or a field inside it, leaves the other out,
   * else it would be two changes away from valid (both sent) and the answer would rightly name both.
   */
  sentInsteadOf?: Readonly<Record<string, string>>;
}

type JsonType = 'string' | 'integer' | 'number' | 'boolean' | 'null' | 'array' | 'object';

/** The JSON types a schema accepts, or undefined when it cannot tell (then it is not mutated). */
function allowedTypes(schema: JsonSchema): Set<JsonType> | undefined {
  if (schema === undefined || schema === null || typeof schema !== 'object') return undefined;
  if (schema.const !== undefined) return new Set([jsonTypeOf(schema.const)]);
  if (Array.isArray(schema.enum)) return new Set(schema.enum.map(jsonTypeOf));
  if (typeof schema.type === 'string') return withNumber(new Set([schema.type as JsonType]));
  if (Array.isArray(schema.type)) return withNumber(new Set(schema.type as JsonType[]));
  const union = (schema.anyOf ?? schema.oneOf) as JsonSchema[] | undefined;
  if (Array.isArray(union)) {
    const types = new Set<JsonType>();
    for (const member of union) {
      const memberTypes = allowedTypes(member);
      if (memberTypes === undefined) return undefined;
      for (const type of memberTypes) types.add(type);
    }
    return types;
  }
  return undefined;
}

function withNumber(types: Set<JsonType>): Set<JsonType> {
  if (types.has('number')) types.add('integer');
  return types;
}

function jsonTypeOf(value: unknown): JsonType {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value as JsonType;
}

const unicodeText = fc.string({ unit: 'binary', minLength: 1, maxLength: 40 });
const hostileStrings = fc.oneof(
  unicodeText,
  fc.constantFrom(
    '',
    ' ',
    '🀄️普惠\u0000',
    '\u202e\u0301',
    "' OR 1=1 --",
    '<script>alert(1)</script>',
    '../../etc/passwd',
    '${jndi:ldap://x}',
    '\ud800',
  ),
);
const valueOfType: Record<JsonType, Arbitrary<unknown>> = {
  string: hostileStrings,
  integer: fc.oneof(fc.integer(), fc.constantFrom(-1, 0, 2 ** 53, -(2 ** 63), 10 ** 20)),
  number: fc.oneof(fc.double({ noNaN: true, noDefaultInfinity: true }), fc.constantFrom(0.5, -1e308, 1e308)),
  boolean: fc.boolean(),
  null: fc.constant(null),
  array: fc.array(fc.jsonValue({ maxDepth: 1 }), { maxLength: 3 }),
  object: fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 1 }), { maxKeys: 3 }),
};

/** Values certain to break `schema`, or undefined when none can be promised. */
function invalidValues(schema: JsonSchema): Arbitrary<{ why: string; value: unknown }> | undefined {
  const allowed = allowedTypes(schema);
  const options: Array<Arbitrary<{ why: string; value: unknown }>> = [];
  if (allowed !== undefined) {
    const wrong = (Object.keys(valueOfType) as JsonType[]).filter(
      (type) => !allowed.has(type) && !(type === 'integer' && allowed.has('number')),
    );
    // A number schema accepts integers too; an integer schema refuses fractions.
    const types = allowed.has('integer') && !allowed.has('number') ? [...wrong, 'number' as const] : wrong;
    for (const type of types) {
      const values = type === 'number' ? fc.constantFrom(0.5, 1.25, -3.75, 1e-9) : valueOfType[type];
      options.push(values.map((value) => ({ why: `wrong type (${type})`, value })));
    }
  }
  const single = schema.type;
  if (single === 'integer' || single === 'number') {
    if (typeof schema.minimum === 'number')
      options.push(
        fc
          .integer({ min: 1, max: 2 ** 40 })
          .map((below) => ({ why: 'below minimum', value: schema.minimum - below })),
      );
    if (typeof schema.exclusiveMinimum === 'number')
      options.push(fc.constant({ why: 'at exclusive minimum', value: schema.exclusiveMinimum }));
    if (typeof schema.maximum === 'number')
      options.push(
        fc
          .constantFrom(1, 2 ** 53, 1e300)
          .map((above) => ({ why: 'above maximum (huge)', value: schema.maximum + above })),
      );
  }
  if (single === 'string') {
    if (Array.isArray(schema.enum) || schema.const !== undefined) {
      const accepted = new Set<unknown>(Array.isArray(schema.enum) ? schema.enum : [schema.const]);
      options.push(
        hostileStrings
          .filter((value) => !accepted.has(value))
          .map((value) => ({ why: 'not in enum', value })),
      );
    }
    if (typeof schema.pattern === 'string') {
      const pattern = new RegExp(schema.pattern, 'u');
      options.push(
        hostileStrings
          .filter((value) => !pattern.test(value))
          .map((value) => ({ why: 'pattern mismatch', value })),
      );
    }
    if (typeof schema.maxLength === 'number' && schema.maxLength < 100_000)
      options.push(
        fc
          .integer({ min: 1, max: 50 })
          .map((extra) => ({ why: 'too long (unicode)', value: '普'.repeat(schema.maxLength + extra) })),
      );
    if (schema.format === 'date-time' || schema.format === 'date')
      options.push(
        fc
          .constantFrom('yesterday', '2025-13-45', '2025-02-30T25:61:00Z', '9999999-01-01', '٢٠٢٥-٠١-٠١')
          .map((value) => ({ why: `bad ${schema.format}`, value })),
      );
  }
  if (single === 'array' && typeof schema.maxItems === 'number' && schema.maxItems <= 1000)
    options.push(
      fc.constant({ why: 'too many items', value: Array.from({ length: schema.maxItems + 1 }, () => ({})) }),
    );
  return options.length === 0 ? undefined : fc.oneof(...options);
}

/** A date-time and a date every schema here accepts (past, with the Shanghai offset). */
const EXAMPLE_DATE_TIME = '2025-01-01T00:00:00+08:00';
const EXAMPLE_DATE = '2025-01-01';
/** Strings tried, in order, against a pattern the schema gives (item categories, times, codes). */
const PATTERN_CANDIDATES = ['general', 'chaos', '1234', '12:00', 'A1'];

function fitsLength(value: string, schema: JsonSchema): boolean {
  return (
    value.length >= (typeof schema.minLength === 'number' ? schema.minLength : 0) &&
    value.length <= (typeof schema.maxLength === 'number' ? schema.maxLength : Infinity)
  );
}

function exampleString(schema: JsonSchema): string | undefined {
  if (schema.format === 'date-time') return EXAMPLE_DATE_TIME;
  if (schema.format === 'date') return EXAMPLE_DATE;
  if (schema.format === 'email') return 'chaos@example.cn';
  if (typeof schema.pattern === 'string') {
    const pattern = new RegExp(schema.pattern, 'u');
    return PATTERN_CANDIDATES.find((candidate) => pattern.test(candidate) && fitsLength(candidate, schema));
  }
  const minLength = typeof schema.minLength === 'number' ? schema.minLength : 0;
  return 'chaos'
    .padEnd(minLength, 'x')
    .slice(0, typeof schema.maxLength === 'number' ? schema.maxLength : 100);
}

function exampleNumber(schema: JsonSchema): number {
  const minimum =
    typeof schema.minimum === 'number'
      ? schema.minimum
      : typeof schema.exclusiveMinimum === 'number'
        ? schema.exclusiveMinimum + 1
        : 1;
  const value = Math.max(minimum, 1);
  return typeof schema.maximum === 'number' ? Math.min(value, schema.maximum) : value;
}

/**
 * A value `schema` accepts, from its const, enum, default, format or bounds (objects: their
 * required fields only); undefined when it cannot promise one (a pattern none of the
 * candidates matches): such an operation needs a `validBody` override.
 */
export function exampleOf(schema: JsonSchema | undefined, depth = 0): unknown {
  if (schema === null || typeof schema !== 'object' || depth > 8) return undefined;
  if (schema.const !== undefined) return schema.const;
  if (Array.isArray(schema.enum)) return schema.enum[0];
  const union = (schema.anyOf ?? schema.oneOf) as JsonSchema[] | undefined;
  if (Array.isArray(union)) {
    const members = [...union].sort((a, b) => Number(a.type === 'null') - Number(b.type === 'null'));
    return members.map((member) => exampleOf(member, depth + 1)).find((value) => value !== undefined);
  }
  switch (schema.type) {
    case 'object': {
      const example: Record<string, unknown> = {};
      for (const name of (schema.required ?? []) as string[]) {
        const value = exampleOf(schema.properties?.[name], depth + 1);
        if (value === undefined) return undefined;
        example[name] = value;
      }
      return example;
    }
    case 'array': {
      if (!(typeof schema.minItems === 'number' && schema.minItems > 0)) return [];
      const item = exampleOf(schema.items, depth + 1);
      return item === undefined ? undefined : [item];
    }
    case 'string':
      return exampleString(schema);
    case 'integer':
    case 'number':
      return exampleNumber(schema);
    case 'boolean':
      return false;
    case 'null':
      return null;
    default:
      return undefined;
  }
}

/** One field of a body, nested ones included: where it is and the schema of each step there. */
interface BodyField {
  /** As zod names it in `invalid_params`: `lines.0.amount_minor`. */
  path: Array<string | number>;
  /** The schema of the value at each step of `path` (the last one: the field's own). */
  schemas: JsonSchema[];
  schema: JsonSchema;
  required: boolean;
}

/** Every field, nested ones included (objects, and the first item of arrays of objects). */
function bodyFields(
  schema: JsonSchema,
  path: BodyField['path'] = [],
  schemas: JsonSchema[] = [],
): BodyField[] {
  if (schema?.type !== 'object' || path.length > 6) return [];
  const required = new Set((schema.required ?? []) as string[]);
  const fields: BodyField[] = [];
  for (const [name, property] of Object.entries((schema.properties ?? {}) as Record<string, JsonSchema>)) {
    const here = { path: [...path, name], schemas: [...schemas, property] };
    fields.push(
      { ...here, schema: property, required: required.has(name) },
      ...bodyFields(property, here.path, here.schemas),
    );
    if (property.type === 'array' && property.items?.type === 'object')
      fields.push(...bodyFields(property.items, [...here.path, 0], [...here.schemas, property.items]));
  }
  return fields;
}

/** A copy of `base` with the field at `field.path` set to `value` (or removed), parents filled in. */
function changed(base: unknown, field: BodyField, change: { value: unknown } | 'remove'): unknown {
  const copy = structuredClone(base) as Record<string | number, unknown>;
  let container = copy;
  for (const [index, step] of field.path.slice(0, -1).entries()) {
    if (container[step] === undefined) {
      const schema = field.schemas[index];
      const filled = schema?.type === 'array' ? [exampleOf(schema.items)] : exampleOf(schema);
      if (filled === undefined)
        throw new Error(`no valid value for ${field.path.slice(0, index + 1).join('.')}: give an override`);
      container[step] = filled;
    }
    container = container[step] as Record<string | number, unknown>;
  }
  const last = field.path[field.path.length - 1] as string | number;
  if (change === 'remove') delete container[last];
  else container[last] = change.value;
  return copy;
}

/** Percent-encodes any string, lone surrogates included (as UTF-8 encodes them: U+FFFD). */
export function encodeSegment(value: string): string {
  return [...Buffer.from(value, 'utf8')]
    .map((byte) =>
      /[A-Za-z0-9_.~-]/u.test(String.fromCharCode(byte))
        ? String.fromCharCode(byte)
        : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`,
    )
    .join('');
}

export function fillPath(operation: DocumentedOperation, values: Record<string, string>): string {
  return operation.path.replace(/\{([^}]+)\}/gu, (_, name: string) => encodeSegment(values[name] ?? 'x'));
}

function needsIdempotencyKey(operation: DocumentedOperation): boolean {
  return operation.parameters.some(
    (parameter) => parameter.in === 'header' && parameter.name.toLowerCase() === 'idempotency-key',
  );
}

/** A fresh key per request, so that no hostile request can meet an earlier one's stored answer. */
function idempotencyHeaders(operation: DocumentedOperation): Record<string, string> {
  return needsIdempotencyKey(operation)
    ? { 'idempotency-key': `chaos-hostile-${Math.random().toString(36).slice(2)}` }
    : {};
}

/** The valid request every hostile one for the operation changes one thing of. */
interface ValidRequest {
  path: string;
  values: Record<string, string>;
  /** Without the Idempotency-Key (each request gets its own). */
  headers: Record<string, string>;
  json?: unknown;
  body?: string;
}

function validRequest(operation: DocumentedOperation, context: RequestContext): ValidRequest {
  const values = context.pathValues(operation);
  const path = fillPath(operation, values);
  const where = `${operation.method} ${operation.path}`;
  if (operation.jsonBody !== undefined) {
    const json = context.validBody?.(operation) ?? exampleOf(operation.jsonBody);
    if (json === undefined) throw new Error(`${where}: its schema gives no valid body; give an override`);
    return {
      path,
      values,
      headers: { 'content-type': 'application/json' },
      json,
      body: JSON.stringify(json),
    };
  }
  if (operation.rawBodyType !== undefined) {
    if (operation.rawBodyExample === undefined) throw new Error(`${where}: its document has no example body`);
    return {
      path,
      values,
      headers: { 'content-type': operation.rawBodyType },
      body: operation.rawBodyExample,
    };
  }
  return { path, values, headers: {} };
}

type Make = (kind: string, expect: HostileExpectation, change?: Partial<RawRequest>) => HostileRequest;

function maker(operation: DocumentedOperation, valid: ValidRequest): Make {
  return (kind, expect, change = {}) => ({
    kind,
    expect,
    method: operation.method,
    path: valid.path,
    headers: { ...valid.headers, ...idempotencyHeaders(operation) },
    ...(valid.body === undefined ? {} : { body: valid.body }),
    ...change,
  });
}

const inBody = (name: string): HostileExpectation => ({ names: { in: 'body', name } });

/** One field of the valid body broken, left out, or one unknown field added. */
function fieldOptions(
  schema: JsonSchema,
  valid: ValidRequest,
  make: Make,
  sentInsteadOf: Readonly<Record<string, string>> = {},
): Array<Arbitrary<HostileRequest>> {
  const options: Array<Arbitrary<HostileRequest>> = [];
  const json = valid.json as Record<string, unknown>;
  if (schema.additionalProperties === false) {
    const known = new Set(Object.keys(schema.properties ?? {}));
    options.push(
      fc
        .tuple(
          fc
            .string({ unit: 'binary', minLength: 1, maxLength: 20 })
            .filter((key) => !known.has(key) && key !== '__proto__'),
          fc.jsonValue({ maxDepth: 1 }),
        )
        .map(([key, value]) =>
          make('unknown field', inBody(key), { body: JSON.stringify({ ...json, [key]: value }) }),
        ),
    );
  }
  for (const field of bodyFields(schema)) {
    const name = field.path.join('.');
    // A field inside one sent instead of another (`checkouts.0.lines.0.amount_minor`) leaves the other out too.
    const replaced = sentInsteadOf[name] ?? sentInsteadOf[String(field.path[0])];
    const base =
      replaced === undefined
        ? json
        : Object.fromEntries(Object.entries(json).filter(([key]) => key !== replaced));
    // Fails here, not in the middle of a run, when a parent cannot be filled in.
    changed(base, field, 'remove');
    const arbitrary = invalidValues(field.schema);
    if (arbitrary !== undefined)
      options.push(
        arbitrary.map(({ why, value }) =>
          make(`${name}: ${why}`, inBody(name), { body: JSON.stringify(changed(base, field, { value })) }),
        ),
      );
    if (field.required)
      options.push(
        fc.constant(null).map(() =>
          make(`${name}: required, left out`, inBody(name), {
            body: JSON.stringify(changed(base, field, 'remove')),
          }),
        ),
      );
  }
  return options;
}

/** A body that is not an object, malformed JSON, or the valid body with a wrong Content-Type. */
function framingOptions(operation: DocumentedOperation, valid: ValidRequest, make: Make) {
  const notAnObject = fc
    .oneof(
      fc.array(fc.jsonValue({ maxDepth: 1 }), { maxLength: 3 }),
      fc.integer(),
      hostileStrings,
      fc.constant(null),
      fc.boolean(),
    )
    .map((value) =>
      // The JSON parser takes only objects and arrays (strict); an array reaches the schema.
      make('body not an object', Array.isArray(value) ? inBody('body') : { codes: ['malformed_json'] }, {
        body: JSON.stringify(value),
      }),
    );
  const malformed = fc
    .constantFrom(
      '{',
      '{"a":',
      '[1,2',
      '{"amount_minor": 01}',
      "{'single': 'quotes'}",
      '{"a":1}}',
      '\u0000',
      'NaN',
    )
    .map((body) => make('malformed JSON', { codes: ['malformed_json'] }, { body }));
  const wrongType = fc
    .constantFrom(
      'text/plain',
      'application/xml',
      'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=x',
    )
    .map((type) =>
      make(
        `content-type ${type}`,
        { codes: ['unsupported_media_type'] },
        { headers: { ...idempotencyHeaders(operation), 'content-type': type } },
      ),
    );
  return [notAnObject, malformed, wrongType];
}

/** Idempotency-Key missing or too long on the otherwise valid request. */
function keyOptions(operation: DocumentedOperation, valid: ValidRequest, make: Make) {
  const header: HostileExpectation = { names: { in: 'header', name: 'idempotency-key' } };
  return [
    fc.constant(null).map(() => make('Idempotency-Key missing', header, { headers: { ...valid.headers } })),
    fc.constantFrom('k'.repeat(256), 'k'.repeat(10_000)).map((key) =>
      make('Idempotency-Key too long', header, {
        headers: { ...valid.headers, 'idempotency-key': key },
      }),
    ),
  ];
}

/** Query and path parameters broken, one at a time. */
function parameterOptions(operation: DocumentedOperation, valid: ValidRequest, make: Make) {
  const options: Array<Arbitrary<HostileRequest>> = [];
  for (const parameter of operation.parameters.filter((candidate) => candidate.in === 'query')) {
    const arbitrary = invalidQueryValues(parameter.schema);
    if (arbitrary === undefined) continue;
    options.push(
      arbitrary.map(({ why, value }) =>
        make(
          `query ${parameter.name}: ${why}`,
          { names: { in: 'query', name: parameter.name } },
          { path: `${valid.path}?${encodeSegment(parameter.name)}=${encodeSegment(value)}` },
        ),
      ),
    );
  }
  for (const parameter of operation.parameters.filter((candidate) => candidate.in === 'path')) {
    options.push(
      fc
        .oneof(
          hostileStrings.filter((value) => value.trim().length > 0 && value !== '.' && value !== '..'),
          fc.constantFrom('9'.repeat(400), '%00', 'chk_' + 'z'.repeat(25)),
        )
        .map((value) =>
          make(
            `path ${parameter.name}: cannot exist`,
            { names: { in: 'path', name: parameter.name }, orNotFound: true },
            { path: fillPath(operation, { ...valid.values, [parameter.name]: value }) },
          ),
        ),
    );
  }
  return options;
}

/** All hostile requests for one operation, as one fast-check arbitrary; undefined: it takes no input. */
export function hostileRequests(
  operation: DocumentedOperation,
  context: RequestContext,
): Arbitrary<HostileRequest> | undefined {
  const valid = validRequest(operation, context);
  const make = maker(operation, valid);
  const options: Array<Arbitrary<HostileRequest>> = [];
  const schema = operation.jsonBody;
  if (schema !== undefined)
    options.push(
      ...fieldOptions(schema, valid, make, context.sentInsteadOf),
      ...framingOptions(operation, valid, make),
    );
  if (
    operation.rawBodyType === undefined &&
    (schema !== undefined || ['POST', 'PATCH'].includes(operation.method))
  )
    options.push(
      fc.constant(null).map(() =>
        make(
          'body over the size limit',
          { codes: ['payload_too_large'] },
          {
            // A JSON body: one that is not would be refused for its type before its size.
            headers: {
              ...valid.headers,
              ...idempotencyHeaders(operation),
              'content-type': 'application/json',
            },
            body: Buffer.from(`{"padding":"${'x'.repeat(context.bodyLimitBytes + 1024)}"}`),
          },
        ),
      ),
    );
  if (operation.rawBodyType !== undefined)
    options.push(
      fc.constantFrom('application/xml', 'image/png').map((type) =>
        make(
          `content-type ${type} on a ${operation.rawBodyType} upload`,
          { codes: ['unsupported_media_type'] },
          {
            headers: { ...idempotencyHeaders(operation), 'content-type': type },
          },
        ),
      ),
    );
  if (needsIdempotencyKey(operation)) options.push(...keyOptions(operation, valid, make));
  options.push(...parameterOptions(operation, valid, make));
  return options.length === 0 ? undefined : fc.oneof(...options);
}

function invalidQueryValues(schema: JsonSchema): Arbitrary<{ why: string; value: string }> | undefined {
  const options: Array<Arbitrary<{ why: string; value: string }>> = [];
  const type = schema.type;
  const present = hostileStrings.filter((value) => value.trim().length > 0);
  if (type === 'integer' || type === 'number') {
    // Not '0x10': some list operations coerce with Number(), which reads it as 16 (lenient, harmless).
    options.push(
      fc.constantFrom('abc', '1.5', '1e400', '٣', '-').map((value) => ({ why: 'not a number', value })),
    );
    if (typeof schema.minimum === 'number')
      options.push(
        fc
          .integer({ min: 1, max: 1_000_000 })
          .map((below) => ({ why: 'below minimum', value: String(schema.minimum - below) })),
      );
    if (typeof schema.maximum === 'number')
      options.push(
        fc
          .constantFrom(1, 1000, 1e20)
          .map((above) => ({ why: 'above maximum (page size)', value: String(schema.maximum + above) })),
      );
  }
  if (type === 'string') {
    if (Array.isArray(schema.enum))
      options.push(
        present
          .filter((value) => !schema.enum.includes(value))
          .map((value) => ({ why: 'not in enum', value })),
      );
    if (typeof schema.pattern === 'string') {
      const pattern = new RegExp(schema.pattern, 'u');
      options.push(
        present.filter((value) => !pattern.test(value)).map((value) => ({ why: 'pattern mismatch', value })),
      );
    }
    if (schema.format === 'date' || schema.format === 'date-time')
      options.push(
        fc
          .constantFrom('2025-13-01', 'today', '2025-02-30')
          .map((value) => ({ why: `bad ${schema.format}`, value })),
      );
  }
  return options.length === 0 ? undefined : fc.oneof(...options);
}

/** The families of bad framing, each sent to every operation it applies to. */
export type FramingFamily = 'content-encoding' | 'percent-encoding' | 'invalid-utf8';

export interface FramingRequest extends HostileRequest {
  family: FramingFamily;
}

/** The encodings body-parser decodes: a body claiming one must decode with it. */
export const CLAIMED_CONTENT_ENCODINGS = ['gzip', 'deflate', 'br'] as const;
/**
 * Percent-encodings decodeURIComponent refuses: a non-hex escape, a three-byte sequence cut
 * short, and well-formed escapes of bytes that are not UTF-8 (a lead byte before an ASCII one).
 */
export const MALFORMED_PERCENT_ENCODINGS = ['%ZZ', '%E0%A4%A', '%C3%28'] as const;
/** Byte sequences that are not UTF-8, each of a different kind (the Unicode Standard, table 3-7). */
export const INVALID_UTF8_SEQUENCES: Readonly<Record<string, readonly number[]>> = {
  'a lead byte before an ASCII one (0xC3 0x28)': [0xc3, 0x28],
  'a lone continuation byte (0x80)': [0x80],
  'an overlong slash (0xC0 0xAF)': [0xc0, 0xaf],
  'a UTF-16 surrogate (0xED 0xA0 0x80)': [0xed, 0xa0, 0x80],
  'above U+10FFFF (0xF4 0x90 0x80 0x80)': [0xf4, 0x90, 0x80, 0x80],
  'a byte UTF-8 never holds (0xFF)': [0xff],
};

/** The valid request's body claiming each encoding while plain; a body even where none is taken. */
function contentEncodingRequests(
  operation: DocumentedOperation,
  valid: ValidRequest,
  make: Make,
): FramingRequest[] {
  const readsJson = operation.jsonBody !== undefined;
  return CLAIMED_CONTENT_ENCODINGS.map((encoding) => {
    // A key of its own per request, as `make` gives: one shared would replay the first's answer.
    const headers = { ...valid.headers, ...idempotencyHeaders(operation) };
    return {
      family: 'content-encoding' as const,
      ...make(
        `Content-Encoding ${encoding} on a plain ${readsJson || valid.body === undefined ? 'JSON' : 'raw'} body`,
        readsJson ? { codes: ['malformed_body_encoding'] } : { below500: true },
        valid.body === undefined
          ? {
              headers: { ...headers, 'content-type': 'application/json', 'content-encoding': encoding },
              body: '{}',
            }
          : { headers: { ...headers, 'content-encoding': encoding } },
      ),
    };
  });
}

/** Each path parameter a malformed percent-encoding (sent as it is), with and without credentials. */
function percentEncodingRequests(
  operation: DocumentedOperation,
  valid: ValidRequest,
  make: Make,
): FramingRequest[] {
  const requests: FramingRequest[] = [];
  for (const parameter of operation.parameters.filter((candidate) => candidate.in === 'path')) {
    for (const malformed of MALFORMED_PERCENT_ENCODINGS) {
      const path = operation.path.replace(/\{([^}]+)\}/gu, (_, name: string) =>
        name === parameter.name ? malformed : encodeSegment(valid.values[name] ?? 'x'),
      );
      const kind = `path ${parameter.name}: malformed percent-encoding ${malformed}`;
      requests.push(
        { family: 'percent-encoding', ...make(kind, { codes: ['malformed_path'] }, { path }) },
        {
          family: 'percent-encoding',
          // Authentication may come before the path is decoded: 401 is as good as 400 then.
          ...make(`${kind}, without credentials`, { codes: ['malformed_path', 'unauthenticated'] }, { path }),
          withoutCredentials: true,
        },
      );
    }
  }
  return requests;
}

/** Never in a valid body: marks where the bytes that are not UTF-8 go. */
const INVALID_UTF8_MARK = 'CHAOS-INVALID-UTF8-HERE';

function valueAt(json: unknown, path: BodyField['path']): unknown {
  let value = json;
  for (const step of path) {
    if (value === null || typeof value !== 'object') return undefined;
    value = (value as Record<string | number, unknown>)[step];
  }
  return value;
}

/**
 * A field added where the body can hold no string (`{}` closes a business day): then the body
 * is not otherwise valid, yet the bytes are refused before any field is read, so the answer
 * must still be `invalid_utf8`, not the unknown field's `validation_failed`.
 */
const ADDED_STRING_FIELD: BodyField = {
  path: ['chaos_note'],
  schemas: [{ type: 'string' }],
  schema: { type: 'string' },
  required: false,
};

/**
 * Where the bytes go: a free-text string of the valid body (a name or a reference: read as
 * U+FFFD it would be stored, the case the check exists for), else any string of it, else an
 * optional string the schema offers, else an added field.
 */
function stringToBreak(schema: JsonSchema, json: unknown): { field: BodyField; value: string } {
  const strings = bodyFields(schema).filter((field) => allowedTypes(field.schema)?.has('string') === true);
  const present = strings.filter((field) => typeof valueAt(json, field.path) === 'string');
  // Bounded and otherwise unconstrained: a name, a reference, a reason (a card number or a
  // mobile is checked by code, not by the schema, and would be refused for its digits).
  const freeText = (field: BodyField) =>
    typeof field.schema.maxLength === 'number' &&
    field.schema.enum === undefined &&
    field.schema.const === undefined &&
    field.schema.pattern === undefined &&
    field.schema.format === undefined;
  const chosen = present.find(freeText) ?? present[0];
  if (chosen !== undefined) return { field: chosen, value: String(valueAt(json, chosen.path)) };
  for (const field of strings.filter((candidate) => candidate.path.length === 1)) {
    const example = exampleOf(field.schema);
    if (typeof example === 'string') return { field, value: example };
  }
  return { field: ADDED_STRING_FIELD, value: 'chaos' };
}

/** The valid JSON body with bytes that are not UTF-8 at the end of one of its strings. */
function invalidUtf8Requests(
  operation: DocumentedOperation,
  valid: ValidRequest,
  make: Make,
): FramingRequest[] {
  const schema = operation.jsonBody;
  if (schema === undefined) return [];
  const target = stringToBreak(schema, valid.json);
  const name =
    target.field === ADDED_STRING_FIELD
      ? `${target.field.path.join('.')} (added: the body holds no string)`
      : target.field.path.join('.');
  const marked = JSON.stringify(
    changed(valid.json, target.field, { value: target.value + INVALID_UTF8_MARK }),
  );
  const [before, after, ...rest] = marked.split(INVALID_UTF8_MARK);
  if (before === undefined || after === undefined || rest.length > 0)
    throw new Error(`${operation.method} ${operation.path}: the mark is not once in ${marked}`);
  return Object.entries(INVALID_UTF8_SEQUENCES).map(([what, bytes]) => ({
    family: 'invalid-utf8',
    ...make(
      `invalid UTF-8 in ${name}: ${what}`,
      { codes: ['invalid_utf8'] },
      { body: Buffer.concat([Buffer.from(before), Buffer.from(bytes), Buffer.from(after)]) },
    ),
  }));
}

/**
 * Every bad-framing request for one operation (see the top of this file), each a valid request
 * (credentials, real objects, a fresh Idempotency-Key) with its framing broken in one way.
 */
export function badFramingRequests(
  operation: DocumentedOperation,
  context: RequestContext,
): FramingRequest[] {
  const valid = validRequest(operation, context);
  const make = maker(operation, valid);
  return [
    ...contentEncodingRequests(operation, valid, make),
    ...percentEncodingRequests(operation, valid, make),
    ...invalidUtf8Requests(operation, valid, make),
  ];
}
