/**
 * The problem codes whose status is the same on every operation of every service: the
 * platform's own (framing, credentials, limits, availability) and idempotency's. The documents
 * list them under their status (`components.responses.Problem<status>`, `x-problem-codes`) and
 * the conformance check fails an answer that gives one of them another status. A check of
 * statuses alone cannot see that: a reused Idempotency-Key answered 422, which every
 * idempotent operation documents for reasons of its own, while the documents said 409.
 */
import type { ProblemStatus } from './operations';

export const PLATFORM_PROBLEM_CODES: Readonly<Record<string, ProblemStatus>> = {
  validation_failed: 400,
  malformed_json: 400,
  malformed_path: 400,
  malformed_body_encoding: 400,
  invalid_utf8: 400,
  request_aborted: 400,
  request_size_invalid: 400,
  bad_request: 400,
  unauthenticated: 401,
  forbidden: 403,
  not_found: 404,
  method_not_allowed: 405,
  idempotency_key_in_flight: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
  unsupported_encoding: 415,
  unsupported_charset: 415,
  idempotency_key_reused: 422,
  rate_limited: 429,
  internal_error: 500,
  dependency_unavailable: 503,
  not_ready: 503,
  shutting_down: 503,
  not_yet_available: 503,
};

/** The platform's codes answered with `status`, for its documented problem response. */
export function platformCodesOf(status: number): string[] {
  return Object.entries(PLATFORM_PROBLEM_CODES)
    .filter(([, fixed]) => fixed === status)
    .map(([code]) => code);
}
