/**
 * Reconciling the acquirer's daily statement (DESIGN §6). One upload is one transaction:
 * 1. The body streams through the CSV parser while its bytes are hashed; every line is checked
 *    and staged in batches, one batch written while the next is parsed. A bad line stops the
 *    staging; up to `invalidLinesListedMax` bad lines are listed and the transaction rolls
 *    back, so a bad file leaves no run behind.
 * 2. A file whose SHA-256 has a run already answers that run and stores nothing.
 * 3. Otherwise the staged lines are matched (rules in domain/reconciliation.ts: duplicates and
 *    references in SQL, the time-tolerance pass streamed through `ToleranceMatcher`) and the
 *    run is stored with its items, totals and an audit entry; the matched sales' held
 *    subsidies become payable (commands/subsidy.ts).
 * The process holds at most two batches of lines, or one page of leftovers, at a time: memory
 * stays flat whatever the size of the file.
 *
 * The transaction is never retried: the body cannot be read twice.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { parse } from 'csv-parse';
import type { CsvError, Parser } from 'csv-parse';
import { newId } from '@puhui/contracts';
import { DomainError } from '@puhui/errors';
import type { Logger } from '@puhui/logging';
import { sqlState, withTransaction } from '@puhui/postgres';
import type { Pool, PoolClient } from '@puhui/postgres';
import {
  RECONCILIATION_CATEGORIES,
  ToleranceMatcher,
  isLineProblem,
  readStatementLine,
  statementHeaderProblem,
} from '../domain/reconciliation';
import type { CategoryTotal, LineProblem, ReconciliationRun, StatementLine } from '../domain/reconciliation';
import {
  analyzeStaging,
  createStagedLedger,
  createStagedLines,
  createStagedPairs,
  fetchLeftovers,
  findRun,
  findRunByFile,
  insertItems,
  insertRun,
  insertStagedLines,
  insertTolerancePairs,
  insertTotals,
  openLeftovers,
  pairByReferenceAndAmount,
  pairByReferenceOnly,
  pairDuplicateLines,
  setRunLimits,
  stageLedgerItems,
} from '../store/reconciliation';
import { appendAudit } from '../store/reconciliation-audit';
import { confirmMatchedSubsidies } from './subsidy';

export interface ReconciliationSettings {
  /** How far apart a line's time and a ledger item's may be for a match without a reference. */
  timeToleranceMs: number;
  linesMax: number;
  fileBytesMax: number;
  /** Lines per staging INSERT. */
  batchSize: number;
  /** Bad lines named in a 400; the first ones in the file. */
  invalidLinesListedMax: number;
}

/**
 * Bounds. A national programme's busiest acquirer day is a few million lines, so five million;
 * a line is about 95 bytes, so 1 GiB leaves room. Batches of 5,000 lines: staging 300,000 lines
 * took 3.7 s in the benchmark, against 4.4 s in batches of 1,000 and 4.1 s in batches of 20,000.
 */
export const RECONCILIATION_LIMITS = {
  linesMax: 5_000_000,
  fileBytesMax: 1024 * 1024 * 1024,
  batchSize: 5_000,
  invalidLinesListedMax: 20,
} as const;
/** Longest line read: seven short fields fit in a few hundred bytes. */
const LINE_BYTES_MAX = 1_024;
/** Leftovers fetched per round trip in the time-tolerance pass, and pairs per INSERT. */
const LEFTOVER_PAGE_SIZE = 5_000;

/** Settings from the service's config, plus the fixed limits. */
export function reconciliationSettings(config: {
  RECONCILIATION_TIME_TOLERANCE_MS: number;
}): ReconciliationSettings {
  return { timeToleranceMs: config.RECONCILIATION_TIME_TOLERANCE_MS, ...RECONCILIATION_LIMITS };
}

export interface ReconciliationContext {
  pool: Pool;
  logger: Logger;
  /** `operator:<subject>`, for the run and the audit. */
  actor: string;
  requestId: string | null;
}

export interface ReconciliationOutcome {
  run: ReconciliationRun;
  /** The file had been reconciled before: `run` is that earlier run, and nothing was stored. */
  duplicate: boolean;
}

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

