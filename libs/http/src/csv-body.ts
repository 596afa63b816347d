/**
 * Routes that stream a CSV body themselves (card imports, acquirer statements) skip the JSON
 * parser, and with it its Content-Encoding handling: they must refuse what they will not decode
 * (issue 14: a card import stored a "gzip" body as if it were plain text).
 */
import type { Request } from 'express';
import { DomainError } from '@puhui/errors';

export const CSV_CONTENT_TYPE = 'text/csv';

/**
 * Throws 415 unless the body is text/csv in UTF-8 and not compressed. No body at all passes only
 * with `allowEmpty` (an acquirer's empty statement is a statement; an empty card import is not).
 */
export function requireUncompressedCsv(
  request: Request,
  detail: string,
  options: { allowEmpty?: boolean } = {},
): void {
  const encoding = request.header('content-encoding')?.trim().toLowerCase();
  const charset = /charset=([^;]+)/iu
    .exec(request.header('content-type') ?? '')?.[1]
    ?.trim()
    .toLowerCase();
  const csv = request.is(CSV_CONTENT_TYPE);
  if (
    csv === false ||
    (csv === null && options.allowEmpty !== true) ||
    (encoding !== undefined && encoding !== 'identity') ||
    (charset ?? 'utf-8') !== 'utf-8'
  ) {
    throw new DomainError('unsupported_media_type', 'unsupported_media_type', 'Unsupported media type', {
      detail,
    });
  }
}
