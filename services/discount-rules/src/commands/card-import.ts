/**
 * Bulk card registration from CSV (`card_number,member_id,union_id,tier`), streamed: rows
 * are parsed as they arrive and registered in batches (cards, their audit entries and
 * `card.registered` events). Reading waits for each batch's statements, so memory stays flat
 * whatever the file's size. Re-importing a file registers nothing twice: rows already
 * registered with the same details are counted as unchanged.
 *
 * A file registers whole or not at all (decision 0022): every batch is written in the
 * import's one transaction, committed only once the whole file is read and its rejected rows
 * stay within the allowed share. A file too large, a malformed line, a rejected share past
 * CARD_IMPORT_REJECTED_SHARE_MAX, a broken upload or a process that dies rolls everything
 * back, and the import is marked failed with the reason (its counts and listed problems kept,
 * `inserted` 0). One import runs at a time: the transaction holds the new cards' locks until
 * it ends, and a second file would wait on them.
 */
import type { Readable } from 'node:stream';
import { newId } from '@puhui/contracts';
import { DomainError } from '@puhui/errors';
import { CsvUpload } from '@puhui/http';
import type { CsvRecord } from '@puhui/http';
import { exceedsRejectedShare } from '../domain/card-import';
import { columnPositions, isRowProblem, readImportRow } from '../domain/import-row';
import type { ColumnPositions } from '../domain/import-row';
import { withTransaction } from '@puhui/postgres';
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

/** The client's connection dropped mid-file (the request stream's ECONNRESET "aborted"). */
function cutOff(error: unknown): DomainError | undefined {
  if ((error as { code?: unknown } | null)?.code !== 'ECONNRESET') return undefined;
  return new DomainError('invalid', 'upload_incomplete', 'Upload incomplete', {
    detail: 'The upload ended before the end of the file.',
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

/**
 * Advisory lock key held by the running import's transaction (`hashtext('discount-rules:card-import')`
 * is computed by the server; any constant would do, this one names its purpose).
 */
const IMPORT_LOCK = `hashtext('discount-rules:card-import')`;

/**
 * Imports the CSV `body`; answers the finished import (its problems listed by line).
 * `declaredBytes` is the request's Content-Length when it sent one: a file declared larger
 * than the cap is refused before a byte of it is read.
 */
export async function importCards(
  context: CommandContext,
  body: Readable,
  settings: ImportSettings,
  declaredBytes?: number,
): Promise<CardImport> {
  if (declaredBytes !== undefined && declaredBytes > settings.bytesMax) {
    throw fileTooLarge(settings.bytesMax);
  }
  const upload = new CsvUpload(body, {
    recordBytesMax: ROW_BYTES_MAX,
    relaxQuotes: true,
    fileBytesMax: settings.bytesMax,
    tooLarge: () => fileTooLarge(settings.bytesMax),
  });
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
  let started = false;
  try {
    await withTransaction(
      context.pool,
      async (client, [lock]) => {
        if (lock?.rows[0]?.locked !== true) throw importRunning();
        await insertImport(context.pool, {
          import_id: importId,
          started_by: context.actor,
          request_id: context.requestId,
        });
        started = true;
        const batches = new ImportBatches(context, client, importId, settings);
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
          // A write still in flight finishes (or fails) before the transaction is rolled back.
          await batches.abandon();
          throw error;
        }
        const { rows_total: rows, rejected } = batches.totals;
        if (exceedsRejectedShare(batches.totals, settings)) throw tooManyRejected(rows, rejected, settings);
        // In the transaction: the cards and the import's `succeeded` commit together or not at all.
        await finishImport(client, importId, { status: 'succeeded', failure_reason: null });
      },
      // The body cannot be read twice: a failed attempt is the import's failure, never retried.
      { attemptsMax: 1, beginWith: `SELECT pg_try_advisory_xact_lock(${IMPORT_LOCK}) AS locked` },
    );
  } catch (error) {
    upload.stop();
    const failure = malformedCsv(upload, error) ?? cutOff(error) ?? error;
    if (!started) throw failure;
    // The transaction is rolled back: nothing of the file is registered.
    await finishImport(context.pool, importId, {
      status: 'failed',
      failure_reason: failureReason(failure),
      rolled_back: true,
    });
    if (failure instanceof DomainError) throw withImport(failure, await findImport(context.pool, importId));
    throw failure;
  }
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

function fileTooLarge(bytesMax: number): DomainError {
  return new DomainError('payload_too_large', 'file_too_large', 'File too large', {
    detail: `An import takes at most ${bytesMax} bytes; split the file.`,
    extensions: { bytes_max: bytesMax },
  });
}

function importRunning(): DomainError {
  return new DomainError('conflict', 'import_running', 'Another import is running', {
    detail: 'One card import runs at a time; send the file again when the running one has finished.',
  });
}

function tooManyRejected(rows: number, rejected: number, settings: ImportSettings): DomainError {
  const percent = (share: number) => `${Number((share * 100).toFixed(2))} %`;
  return new DomainError('unprocessable', 'too_many_rejected_rows', 'Too many rejected rows', {
    detail: `${rejected} of ${rows} rows were rejected (${percent(rejected / rows)}); an import fails past ${percent(settings.rejectedShareMax)} (and ${settings.rejectedRowsTolerated} rows).`,
    extensions: {
      rejected,
      rows_total: rows,
      rejected_share_max: settings.rejectedShareMax,
      rejected_rows_tolerated: settings.rejectedRowsTolerated,
    },
  });
}

/** Kept on the failed import: the problem's detail (never row data), or a generic word. */
function failureReason(error: unknown): string {
  return error instanceof DomainError ? error.message : 'internal error';
}

/** The problem, with the import as far as it got (its id, counts and listed errors). */
function withImport(error: DomainError, cardImport: CardImport | undefined): DomainError {
  return new DomainError(error.kind, error.code, error.title, {
    detail: `${error.detail} Nothing from this file was registered; fix it and import it again.`,
    extensions: { ...error.extensions, import: cardImport },
  });
}
