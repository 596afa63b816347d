/**
 * Hostile requests, generated with fast-check from each operation's OpenAPI description, each
 * one *certain* to be invalid (so any 2xx is a bug, not a lucky valid request):
 *
 * - body: not an object; an unknown field (schemas are strict); one field, possibly nested
 *   (`lines[0].amount_minor`), of a wrong JSON type, out of its range (negative, huge,
 *   fractional), not in its enum, not matching its pattern or format, or too long (unicode);
 *   `{}` when fields are required; malformed JSON; a body over HTTP_BODY_LIMIT_BYTES;
 * - query: `limit` and other parameters out of range, not in their enum or of the wrong shape;
 * - path: ids that cannot exist (unicode, huge, traversal-looking);
 * - headers: Idempotency-Key missing, too long or with control-looking bytes; a wrong
 *   Content-Type.
 */
import fc from 'fast-check';
import type { Arbitrary } from 'fast-check';
import type { DocumentedOperation, JsonSchema } from './openapi';

export interface HostileRequest {
  kind: string;
  method: string;
  /** Path with parameters filled in (already URL-encoded). */
  path: string;
  headers: Record<string, string>;
  /** The raw body bytes to send, when any. */
  body?: string | Buffer;
}

export interface RequestContext {
  /** A value for each path parameter that names a real object, so that body checks are reached. */
  pathValues: (operation: DocumentedOperation) => Record<string, string>;
  bodyLimitBytes: number;
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

interface FieldMutation {
  where: string;
  arbitrary: Arbitrary<{ why: string; value: unknown }>;
  /** Puts the bad value at its place in an otherwise empty body. */
  wrap: (value: unknown) => unknown;
}

/** Every field, nested ones included (objects, and the first item of arrays of objects). */
function fieldMutations(schema: JsonSchema, depth = 0): FieldMutation[] {
  const objectSchema = schema.type === 'object' ? schema : undefined;
  if (objectSchema === undefined || depth > 3) return [];
  const mutations: FieldMutation[] = [];
  for (const [name, property] of Object.entries(
    (objectSchema.properties ?? {}) as Record<string, JsonSchema>,
  )) {
    const arbitrary = invalidValues(property);
    if (arbitrary !== undefined)
      mutations.push({ where: name, arbitrary, wrap: (value) => ({ [name]: value }) });
    for (const inner of fieldMutations(property, depth + 1))
      mutations.push({
        ...inner,
        where: `${name}.${inner.where}`,
        wrap: (value) => ({ [name]: inner.wrap(value) }),
      });
    if (property.type === 'array' && property.items?.type === 'object') {
      for (const inner of fieldMutations(property.items, depth + 1))
        mutations.push({
          ...inner,
          where: `${name}[0].${inner.where}`,
          wrap: (value) => ({ [name]: [inner.wrap(value)] }),
        });
    }
  }
  return mutations;
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

function idempotencyHeaders(operation: DocumentedOperation): Record<string, string> {
  const needsKey = operation.parameters.some(
    (parameter) => parameter.in === 'header' && parameter.name.toLowerCase() === 'idempotency-key',
  );
  return needsKey ? { 'idempotency-key': `chaos-hostile-${Math.random().toString(36).slice(2)}` } : {};
}

/** All hostile requests for one operation, as one fast-check arbitrary. */
export function hostileRequests(
  operation: DocumentedOperation,
  context: RequestContext,
): Arbitrary<HostileRequest> | undefined {
  const values = context.pathValues(operation);
  const path = fillPath(operation, values);
  const json = { 'content-type': 'application/json' };
  const base = (kind: string, extra: Partial<HostileRequest> = {}): HostileRequest => ({
    kind,
    method: operation.method,
    path,
    headers: { ...idempotencyHeaders(operation), ...json },
    ...extra,
  });
  const options: Array<Arbitrary<HostileRequest>> = [];
  const schema = operation.jsonBody;
  if (schema !== undefined) {
    options.push(
      fc
        .oneof(
          fc.array(fc.jsonValue({ maxDepth: 1 }), { maxLength: 3 }),
          fc.integer(),
          hostileStrings,
          fc.constant(null),
          fc.boolean(),
        )
        .map((value) => base('body not an object', { body: JSON.stringify(value) })),
    );
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
          .map(([key, value]) => base('unknown field', { body: JSON.stringify({ [key]: value }) })),
      );
    }
    for (const mutation of fieldMutations(schema)) {
      options.push(
        mutation.arbitrary.map(({ why, value }) =>
          base(`${mutation.where}: ${why}`, { body: JSON.stringify(mutation.wrap(value)) }),
        ),
      );
    }
    if (Array.isArray(schema.required) && schema.required.length > 0)
      options.push(fc.constant(base('required fields missing', { body: '{}' })));
    options.push(
      fc
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
        .map((body) => base('malformed JSON', { body })),
    );
    options.push(
      fc
        .constantFrom(
          'text/plain',
          'application/xml',
          'application/x-www-form-urlencoded',
          'multipart/form-data; boundary=x',
        )
        .map((type) =>
          base(`content-type ${type}`, {
            headers: { ...idempotencyHeaders(operation), 'content-type': type },
            body: 'a=1',
          }),
        ),
    );
  }
  if (schema !== undefined || operation.method === 'POST' || operation.method === 'PATCH') {
    if (operation.rawBodyType === undefined)
      options.push(
        fc.constant(null).map(() =>
          base('body over the size limit', {
            body: Buffer.from(`{"padding":"${'x'.repeat(context.bodyLimitBytes + 1024)}"}`),
          }),
        ),
      );
  }
  if (operation.rawBodyType !== undefined) {
    options.push(
      fc.constantFrom('application/xml', 'image/png').map((type) =>
        base(`content-type ${type} on a ${operation.rawBodyType} upload`, {
          headers: { 'content-type': type },
          body: '<a/>',
        }),
      ),
    );
  }
  if (Object.keys(idempotencyHeaders(operation)).length > 0 && schema !== undefined) {
    const withoutKey = { 'content-type': 'application/json' };
    options.push(
      fc.constant(base('Idempotency-Key missing', { headers: withoutKey, body: '{"unknown_field_x":1}' })),
    );
    options.push(
      fc.constantFrom('k'.repeat(256), 'k'.repeat(10_000)).map((key) =>
        base('Idempotency-Key too long', {
          headers: { ...withoutKey, 'idempotency-key': key },
          body: '{"unknown_field_x":1}',
        }),
      ),
    );
  }
  for (const parameter of operation.parameters.filter((candidate) => candidate.in === 'query')) {
    const arbitrary = invalidQueryValues(parameter.schema);
    if (arbitrary === undefined) continue;
    options.push(
      arbitrary.map(({ why, value }) =>
        base(`query ${parameter.name}: ${why}`, {
          path: `${path}?${encodeSegment(parameter.name)}=${encodeSegment(value)}`,
          headers: {},
        }),
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
          base(`path ${parameter.name}: cannot exist`, {
            path: fillPath(operation, { ...values, [parameter.name]: value }),
            headers: {},
          }),
        ),
    );
  }
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
