/**
 * The acquirer's statement both million-line benchmarks upload (this workspace's
 * reconcile-statement.ts and tests/bench), written line by line, waiting on the disk when its
 * buffer is full. Per 100 captures: 95 listed as they are, one with a garbled reference
 * 5 minutes off (matched by card, amount and time), one a fen out (amount mismatch), one
 * missing, one listed twice (duplicate); and one line in 1,000 the ledger never saw.
 */
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { STATEMENT_COLUMNS } from '../src/domain/reconciliation-statement';

/** What the statement needs of capture i, as the benchmark's generated day has it. */
export interface StatementCapture {
  merchant_id: string;
  card_last4: string;
  reference: string;
  net_minor: number;
  occurred_at_ms: number;
}

/** Writes the statement of `date` for captures 0 … count − 1; returns its line count. */
export async function writePlantedStatement(
  file: string,
  date: string,
  count: number,
  captureAt: (index: number) => StatementCapture,
): Promise<number> {
  const out = createWriteStream(file);
  out.write(`${STATEMENT_COLUMNS.join(',')}\n`);
  let lines = 0;
  const write = async (fields: ReadonlyArray<string | number>) => {
    lines += 1;
    if (!out.write(`${fields.join(',')}\n`)) await once(out, 'drain');
  };
  for (let index = 0; index < count; index += 1) {
    const capture = captureAt(index);
    const kind = index % 100;
    if (kind === 3) continue;
    const atMs = capture.occurred_at_ms + (kind === 1 ? 5 * 60_000 : (index % 7) * 1000);
    const line = [
      date,
      capture.merchant_id,
      capture.card_last4,
      new Date(atMs).toISOString(),
      capture.net_minor + (kind === 2 ? 1 : 0),
      kind === 1 ? `GARBLED-${index}` : capture.reference,
      `A${index}`,
    ];
    await write(line);
    if (kind === 4) await write(line);
    if (index % 1_000 === 5)
      await write([date, capture.merchant_id, '0000', line[3] ?? '', 1, `X-${index}`, 'Z']);
  }
  out.end();
  await once(out, 'finish');
  return lines;
}
