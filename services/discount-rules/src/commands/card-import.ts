/**
 * Bulk card registration from CSV (`card_number,member_id,union_id,tier`), streamed: rows
 * are parsed as they arrive and registered in batches, each batch one transaction (cards,
 * their audit entries and `card.registered` events, the import's progress). Reading waits
 * for each batch to commit, so memory stays flat whatever the file's size. Re-importing a
 * file registers nothing twice: rows already registered with the same details are counted
 * as unchanged.
 *
 * Batches commit as they go: an import that fails midway keeps the batches before it, and
 * importing the file again completes it.
 */
import type { Readable } from 'node:stream';
import { parse } from 'csv-parse';
import type { CsvError, Parser } from 'csv-parse';
import { newId } from '@puhui/contracts';
import { DomainError } from '@puhui/errors';
import { columnPositions, isRowProblem, readImportRow } from '../domain/import-row';
import type { ColumnPositions } from '../domain/import-row';
import { findImport, finishImport, insertImport } from '../store/card-imports';
import type { CardImport } from '../domain/card-import';
import { ImportBatches } from './card-import-batches';
import type { ImportSettings } from './card-import-batches';
import type { CommandContext } from './context';

export type { ImportSettings } from './card-import-batches';

/** Longest CSV row read: four short fields fit in a few hundred bytes. */
const ROW_BYTES_MAX = 4_096;

/** Why a file cannot be parsed, in our words: the parser's own messages quote the data. */
const MALFORMED_CSV: Partial<Record<string, string>> = {
  CSV_MAX_RECORD_SIZE: `a row is longer than ${ROW_BYTES_MAX} bytes`,
  CSV_QUOTE_NOT_CLOSED: 'a quoted field is never closed',
  CSV_INVALID_CLOSING_QUOTE: 'a closing quote is followed by other characters',
  CSV_NON_TRIMABLE_CHAR_AFTER_CLOSING_QUOTE: 'a closing quote is followed by other characters',
  INVALID_OPENING_QUOTE: 'a quote opens in the middle of a field',
};

interface ParsedRecord {
  record: string[];
  info: { lines: number };
}

/**
 * The body through the CSV parser. The body is piped, not `pipeline`d: on an early stop the
 * handler answers while the rest of the upload drains, which a destroyed request would not
 * allow. An upload that ends early fails the parse instead.
 */
function csvRecords(body: Readable): Parser {
  const parser = parse({
    bom: true,
    trim: true,
    skip_empty_lines: true,
    // A row with too few or too many fields is that row's problem, not the file's.
    relax_column_count: true,
    // A stray quote inside a field stays in the field (and fails that field's check).
    relax_quotes: true,
    record_delimiter: ['\r\n', '\n'],
    max_record_size: ROW_BYTES_MAX,
    info: true,
  });
  body.on('error', (error) => parser.destroy(error));
  body.on('close', () => {
    if (!(body as Readable & { complete?: boolean }).complete) parser.destroy(new UploadEndedEarly());
  });
  body.pipe(parser);
  return parser;
}

class UploadEndedEarly extends DomainError {
  constructor() {
    super('invalid', 'upload_incomplete', 'Upload incomplete', {
      detail: 'The upload ended before the end of the file.',
    });
  }
}

function stopReading(body: Readable, parser: Parser): void {
  body.unpipe(parser);
  body.resume();
  parser.destroy();
}

function malformedCsv(error: unknown): DomainError | undefined {
  const code = (error as CsvError).code;
  if (typeof code !== 'string' || !(code.startsWith('CSV_') || code === 'INVALID_OPENING_QUOTE'))
    return undefined;
  const line = Number((error as { lines?: unknown }).lines);
  const reason = MALFORMED_CSV[code] ?? 'the CSV cannot be parsed';
  return new DomainError('invalid', 'malformed_csv', 'Malformed CSV', {
    detail: `The file cannot be read past line ${line}: ${reason}.`,
    extensions: { line, reason },
  });
}

async function readHeader(records: AsyncIterator<ParsedRecord>): Promise<ColumnPositions> {
  const first = await records.next();
  if (first.done === true) {
    throw new DomainError('invalid', 'empty_import', 'Empty import', {
      detail: 'The file has no header line and no rows.',
    });
  }
  return columnPositions(first.value.record);
}

/** Imports the CSV `body`; answers the finished import (its problems listed by line). */
export async function importCards(
  context: CommandContext,
  body: Readable,
  settings: ImportSettings,
): Promise<CardImport> {
  const parser = csvRecords(body);
  const records = parser[Symbol.asyncIterator]() as AsyncIterator<ParsedRecord>;
  let columns: ColumnPositions;
  try {
    columns = await readHeader(records);
  } catch (error) {
    // Nothing is stored for a file without a usable header.
    stopReading(body, parser);
    throw malformedCsv(error) ?? error;
  }
  const importId = newId('imp');
  await insertImport(context.pool, {
    import_id: importId,
    started_by: context.actor,
    request_id: context.requestId,
  });
  const batches = new ImportBatches(context, importId, settings);
  try {
    for (let next = await records.next(); next.done !== true; next = await records.next()) {
      const { record, info } = next.value;
      if (batches.rowsSeen >= settings.rowsMax) throw tooManyRows(settings.rowsMax);
      const row = readImportRow(record, info.lines, columns, settings.cardTokenKey);
      if (isRowProblem(row)) batches.reject(row);
      else batches.add(row);
      if (batches.full) await batches.flush();
    }
    await batches.finished();
  } catch (error) {
    stopReading(body, parser);
    // A write still in flight finishes (or fails) before the import is marked failed.
    await batches.abandon();
    const failure = malformedCsv(error) ?? error;
    await finishImport(context.pool, importId, { status: 'failed', failure_reason: failureReason(failure) });
    if (failure instanceof DomainError) throw withImport(failure, await findImport(context.pool, importId));
    throw failure;
  }
  await finishImport(context.pool, importId, { status: 'succeeded', failure_reason: null });
  const finished = await findImport(context.pool, importId);
  if (finished === undefined) throw new Error(`import ${importId} vanished`);
  return finished;
}

function tooManyRows(rowsMax: number): DomainError {
  return new DomainError('payload_too_large', 'too_many_rows', 'Too many rows', {
    detail: `An import takes at most ${rowsMax} rows; split the file.`,
    extensions: { rows_max: rowsMax },
  });
}

function failureReason(error: unknown): string {
  return error instanceof DomainError ? error.message : 'internal error';
}

/** The problem, with the import as far as it got (its id, counts and listed errors). */
function withImport(error: DomainError, cardImport: CardImport | undefined): DomainError {
  return new DomainError(error.kind, error.code, error.title, {
    detail: `${error.detail} Rows before the problem were imported; importing the file again is safe.`,
    extensions: { ...error.extensions, import: cardImport },
  });
}
