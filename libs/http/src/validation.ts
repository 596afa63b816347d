/**
 * zod request validation. All parts of a request (path, query, body, headers) are checked
 * together so that one 400 names every invalid field at once.
 */
import type { Request } from 'express';
import type { z } from 'zod';
import { ValidationFailed } from '@puhui/errors';
import type { InvalidParam } from '@puhui/errors';

export type RequestPart = 'path' | 'query' | 'body' | 'header';

export interface RequestSchemas<
  Path extends z.ZodType = z.ZodType,
  Query extends z.ZodType = z.ZodType,
  Body extends z.ZodType = z.ZodType,
  Headers extends z.ZodType = z.ZodType,
> {
  path?: Path;
  query?: Query;
  body?: Body;
  headers?: Headers;
}

export interface InvalidRequestParam extends InvalidParam {
  in: RequestPart;
}

function issuesToParams(issues: readonly z.core.$ZodIssue[], part: RequestPart): InvalidRequestParam[] {
  return issues.flatMap((issue) => {
    const path = issue.path.map(String);
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((key) => ({ in: part, name: [...path, key].join('.'), reason: 'unknown field' }));
    }
    const name = path.length > 0 ? path.join('.') : part;
    return [{ in: part, name, reason: issue.message }];
  });
}

type Parsed<S> = S extends z.ZodType ? z.output<S> : undefined;

export interface ParsedRequest<P, Q, B, H> {
  path: Parsed<P>;
  query: Parsed<Q>;
  body: Parsed<B>;
  headers: Parsed<H>;
}

const NUL_REASON = 'must not contain the NUL character (U+0000)';

/**
 * Fields of `value` (a raw path, query or body) whose text holds U+0000. Postgres text cannot
 * store it ("invalid byte sequence"), so such a value would otherwise fail as a 500 at the
 * first query that names it, whatever its schema says.
 */
function nulFields(
  value: unknown,
  part: RequestPart,
  path: string[] = [],
  found: InvalidRequestParam[] = [],
) {
  if (found.length >= 20 || path.length > 32) return found;
  if (typeof value === 'string') {
    if (value.includes('\u0000'))
      found.push({ in: part, name: path.length > 0 ? path.join('.') : part, reason: NUL_REASON });
  } else if (Array.isArray(value)) {
    value.forEach((item, index) => nulFields(item, part, [...path, String(index)], found));
  } else if (value !== null && typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) nulFields(item, part, [...path, key], found);
  }
  return found;
}

/** Parses the parts named in `schemas`; throws ValidationFailed listing every bad field. */
export function parseRequest<
  P extends z.ZodType | undefined = undefined,
  Q extends z.ZodType | undefined = undefined,
  B extends z.ZodType | undefined = undefined,
  H extends z.ZodType | undefined = undefined,
>(request: Request, schemas: { path?: P; query?: Q; body?: B; headers?: H }): ParsedRequest<P, Q, B, H> {
  const invalid: InvalidRequestParam[] = [];
  const parse = (schema: z.ZodType | undefined, value: unknown, part: RequestPart): unknown => {
    if (schema === undefined) return undefined;
    const withNul = part === 'header' ? [] : nulFields(value, part);
    if (withNul.length > 0) {
      invalid.push(...withNul);
      return undefined;
    }
    const result = schema.safeParse(value);
    if (result.success) return result.data;
    invalid.push(...issuesToParams(result.error.issues, part));
    return undefined;
  };
  const parsed = {
    path: parse(schemas.path, request.params, 'path'),
    query: parse(schemas.query, request.query, 'query'),
    body: parse(schemas.body, request.body, 'body'),
    headers: parse(schemas.headers, request.headers, 'header'),
  };
  if (invalid.length > 0) throw new ValidationFailed(invalid);
  return parsed as ParsedRequest<P, Q, B, H>;
}
