/**
 * Step 1 of a statement upload (commands/reconciliation.ts): the body streams through the CSV
 * parser while its bytes are hashed; every line is checked and staged in batches, one batch
 * written while the next is parsed. A bad line stops the staging; up to `invalidLinesListedMax`
 * bad lines are listed and the caller's transaction rolls back, so a bad file leaves no run behind.
 */
import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { parse } from 'csv-parse';
import type { CsvError, Parser } from 'csv-parse';
import { DomainError } from '@puhui/errors';
import type { PoolClient } from '@puhui/postgres';
import { isLineProblem, readStatementLine, statementHeaderProblem } from '../domain/reconciliation-statement';
import type { LineProblem, StatementLine } from '../domain/reconciliation-statement';
import { insertStagedLines } from '../store/reconciliation-staging';

/** How much one upload may hold and how it is staged. */
export interface StatementLimits {
  linesMax: number;
  fileBytesMax: number;
  /** Lines per staging INSERT. */
  batchSize: number;
  /** Bad lines named in a 400; the first ones in the file. */
  invalidLinesListedMax: number;
}

/** Longest line read: seven short fields fit in a few hundred bytes. */
const LINE_BYTES_MAX = 1_024;
class InvalidStatement extends DomainError {
  constructor(problems: readonly LineProblem[]) {
    super('invalid', 'invalid_statement', 'Invalid statement', {
      detail: `The statement has invalid lines (the first ${problems.length} are listed); nothing was recorded.`,
      extensions: { invalid_lines: problems },
    });
  }
}

class EmptyStatement extends DomainError {
  constructor() {
    super('unprocessable', 'empty_statement', 'Empty statement', {
      detail: 'The statement has no data lines; nothing was recorded.',
    });
  }
}

class StatementTooLarge extends DomainError {
  constructor(what: string) {
    super('payload_too_large', 'statement_too_large', 'Statement too large', {
      detail: `A statement may have at most ${what}; split the file.`,
    });
  }
}

class UploadEndedEarly extends DomainError {
  constructor() {
    super('invalid', 'upload_incomplete', 'Upload incomplete', {
      detail: 'The upload ended before the end of the file.',
    });
  }
}

/** Why a file cannot be parsed, in our words: the parser's own messages quote the data. */
const MALFORMED_CSV: Partial<Record<string, string>> = {
  CSV_MAX_RECORD_SIZE: `a line is longer than ${LINE_BYTES_MAX} bytes`,
  CSV_QUOTE_NOT_CLOSED: 'a quoted field is never closed',
  CSV_INVALID_CLOSING_QUOTE: 'a closing quote is followed by other characters',
  CSV_NON_TRIMABLE_CHAR_AFTER_CLOSING_QUOTE: 'a closing quote is followed by other characters',
  INVALID_OPENING_QUOTE: 'a quote opens in the middle of a field',
};

/**
 * A parse failure as a problem of the line after the last record parsed: the parser itself
 * counts to where it gave up, which for a quote never closed is the end of the file.
 */
function malformedCsv(error: unknown, line: number): LineProblem | undefined {
  const code = (error as CsvError).code;
  if (typeof code !== 'string' || !(code.startsWith('CSV_') || code === 'INVALID_OPENING_QUOTE'))
    return undefined;
  return { line, reason: `the file cannot be read from this line on: ${MALFORMED_CSV[code] ?? 'not CSV'}` };
}

/** A record's fields, and the line of the file it ends on. */
type ParsedRecord = string[] & { line: number };

/**
 * The body through the CSV parser, hashed as it passes. Piped, not `pipeline`d: after a bad
 * file the handler answers while the rest of the upload drains, which a destroyed request
 * would not allow. An upload that ends early fails the parse.
 */
function csvRecords(body: Readable, fileBytesMax: number) {
  const digest = createHash('sha256');
  let fileBytes = 0;
  let lastRecordLine = 0;
  const parser = parse({
    bom: true,
    trim: true,
    skip_empty_lines: true,
    // A line of the wrong width is that line's problem, reported with its number.
    relax_column_count: true,
    record_delimiter: ['\r\n', '\n'],
    max_record_size: LINE_BYTES_MAX,
    // Called as records are parsed, before the iterator sees them: a parse error can overtake them.
    // The record's line number is all we keep of its context (`info: true` would copy the whole
    // context per record: 1.6 s of a million-line file).
    on_record: (record, context) => {
      lastRecordLine = context.lines;
      (record as ParsedRecord).line = context.lines;
      return record;
    },
  });
  body.on('data', (chunk: Buffer) => {
    digest.update(chunk);
    fileBytes += chunk.length;
    if (fileBytes > fileBytesMax) parser.destroy(new StatementTooLarge(`${fileBytesMax} bytes`));
  });
  body.on('error', (error) => parser.destroy(error));
  body.on('close', () => {
    if (!(body as Readable & { complete?: boolean }).complete) parser.destroy(new UploadEndedEarly());
  });
  body.pipe(parser);
  return {
    parser,
    records: parser[Symbol.asyncIterator]() as AsyncIterator<ParsedRecord>,
    /** Complete once the parser has ended, which it does after the body's last byte. */
    file: () => ({ sha256: digest.digest('hex'), bytes: fileBytes }),
    lastRecordLine: () => lastRecordLine,
  };
}

