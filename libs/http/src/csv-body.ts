/**
 * CSV uploads (card imports, acquirer statements): the routes stream the body themselves, so
 * they skip the JSON parser, and with it its Content-Encoding handling: they must refuse what
 * they will not decode (issue 14: a card import stored a "gzip" body as if it were plain text).
 * `CsvUpload` reads one: bounded, line-numbered, hashed, its errors never echoing the data.
 */
import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { parse } from 'csv-parse';
import type { CsvError, Parser } from 'csv-parse';
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

export interface CsvUploadSettings {
  /** Longest record read, in bytes; a longer one fails the parse. */
  recordBytesMax: number;
  /** Most bytes read: past it the parse fails with `tooLarge()`, the caller's 413. */
  fileBytesMax?: number;
  tooLarge?: () => DomainError;
  /** A stray quote inside a field stays in the field (and fails that field's own check). */
  relaxQuotes?: boolean;
}

/** A record's fields, and the line of the file it ends on. */
export type CsvRecord = string[] & { line: number };

/** A parse failure, in our words: csv-parse's own messages quote the data, so they are never shown. */
export interface MalformedCsv {
  reason: string;
  /** The line the parser had reached when it gave up (for a quote never closed, the file's end). */
  line: number;
}

const MALFORMED_CSV_REASONS: Partial<Record<string, string>> = {
  CSV_QUOTE_NOT_CLOSED: 'a quoted field is never closed',
  CSV_INVALID_CLOSING_QUOTE: 'a closing quote is followed by other characters',
  CSV_NON_TRIMABLE_CHAR_AFTER_CLOSING_QUOTE: 'a closing quote is followed by other characters',
  INVALID_OPENING_QUOTE: 'a quote opens in the middle of a field',
};

class UploadEndedEarly extends DomainError {
  constructor() {
    super('invalid', 'upload_incomplete', 'Upload incomplete', {
      detail: 'The upload ended before the end of the file.',
    });
  }
}

/**
 * A CSV body streamed through csv-parse, record by record, its bytes counted and hashed
 * (SHA-256) as they pass, so that memory stays flat whatever the file's size. UTF-8 with or
 * without a BOM, `\n` or `\r\n`, fields trimmed, empty lines skipped, rows of any width (a row
 * of the wrong width is that row's problem, for the caller to report with its line). The body
 * is piped, not `pipeline`d: after `stop()` the handler answers while the rest of the upload
 * drains, which a destroyed request would not allow. An upload that ends early fails the parse.
 */
export class CsvUpload {
  readonly records: AsyncIterator<CsvRecord>;
  private readonly parser: Parser;
  private readonly digest = createHash('sha256');
  private bytes = 0;
  private lastLine = 0;

  constructor(
    private readonly body: Readable,
    private readonly settings: CsvUploadSettings,
  ) {
    this.parser = parse({
      bom: true,
      trim: true,
      skip_empty_lines: true,
      relax_column_count: true,
      relax_quotes: settings.relaxQuotes ?? false,
      record_delimiter: ['\r\n', '\n'],
      max_record_size: settings.recordBytesMax,
      // Called as records are parsed, before the iterator sees them: a parse error can overtake them.
      // The record's line is all that is kept of its context (`info: true` would copy the whole
      // context per record: 1.6 s of a million-line file).
      on_record: (record: string[], context) => {
        this.lastLine = context.lines;
        return Object.assign(record, { line: context.lines });
      },
    });
    body.on('data', (chunk: Buffer) => this.count(chunk));
    body.on('error', (error) => this.parser.destroy(error));
    body.on('close', () => {
      if (!(body as Readable & { complete?: boolean }).complete) this.parser.destroy(new UploadEndedEarly());
    });
    body.pipe(this.parser);
    this.records = this.parser[Symbol.asyncIterator]() as AsyncIterator<CsvRecord>;
  }

  private count(chunk: Buffer): void {
    this.digest.update(chunk);
    this.bytes += chunk.length;
    const { fileBytesMax, tooLarge } = this.settings;
    if (fileBytesMax !== undefined && this.bytes > fileBytesMax && tooLarge !== undefined)
      this.parser.destroy(tooLarge());
  }

  /** Stops reading: the parser is dropped and the rest of the body drains unread. */
  stop(): void {
    this.body.unpipe(this.parser);
    this.body.resume();
    this.parser.destroy();
  }

  /** The line of the last record parsed (0 before the first). */
  lastRecordLine(): number {
    return this.lastLine;
  }

  /** The upload's SHA-256 and size; complete once the records are exhausted. */
  file(): { sha256: string; bytes: number } {
    return { sha256: this.digest.digest('hex'), bytes: this.bytes };
  }

  /** `error` as a parse failure in our words, or undefined when it is not one. */
  malformed(error: unknown): MalformedCsv | undefined {
    const code = (error as CsvError | null)?.code;
    if (typeof code !== 'string' || !(code.startsWith('CSV_') || code === 'INVALID_OPENING_QUOTE'))
      return undefined;
    const reason =
      code === 'CSV_MAX_RECORD_SIZE'
        ? `a line is longer than ${this.settings.recordBytesMax} bytes`
        : (MALFORMED_CSV_REASONS[code] ?? 'not CSV');
    return { reason, line: Number((error as { lines?: unknown }).lines) };
  }
}
