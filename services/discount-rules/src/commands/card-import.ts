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
import { newId } from '@puhui/contracts';
import { DomainError } from '@puhui/errors';
import { CsvUpload } from '@puhui/http';
import type { CsvRecord } from '@puhui/http';
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

/** A parse failure as the file's problem, at the line the parser reached; undefined for another error. */
function malformedCsv(upload: CsvUpload, error: unknown): DomainError | undefined {
  const malformed = upload.malformed(error);
  if (malformed === undefined) return undefined;
  const { line, reason } = malformed;
  return new DomainError('invalid', 'malformed_csv', 'Malformed CSV', {
    detail: `The file cannot be read past line ${line}: ${reason}.`,
    extensions: { line, reason },
  });
}

async function readHeader(records: AsyncIterator<CsvRecord>): Promise<ColumnPositions> {
  const first = await records.next();
  if (first.done === true) {
    throw new DomainError('invalid', 'empty_import', 'Empty import', {
      detail: 'The file has no header line and no rows.',
    });
  }
  return columnPositions(first.value);
}

/** Imports the CSV `body`; answers the finished import (its problems listed by line). */
export async function importCards(
  context: CommandContext,
  body: Readable,
  settings: ImportSettings,
): Promise<CardImport> {
  const upload = new CsvUpload(body, { recordBytesMax: ROW_BYTES_MAX, relaxQuotes: true });
  const { records } = upload;
  let columns: ColumnPositions;
  try {
    columns = await readHeader(records);
  } catch (error) {
    // Nothing is stored for a file without a usable header.
    upload.stop();
    throw malformedCsv(upload, error) ?? error;
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
      const record = next.value;
      if (batches.rowsSeen >= settings.rowsMax) throw tooManyRows(settings.rowsMax);
      const row = readImportRow(record, record.line, columns, settings.cardTokenKey);
      if (isRowProblem(row)) batches.reject(row);
      else batches.add(row);
      if (batches.full) await batches.flush();
    }
    await batches.finished();
  } catch (error) {
    upload.stop();
    // A write still in flight finishes (or fails) before the import is marked failed.
    await batches.abandon();
    const failure = malformedCsv(upload, error) ?? error;
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