function stopReading(body: Readable, parser: Parser): void {
  body.unpipe(parser);
  body.resume();
  parser.destroy();
}

/**
 * Staged lines gathered into batches. One write is in flight at a time: the next batch is
 * parsed while the previous one is written, and waits for it, so at most two are ever held.
 */
class StagingBatches {
  private batch: StatementLine[] = [];
  private writing: Promise<void> = Promise.resolve();

  constructor(
    private readonly client: PoolClient,
    private readonly batchSize: number,
  ) {}

  get full(): boolean {
    return this.batch.length >= this.batchSize;
  }

  add(line: StatementLine): void {
    this.batch.push(line);
  }

  async flush(): Promise<void> {
    const batch = this.batch;
    if (batch.length === 0) return;
    this.batch = [];
    await this.writing;
    this.writing = insertStagedLines(this.client, batch);
    // Awaited by the next flush or by `finished`; until then a failure must not count as unhandled.
    this.writing.catch(() => undefined);
  }

  async finished(): Promise<void> {
    await this.flush();
    await this.writing;
  }

  /** After a problem: drops the unwritten batch and waits for the write in flight, if any. */
  async abandon(): Promise<void> {
    this.batch = [];
    await this.writing.catch(() => undefined);
  }
}

export interface StagedStatement {
  fileSha256: string;
  fileBytes: number;
  settlementDate: string;
  lineCount: number;
}

interface LinesRead {
  lineCount: number;
  settlementDate: string | undefined;
  problems: LineProblem[];
}

async function readHeader(records: AsyncIterator<ParsedRecord>): Promise<void> {
  const first = await records.next();
  if (first.done === true) throw new EmptyStatement();
  const problem = statementHeaderProblem(first.value);
  if (problem !== undefined) throw new InvalidStatement([{ line: first.value.line, reason: problem }]);
}

/**
 * Checks every line and stages the good ones until the first bad one; lists the bad ones in
 * `read`, which the caller owns so that what was read survives a parse failure midway.
 */
async function readLines(
  records: AsyncIterator<ParsedRecord>,
  staging: StagingBatches,
  settings: StatementLimits,
  read: LinesRead,
): Promise<void> {
  for (let next = await records.next(); next.done !== true; next = await records.next()) {
    read.lineCount += 1;
    if (read.lineCount > settings.linesMax) throw new StatementTooLarge(`${settings.linesMax} lines`);
    const line = readStatementLine(next.value, next.value.line, read.settlementDate);
    if (isLineProblem(line)) {
      read.problems.push(line);
      if (read.problems.length >= settings.invalidLinesListedMax) return;
      continue;
    }
    read.settlementDate ??= line.settlement_date;
    // Past a bad line nothing more is staged: the transaction will roll back.
    if (read.problems.length > 0) continue;
    staging.add(line);
    if (staging.full) await staging.flush();
  }
  if (read.problems.length === 0) await staging.finished();
}

/** Reads the upload into `staged_lines`; throws on a bad or empty file (and stops reading it). */
export async function stageStatement(
  client: PoolClient,
  body: Readable,
  settings: StatementLimits,
): Promise<StagedStatement> {
  const { parser, records, file, lastRecordLine } = csvRecords(body, settings.fileBytesMax);
  const staging = new StagingBatches(client, settings.batchSize);
  const read: LinesRead = { lineCount: 0, settlementDate: undefined, problems: [] };
  try {
    await readHeader(records);
    await readLines(records, staging, settings, read);
  } catch (error) {
    stopReading(body, parser);
    await staging.abandon();
    const malformed = malformedCsv(error, lastRecordLine() + 1);
    if (malformed === undefined) throw error;
    read.problems.push(malformed);
  }
  if (read.problems.length > 0) {
    stopReading(body, parser);
    await staging.abandon();
    throw new InvalidStatement(read.problems.slice(0, settings.invalidLinesListedMax));
  }
  if (read.settlementDate === undefined) throw new EmptyStatement();
  const { sha256, bytes } = file();
  return {
    fileSha256: sha256,
    fileBytes: bytes,
    settlementDate: read.settlementDate,
    lineCount: read.lineCount,
  };
}