interface StagedStatement {
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
  settings: ReconciliationSettings,
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
async function stageStatement(
  client: PoolClient,
  body: Readable,
  settings: ReconciliationSettings,
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

/** Rule 3 (domain/reconciliation.ts): what rules 1 and 2 left, a page at a time. */
async function pairWithinTolerance(client: PoolClient, toleranceMs: number): Promise<void> {
  const matcher = new ToleranceMatcher(toleranceMs);
  let pairs: Array<{ line_number: number; ledger_id: string }> = [];
  await openLeftovers(client);
  // Bounded by the cursor: a short page is its last.
  for (;;) {
    const entries = await fetchLeftovers(client, LEFTOVER_PAGE_SIZE);
    for (const entry of entries) {
      const pair = matcher.push(entry);
      if (pair !== undefined) pairs.push(pair);
    }
    const last = entries.length < LEFTOVER_PAGE_SIZE;
    if (pairs.length > 0 && (last || pairs.length >= LEFTOVER_PAGE_SIZE)) {
      await insertTolerancePairs(client, pairs);
      pairs = [];
    }
    if (last) return;
  }
}

/** Pairs the staged lines with the ledger items of the day, rule by rule, into `staged_pairs`. */
async function matchStaged(client: PoolClient, settlementDate: string, toleranceMs: number): Promise<void> {
  await createStagedLedger(client);
  await stageLedgerItems(client, settlementDate);
  await createStagedPairs(client);
  await analyzeStaging(client);
  await pairDuplicateLines(client);
  await pairByReferenceAndAmount(client);
  await pairByReferenceOnly(client);
  await analyzeStaging(client);
  await pairWithinTolerance(client, toleranceMs);
}

/** Every line lands in exactly one line category; checked here and by the items' unique indexes. */
function checkTotals(totals: readonly CategoryTotal[], lineCount: number, itemCount: number): void {
  const count = (category: string) => totals.find((total) => total.category === category)?.item_count ?? 0;
  const lineItems = ['matched', 'amount_mismatch', 'missing_in_ledger', 'duplicate_line'].map(count);
  assert.equal(
    lineItems.reduce((sum, value) => sum + value, 0),
    lineCount,
    'every line is classified once',
  );
  assert.equal(lineCount + count('missing_in_statement'), itemCount, 'the totals count every item');
}

async function storeRun(
  client: PoolClient,
  context: ReconciliationContext,
  staged: StagedStatement,
  settings: ReconciliationSettings,
): Promise<ReconciliationRun> {
  const runId = newId('rec');
  // First, so that a concurrent upload of the same file waits here and then finds this run.
  await insertRun(client, {
    run_id: runId,
    file_sha256: staged.fileSha256,
    file_bytes: staged.fileBytes,
    settlement_date: staged.settlementDate,
    line_count: staged.lineCount,
    time_tolerance_ms: settings.timeToleranceMs,
    created_by: context.actor,
  });
  await matchStaged(client, staged.settlementDate, settings.timeToleranceMs);
  const itemCount = await insertItems(client, runId);
  checkTotals(await insertTotals(client, runId, RECONCILIATION_CATEGORIES), staged.lineCount, itemCount);
  // The acquirer confirmed the matched sales: their held subsidies become payable, with the match.
  await confirmMatchedSubsidies(client, {
    run_id: runId,
    settlement_date: staged.settlementDate,
    decided_by: context.actor,
  });
  await appendAudit(client, {
    run_id: runId,
    item_id: null,
    action: 'statement_reconciled',
    actor: context.actor,
    note: null,
    request_id: context.requestId,
  });
  const run = await findRun(client, runId);
  assert.ok(run !== undefined, 'the run just stored is there');
  return run;
}

function isDuplicateFile(error: unknown): boolean {
  return (
    sqlState(error) === '23505' &&
    (error as { constraint?: string }).constraint === 'reconciliation_runs_file_sha256_key'
  );
}

/** Reconciles the CSV statement in `body`, or answers the run of an identical earlier upload. */
export async function reconcileUpload(
  context: ReconciliationContext,
  body: Readable,
  settings: ReconciliationSettings,
): Promise<ReconciliationOutcome> {
  const startedAt = process.hrtime.bigint();
  let fileSha256: string | undefined;
  try {
    const outcome = await withTransaction(
      context.pool,
      async (client) => {
        await setRunLimits(client);
        await createStagedLines(client);
        const staged = await stageStatement(client, body, settings);
        fileSha256 = staged.fileSha256;
        const earlier = await findRunByFile(client, staged.fileSha256);
        if (earlier !== undefined) return { run: earlier, duplicate: true };
        return { run: await storeRun(client, context, staged, settings), duplicate: false };
      },
      { attemptsMax: 1 },
    );
    context.logger.info(
      {
        run_id: outcome.run.run_id,
        duplicate: outcome.duplicate,
        line_count: outcome.run.line_count,
        duration_ms: Math.round(Number(process.hrtime.bigint() - startedAt) / 1e6),
      },
      'statement reconciled',
    );
    return outcome;
  } catch (error) {
    // The same file, reconciled by a concurrent upload that committed first.
    if (fileSha256 !== undefined && isDuplicateFile(error)) {
      const earlier = await findRunByFile(context.pool, fileSha256);
      if (earlier !== undefined) return { run: earlier, duplicate: true };
    }
    throw error;
  }
}
