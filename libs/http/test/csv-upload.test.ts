/**
 * CsvUpload on streamed bodies: records with their lines, the upload's SHA-256 and size, its
 * bounds, and parse failures described without the data.
 */
import { createHash } from 'node:crypto';
import { PassThrough } from 'node:stream';
import { finished } from 'node:stream/promises';
import { DomainError } from '@puhui/errors';
import { CsvUpload } from '@puhui/http';
import type { CsvRecord, CsvUploadSettings } from '@puhui/http';

/** A request-like body: `complete` once its last byte arrived, as node's IncomingMessage says. */
function bodyOf(chunks: readonly string[], options: { complete?: boolean } = {}) {
  const body = new PassThrough() as PassThrough & { complete?: boolean };
  setImmediate(() => {
    for (const chunk of chunks) body.write(chunk);
    body.complete = options.complete ?? true;
    body.end();
  });
  return body;
}

async function readAll(upload: CsvUpload): Promise<CsvRecord[]> {
  const records: CsvRecord[] = [];
  for (let next = await upload.records.next(); next.done !== true; next = await upload.records.next())
    records.push(next.value);
  return records;
}

const SETTINGS: CsvUploadSettings = { recordBytesMax: 64 };

async function failureOf(upload: CsvUpload): Promise<unknown> {
  return readAll(upload).then(
    () => undefined,
    (error: unknown) => error,
  );
}

describe('CsvUpload', () => {
  it('reads records with the line each ends on, and hashes exactly the bytes sent', async () => {
    const chunks = ['\uFEFFa,b\r\n', '1, 2\n\n', '"multi\nline",3\n', 'x,y'];
    const upload = new CsvUpload(bodyOf(chunks), SETTINGS);
    const records = await readAll(upload);
    expect(records.map((record) => [...record])).toEqual([
      ['a', 'b'],
      ['1', '2'],
      ['multi\nline', '3'],
      ['x', 'y'],
    ]);
    expect(records.map((record) => record.line)).toEqual([1, 2, 5, 6]);
    const bytes = Buffer.from(chunks.join(''));
    expect(upload.file()).toEqual({
      sha256: createHash('sha256').update(bytes).digest('hex'),
      bytes: bytes.length,
    });
    expect(upload.lastRecordLine()).toBe(6);
  });

  it('describes a record over the bound in its own words, never with the data', async () => {
    const secret = '6200000000000047';
    const upload = new CsvUpload(bodyOf(['a,b\n', `${secret.repeat(5)},b\n`]), SETTINGS);
    const malformed = upload.malformed(await failureOf(upload));
    expect(malformed).toEqual({ reason: 'a line is longer than 64 bytes', line: 2 });
    expect(JSON.stringify(malformed)).not.toContain(secret);
  });

  it('names a quote never closed, at the line the parser reached', async () => {
    const upload = new CsvUpload(bodyOf(['a,b\n', '"open,b\n', 'c,d\n']), SETTINGS);
    const failure = await failureOf(upload);
    expect(upload.malformed(failure)).toEqual({ reason: 'a quoted field is never closed', line: 3 });
    expect(upload.lastRecordLine()).toBe(1);
  });

  it('keeps a stray quote inside a field only when told to', async () => {
    const strict = new CsvUpload(bodyOf(['a,b"c\n']), SETTINGS);
    expect(strict.malformed(await failureOf(strict))).toBeDefined();
    const relaxed = new CsvUpload(bodyOf(['a,b"c\n']), { ...SETTINGS, relaxQuotes: true });
    expect((await readAll(relaxed)).map((record) => [...record])).toEqual([['a', 'b"c']]);
  });

  it('stops at the byte bound with the caller’s problem', async () => {
    const tooLarge = new DomainError('payload_too_large', 'too_large', 'Too large');
    const upload = new CsvUpload(bodyOf(['a,b\n'.repeat(10)]), {
      ...SETTINGS,
      fileBytesMax: 20,
      tooLarge: () => tooLarge,
    });
    expect(await failureOf(upload)).toBe(tooLarge);
    expect(upload.malformed(tooLarge)).toBeUndefined();
  });

  it('fails an upload that ends before its last byte', async () => {
    const upload = new CsvUpload(bodyOf(['a,b\n', '1,2\n'], { complete: false }), SETTINGS);
    expect(await failureOf(upload)).toMatchObject({ code: 'upload_incomplete' });
  });

  it('lets the rest of the body drain after stop()', async () => {
    const body = bodyOf(['a,b\n', 'c,d\n'.repeat(1_000)]);
    const upload = new CsvUpload(body, SETTINGS);
    expect([...((await upload.records.next()).value as CsvRecord)]).toEqual(['a', 'b']);
    upload.stop();
    await finished(body);
    expect(body.readableEnded).toBe(true);
  });
});
