/**
 * Step 1 of a statement upload (commands/reconciliation.ts): the body streams through the CSV
 * parser (libs/http's CsvUpload) while its bytes are hashed; every line is checked and staged in batches, one batch
 * written while the next is parsed. A bad line stops the staging; up to `invalidLinesListedMax`
 * bad lines are listed and the caller's transaction rolls back, so a bad file leaves no run behind.
 */
import type { Readable } from 'node:stream';
import { DomainError } from '@puhui/errors';
import { CsvUpload } from '@puhui/http';
import type { CsvRecord } from '@puhui/http';
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

/**
 * A parse failure as a problem of the line after the last record parsed: the parser itself
 * counts to where it gave up, which for a quote never closed is the end of the file.
 */
function malformedCsv(upload: CsvUpload, error: unknown): LineProblem | undefined {
  const malformed = upload.malformed(error);
  if (malformed === undefined) return undefined;
  return {
    line: upload.lastRecordLine() + 1,
    reason: `the file cannot be read from this line on: ${malformed.reason}`,
  };
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

async function readHeader(records: AsyncIterator<CsvRecord>): Promise<void> {
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
  records: AsyncIterator<CsvRecord>,
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
  const upload = new CsvUpload(body, {
    recordBytesMax: LINE_BYTES_MAX,
    fileBytesMax: settings.fileBytesMax,
    tooLarge: () => new StatementTooLarge(`${settings.fileBytesMax} bytes`),
  });
  const { records } = upload;
  const staging = new StagingBatches(client, settings.batchSize);
  const read: LinesRead = { lineCount: 0, settlementDate: undefined, problems: [] };
  try {
    await readHeader(records);
    await readLines(records, staging, settings, read);
  } catch (error) {
    upload.stop();
    await staging.abandon();
    const malformed = malformedCsv(upload, error);
    if (malformed === undefined) throw error;
    read.problems.push(malformed);
  }
  if (read.problems.length > 0) {
    upload.stop();
    await staging.abandon();
    throw new InvalidStatement(read.problems.slice(0, settings.invalidLinesListedMax));
  }
  if (read.settlementDate === undefined) throw new EmptyStatement();
  const { sha256, bytes } = upload.file();
  return {
    fileSha256: sha256,
    fileBytes: bytes,
    settlementDate: read.settlementDate,
    lineCount: read.lineCount,
  };
}
