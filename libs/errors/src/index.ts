/**
 * Typed errors with a stable `code`. Domain and platform code throw these; exactly one
 * place (@puhui/http's problem mapper) turns them into HTTP status and problem+json.
 * This package has no dependencies so that pure domain code can use it.
 */

/** What kind of failure it is; the HTTP layer maps each kind to one status. */
export type ErrorKind =
  | 'invalid' // 400
  | 'unauthenticated' // 401
  | 'forbidden' // 403
  | 'not_found' // 404
  | 'method_not_allowed' // 405
  | 'conflict' // 409
  | 'payload_too_large' // 413
  | 'unsupported_media_type' // 415
  | 'unprocessable' // 422
  | 'rate_limited' // 429
  | 'unavailable'; // 503

export interface InvalidParam {
  /** Dotted path of the offending field, e.g. `lines.0.amount_minor`. */
  name: string;
  reason: string;
}

export interface DomainErrorOptions {
  detail?: string;
  /** Extra problem members, e.g. `{ current_status: 'approved' }`. snake_case keys. */
  extensions?: Record<string, unknown>;
  invalidParams?: InvalidParam[];
  cause?: unknown;
}

export class DomainError extends Error {
  readonly code: string;
  readonly kind: ErrorKind;
  readonly title: string;
  readonly extensions: Readonly<Record<string, unknown>>;
  readonly invalidParams: readonly InvalidParam[];

  constructor(kind: ErrorKind, code: string, title: string, options: DomainErrorOptions = {}) {
    super(options.detail ?? title, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.kind = kind;
    this.code = code;
    this.title = title;
    this.extensions = options.extensions ?? {};
    this.invalidParams = options.invalidParams ?? [];
  }

  get detail(): string {
    return this.message;
  }
}

export class ValidationFailed extends DomainError {
  constructor(invalidParams: InvalidParam[], detail = 'The request has invalid fields.') {
    super('invalid', 'validation_failed', 'Your request parameters did not validate', {
      detail,
      invalidParams,
    });
  }
}

export class NotFound extends DomainError {
  constructor(what: string, options: DomainErrorOptions = {}) {
    super('not_found', 'not_found', 'Not found', { detail: `${what} was not found.`, ...options });
  }
}

export class Conflict extends DomainError {
  constructor(code: string, detail: string, extensions: Record<string, unknown> = {}) {
    super('conflict', code, 'Conflict', { detail, extensions });
  }
}

export class Unprocessable extends DomainError {
  constructor(code: string, detail: string, extensions: Record<string, unknown> = {}) {
    super('unprocessable', code, 'Unprocessable request', { detail, extensions });
  }
}

export class Unauthenticated extends DomainError {
  constructor(detail = 'Missing or invalid credentials.') {
    super('unauthenticated', 'unauthenticated', 'Unauthenticated', { detail });
  }
}

export class Forbidden extends DomainError {
  constructor(detail = 'You are not allowed to do this.') {
    super('forbidden', 'forbidden', 'Forbidden', { detail });
  }
}

export class RateLimited extends DomainError {
  constructor(retryAfterSeconds: number) {
    super('rate_limited', 'rate_limited', 'Too many requests', {
      detail: `Retry after ${retryAfterSeconds} seconds.`,
      extensions: { retry_after_seconds: retryAfterSeconds },
    });
  }
}

/**
 * Something another service created a moment ago that has not reached this one yet: retry
 * after `retryAfterSeconds`. The detail says it may not exist, for the id that was simply wrong.
 */
export class NotYetAvailable extends DomainError {
  constructor(what: string, retryAfterSeconds: number, invalidParams: InvalidParam[] = []) {
    super('unavailable', 'not_yet_available', 'Not yet available', {
      detail: `${what} is not known here yet. If it was created a moment ago it is on its way: retry after ${retryAfterSeconds} s. If this answer persists for minutes it does not exist.`,
      extensions: { retry_after_seconds: retryAfterSeconds },
      invalidParams,
    });
  }
}

export class ServiceUnavailable extends DomainError {
  constructor(code: string, detail: string, cause?: unknown) {
    super('unavailable', code, 'Service unavailable', { detail, cause });
  }
}
