/**
 * zod schemas as JSON Schema for the published documents (OpenAPI 3.1, AsyncAPI 3.0), with
 * zod 4's own `z.toJSONSchema`. Schemas named with `.meta({ id })` become shared components:
 * they are hoisted out of each converted schema and referred to by `$ref`.
 */
import { z } from 'zod';

export type JsonSchema = Record<string, unknown>;

export interface JsonSchemaOptions {
  /** Requests document what a caller may send (`input`); responses and events what is sent (`output`). */
  io: 'input' | 'output';
  /** OpenAPI 3.1 speaks 2020-12; AsyncAPI 3.0's default schema format is a draft-07 superset. */
  target: 'draft-2020-12' | 'draft-07';
  /** Where shared schemas live, e.g. `#/components/schemas/`. */
  componentsPath: string;
}

/** The bounds of a JavaScript safe integer say nothing a reader needs: zod's `z.int()` adds them. */
const SAFE_INTEGER_BOUND = Number.MAX_SAFE_INTEGER;
/** Formats whose meaning is standard: zod's long regular expression for them is noise in a document. */
const WELL_KNOWN_FORMATS = new Set(['date-time', 'date', 'email', 'uuid', 'base64']);

function tidy(context: { jsonSchema: Record<string, unknown> }): void {
  const schema = context.jsonSchema;
  if (typeof schema.format === 'string' && WELL_KNOWN_FORMATS.has(schema.format)) delete schema.pattern;
  if (schema.minimum === -SAFE_INTEGER_BOUND) delete schema.minimum;
  if (schema.maximum === SAFE_INTEGER_BOUND) delete schema.maximum;
}

function rewriteReferences(value: unknown, from: string, to: string): unknown {
  if (Array.isArray(value)) return value.map((item) => rewriteReferences(item, from, to));
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value).map(([key, item]) => [
      key,
      key === '$ref' && typeof item === 'string' && item.startsWith(from)
        ? `${to}${item.slice(from.length)}`
        : rewriteReferences(item, from, to),
    ]),
  );
}

/**
 * Collects JSON Schemas of zod schemas for one document: `convert` returns the schema to put
 * inline (a `$ref` when the schema is named), and `components` every named schema met so far.
 * One name with two different shapes in one document is a programmer error.
 */
export class JsonSchemaCollector {
  readonly components: Record<string, JsonSchema> = {};
  private readonly options: JsonSchemaOptions;

  constructor(options: JsonSchemaOptions) {
    this.options = options;
  }

  convert(schema: z.ZodType, io: 'input' | 'output' = this.options.io): JsonSchema {
    const converted = z.toJSONSchema(schema, {
      target: this.options.target,
      io,
      // Transforms and custom checks have no JSON form: they document as their input or `{}`.
      unrepresentable: 'any',
      override: tidy,
    }) as JsonSchema;
    const definitionsKey = this.options.target === 'draft-07' ? 'definitions' : '$defs';
    const localPath = `#/${definitionsKey}/`;
    const {
      $schema: _schema,
      $id: _id,
      id: _name,
      [definitionsKey]: definitions,
      ...rest
    } = rewriteReferences(converted, localPath, this.options.componentsPath) as JsonSchema;
    for (const [name, definition] of Object.entries((definitions ?? {}) as Record<string, JsonSchema>)) {
      this.addComponent(name, definition);
    }
    const name = z.globalRegistry.get(schema)?.id;
    // A named schema converts to a `$ref` to its own definition, hoisted above.
    if (typeof name !== 'string' || typeof rest.$ref === 'string') return rest;
    this.addComponent(name, rest);
    return { $ref: `${this.options.componentsPath}${name}` };
  }

  private addComponent(name: string, definition: JsonSchema): void {
    const known = this.components[name];
    if (known !== undefined && JSON.stringify(known) !== JSON.stringify(definition)) {
      throw new Error(`two different schemas are both named ${name}`);
    }
    this.components[name] = definition;
  }
}
