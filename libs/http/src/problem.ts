/**
 * The one error mapper: every error leaving a handler becomes an RFC 9457
 * `application/problem+json` response here and nowhere else.
 */
import type { ErrorRequestHandler, Response } from 'express';
import { z } from 'zod';
import { DomainError, NotFound } from '@puhui/errors';
import type { ErrorKind, InvalidParam } from '@puhui/errors';
import { maskCardNumbers } from '@puhui/logging';
import type { Logger } from '@puhui/logging';

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

const STATUS_BY_KIND: Record<ErrorKind, number> = {
  invalid: 400,
  unauthenticated: 401,
  forbidden: 403,
  not_found: 404,
  method_not_allowed: 405,
  conflict: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
  unprocessable: 422,
  rate_limited: 429,
  unavailable: 503,
};

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail?: string;
  instance?: string;
  code: string;
  request_id?: string;
  invalid_params?: InvalidParam[];
  [extension: string]: unknown;
}

/** The Problem above as a schema, for the OpenAPI documents and for tests that check answers. */
export const problemSchema = z
  .looseObject({
    type: z.string().meta({ description: '`urn:puhui:problem:<code>`' }),
    title: z.string(),
    status: z.int().min(400).max(599),
    detail: z.string().optional(),
    instance: z.string().optional().meta({ description: 'The request path (card numbers masked).' }),
    code: z.string().meta({ description: 'Stable, machine-readable; branch on this, not on `title`.' }),
    request_id: z
      .string()
      .optional()
      .meta({ description: 'Quote it to support; also the X-Request-Id header.' }),
    invalid_params: z
      .array(
        z.strictObject({
          in: z.enum(['path', 'query', 'body', 'header']).optional(),
          name: z.string().meta({ description: 'Dotted path of the field, e.g. `lines.0.amount_minor`.' }),
          reason: z.string(),
        }),
      )
      .optional(),
  })
  .meta({
    id: 'Problem',
    description: 'RFC 9457 problem details; other members (e.g. `current_status`) may follow.',
  });

export function problemType(code: string): string {
  return `urn:puhui:problem:${code}`;
}

/**
 * Sends `problem`. A refusal that comes before the request's body has arrived (401 ahead of the
 * parser, 413 on a declared length, 408, 404) closes the connection after the answer: keeping
 * it alive would mean reading, and throwing away, the rest of a body the service refused.
 */
export function sendProblem(response: Response, problem: Problem): void {
  const request = response.req as Response['req'] | undefined;
  const hasBody =
    request !== undefined &&
    (request.headers['transfer-encoding'] !== undefined ||
      Number(request.headers['content-length'] ?? 0) > 0);
  if (hasBody && !request.complete) response.setHeader('Connection', 'close');
  response.status(problem.status).type(PROBLEM_CONTENT_TYPE).send(JSON.stringify(problem));
}

/** Errors raised by express.json() (body-parser) carry a `type` and a `status`. */
interface BodyParserError extends Error {
  type: string;
  status?: number;
  limit?: number;
}

function isBodyParserError(error: unknown): error is BodyParserError {
  return error instanceof Error && typeof (error as BodyParserError).type === 'string';
}

const BODY_PARSER_ERRORS: Record<string, () => DomainError> = {
  'entity.parse.failed': () =>
    new DomainError('invalid', 'malformed_json', 'Malformed JSON', {
      detail: 'The request body is not valid JSON.',
    }),
  'entity.too.large': () =>
    new DomainError('payload_too_large', 'payload_too_large', 'Payload too large', {
      detail: 'The request body exceeds the size limit.',
    }),
  'encoding.unsupported': () =>
    new DomainError('unsupported_media_type', 'unsupported_encoding', 'Unsupported content encoding', {
      detail: 'Send the body uncompressed or gzip/deflate encoded.',
    }),
  'charset.unsupported': () =>
    new DomainError('unsupported_media_type', 'unsupported_charset', 'Unsupported charset', {
      detail: 'Send JSON as UTF-8.',
    }),
  'entity.encoding.invalid': () =>
    new DomainError('invalid', 'invalid_utf8', 'Invalid UTF-8', {
      detail: 'The request body is not valid UTF-8.',
    }),
  'request.aborted': () =>
    new DomainError('invalid', 'request_aborted', 'Request aborted', { detail: 'The body was cut short.' }),
  'request.size.invalid': () =>
    new DomainError('invalid', 'request_size_invalid', 'Request size invalid', {
      detail: 'The body length does not match Content-Length.',
    }),
};

/** Network errors of a client whose server went away or does not answer. */
const UNREACHABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
]);
/**
 * SQLSTATEs of a database that is away: connection exceptions (08…), the server shutting down
 * or starting (57P01–57P03), too many connections (53300).
 */
const UNAVAILABLE_SQLSTATE = /^(08[0-9A-Z]{3}|57P0[123]|53300)$/u;
/** What node-postgres says when a connection ends, or none can be had in time. */
const UNAVAILABLE_MESSAGE =
  /Connection terminated|timeout exceeded when trying to connect|not queryable|Client was closed/iu;

/**
 * True when `error` (or an error it was caused by) says a dependency is unreachable, e.g.
 * Postgres restarting: the request failed for a passing reason, not a bug, and deserves a 503
 * the client can retry (with the same Idempotency-Key) rather than a 500.
 */
export function isDependencyUnavailable(error: unknown): boolean {
  for (let current = error, depth = 0; current instanceof Error && depth < 5; depth += 1) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && (UNREACHABLE_CODES.has(code) || UNAVAILABLE_SQLSTATE.test(code)))
      return true;
    if (UNAVAILABLE_MESSAGE.test(current.message)) return true;
    current = current.cause;
  }
  return false;
}

const DEPENDENCY_RETRY_AFTER_SECONDS = 1;

/**
 * Errors that body-parser and the router mark as the client's (http-errors' 4xx `status`) but
 * give no `type`: a body whose Content-Encoding (gzip, deflate, br) it does not hold (zlib's
 * Z_DATA_ERROR, Z_BUF_ERROR…), a path segment with a malformed percent-encoding (URIError).
 */
function clientFramingError(error: unknown): DomainError | undefined {
  if (!(error instanceof Error)) return undefined;
  const status = (error as { status?: unknown }).status;
  if (typeof status !== 'number' || status < 400 || status >= 500) return undefined;
  if (error instanceof URIError) {
    return new DomainError('invalid', 'malformed_path', 'Malformed path', {
      detail: 'A path segment holds a malformed percent-encoding.',
    });
  }
  // zlib's codes (Z_DATA_ERROR…) and brotli's decoder codes (ERR__ERROR_FORMAT_PADDING_2…).
  const { code, errno } = error as { code?: unknown; errno?: unknown };
  if (typeof errno === 'number' && typeof code === 'string' && /^(Z_|ERR__)/u.test(code)) {
    return new DomainError('invalid', 'malformed_body_encoding', 'Malformed body encoding', {
      detail: 'The body does not decode with the Content-Encoding it names.',
    });
  }
  return new DomainError('invalid', 'bad_request', 'Bad request', {
    detail: 'The request could not be read.',
  });
}

function toDomainError(error: unknown): DomainError | undefined {
  if (error instanceof DomainError) return error;
  if (isBodyParserError(error)) return BODY_PARSER_ERRORS[error.type]?.() ?? clientFramingError(error);
  const framing = clientFramingError(error);
  if (framing !== undefined) return framing;
  if (isDependencyUnavailable(error))
    return new DomainError('unavailable', 'dependency_unavailable', 'Service unavailable', {
      detail:
        'A database or service this request needs is not answering. Try again shortly (with the same Idempotency-Key for a payment).',
      extensions: { retry_after_seconds: DEPENDENCY_RETRY_AFTER_SECONDS },
      cause: error,
    });
  return undefined;
}

export function problemFromDomainError(error: DomainError, instance: string, requestId?: string): Problem {
  return {
    ...error.extensions,
    type: problemType(error.code),
    title: error.title,
    status: STATUS_BY_KIND[error.kind],
    detail: error.detail,
    // The path is echoed back: mask a card number someone put in a URL.
    instance: maskCardNumbers(instance),
    code: error.code,
    ...(requestId === undefined ? {} : { request_id: requestId }),
    ...(error.invalidParams.length > 0 ? { invalid_params: [...error.invalidParams] } : {}),
  };
}

export function problemMapper(logger: Logger): ErrorRequestHandler {
  return (error: unknown, request, response, next) => {
    if (response.headersSent) {
      next(error);
      return;
    }
    const requestId = response.locals.requestId as string | undefined;
    const domainError = toDomainError(error);
    if (domainError === undefined) {
      logger.error({ err: error, request_id: requestId }, 'unhandled error');
      sendProblem(response, {
        type: problemType('internal_error'),
        title: 'Internal server error',
        status: 500,
        detail: 'Something went wrong on our side. Quote the request id when you contact support.',
        instance: maskCardNumbers(request.originalUrl),
        code: 'internal_error',
        ...(requestId === undefined ? {} : { request_id: requestId }),
      });
      return;
    }
    const allow = domainError.extensions.allow;
    if (typeof allow === 'string') response.setHeader('Allow', allow);
    const retryAfter = domainError.extensions.retry_after_seconds;
    if (typeof retryAfter === 'number') response.setHeader('Retry-After', String(retryAfter));
    const problem = problemFromDomainError(domainError, request.originalUrl, requestId);
    if (problem.status >= 500) {
      // A refusal the service decided on its own (`not_yet_available`) says all in its code and
      // detail; a stack is logged where a failure underneath caused the answer.
      const decided = error === domainError && domainError.cause === undefined;
      logger.warn(
        decided ? { code: problem.code, detail: problem.detail } : { err: error, code: problem.code },
        'request failed',
      );
    }
    sendProblem(response, problem);
  };
}

export function routeNotFound(): never {
  throw new NotFound('This route');
}
