/**
 * Reconciliation of a 1,000,000-line statement, uploaded over HTTP, against the real Postgres
 * (start it with `npm run infra:up`). Prints the time taken, lines per second and the process's
 * resident memory, sampled every 100 ms: the service runs in this process, so a flat RSS while
 * the file streams in shows that the service does not hold the file. V8 lets its heap grow
 * lazily while garbage piles up; with NODE_OPTIONS=--max-old-space-size=80 the same run keeps
 * within about 15 MiB of where it started, which it could not if it held the 90 MB file.
 * Asserts nothing. Usage: `npm run bench:reconcile` in this workspace; LINES overrides the million.
 *
 * Bench shortcut: the captures the statement lists are inserted straight into the service's
 * database, one INSERT … SELECT over generate_series, with no transfers or events. Reconciliation
 * reads only the checkouts table, and capturing a million sales through the API would take an hour.
 */
import { createReadStream } from 'node:fs';
import { rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { businessDate, parseCutoff } from '../src/domain/business-day';
import { SettlementHarness } from '../test/support';
import { uploadStatement } from '../test/reconciliation-support';
import { writePlantedStatement } from './planted-statement';

const CAPTURES = Number(process.env.LINES ?? 1_000_000);
const MERCHANTS = 10;
/** Captures 40 ms apart: a million fill about 11 hours of one business day. */
const CAPTURE_SPACING_MS = 40;
const RSS_SAMPLE_INTERVAL_MS = 100;
const MIB = 1024 * 1024;

// A million lines take longer than the upload's default 10 min only on a slow machine; the
// settlement scheduler has nothing to do here.
process.env.RECONCILIATION_UPLOAD_TIMEOUT_MS ??= String(10 * 60_000);
process.env.SETTLEMENT_CHECK_INTERVAL_MS ??= String(60 * 60_000);

/** Capture i, as both the SQL below and the statement writer compute it. */
function captureFacts(index: number, merchants: readonly string[], startMs: number) {
  return {
    merchant_id: merchants[index % merchants.length] ?? '',
    card_last4: String(index % 10_000).padStart(4, '0'),
    reference: `B-${index}`,
    net_minor: 1_000 + (index % 5_000),
    occurred_at_ms: startMs + index * CAPTURE_SPACING_MS,
  };
}

async function insertCaptures(
  harness: SettlementHarness,
  merchants: readonly string[],
  date: string,
  startMs: number,
) {
  await harness.query(
    `INSERT INTO checkouts (checkout_id, merchant_id, card_token, card_last4, currency, reference, status, gross_minor,
       discount_minor, merchant_funded_minor, union_funded_minor, net_minor, budget_exhausted, ruleset_version, lines,
       grants, occurred_at, business_date)
     SELECT 'chk_' || lpad(i::text, 25, '0'), ($1::text[])[i % $2 + 1], 'ctok_' || repeat('b', 32),
            lpad((i % 10000)::text, 4, '0'), 'CNY', 'B-' || i, 'captured', 1000 + i % 5000, 0, 0, 0, 1000 + i % 5000,
            false, 1, '[]', '[]', to_timestamp($3::float8 / 1000) + make_interval(secs => i * $4::float8 / 1000), $5
     FROM generate_series(0, $6::integer - 1) AS i`,
    [merchants, merchants.length, startMs, CAPTURE_SPACING_MS, date, CAPTURES],
  );
}

/**
 * RSS every 100 ms: its peak while the file streams in and while the run is matched and
 * stored, and its value as the upload passes each quarter of the file.
 */
function sampleRss(progress: () => number) {
  const marks = [0.25, 0.5, 0.75, 1];
  const atMarks: string[] = [];
  const peak = { upload: 0, matching: 0 };
  const timer = setInterval(() => {
    const rss = process.memoryUsage.rss();
    const phase = progress() < 1 ? 'upload' : 'matching';
    peak[phase] = Math.max(peak[phase], rss);
    while (marks.length > 0 && progress() >= (marks[0] ?? 1)) {
      atMarks.push(`${(marks.shift() ?? 0) * 100}% ${(rss / MIB).toFixed(0)} MiB`);
    }
  }, RSS_SAMPLE_INTERVAL_MS);
  return {
    stop: () => {
      clearInterval(timer);
      return { peak, atMarks };
    },
  };
}

async function main(): Promise<void> {
  const harness = new SettlementHarness();
  await harness.start();
  const file = path.join(tmpdir(), `statement-${process.pid}.csv`);
  try {
    const merchants: string[] = [];
    for (let index = 0; index < MERCHANTS; index += 1) {
      merchants.push((await harness.addMerchant('supermarket')).merchant_id);
    }
    // Today's business day, still open: the scheduler only settles closed days.
    const date = businessDate(new Date(), parseCutoff('23:00'));
    const startMs = Date.parse(`${date}T08:00:00+08:00`);
    let began = process.hrtime.bigint();
    await insertCaptures(harness, merchants, date, startMs);
    const insertSeconds = Number(process.hrtime.bigint() - began) / 1e9;
    const lines = await writePlantedStatement(file, date, CAPTURES, (index) =>
      captureFacts(index, merchants, startMs),
    );
    const bytes = (await stat(file)).size;

    const body = createReadStream(file, { highWaterMark: 64 * 1024 });
    let sent = 0;
    body.on('data', (chunk) => {
      sent += chunk.length;
    });
    const baseline = process.memoryUsage.rss();
    const sampler = sampleRss(() => sent / bytes);
    began = process.hrtime.bigint();
    let uploadedAt = 0;
    body.on('end', () => {
      uploadedAt = Number(process.hrtime.bigint() - began) / 1e9;
    });
    const response = await uploadStatement(harness, body);
    const seconds = Number(process.hrtime.bigint() - began) / 1e9;
    const { peak, atMarks } = sampler.stop();
    if (response.status !== 201)
      throw new Error(`upload answered ${response.status}: ${JSON.stringify(response.body)}`);
    const counts = Object.entries(response.body.categories as Record<string, { count: number }>)
      .map(([category, total]) => `${category} ${total.count}`)
      .join(', ');
    console.log(
      `reconciliation: ${lines} lines (${(bytes / MIB).toFixed(0)} MiB) against ${CAPTURES} captures ` +
        `(inserted in ${insertSeconds.toFixed(1)} s)\n` +
        `  ${seconds.toFixed(1)} s, ${(lines / seconds).toFixed(0)} lines/s ` +
        `(upload and checks ${uploadedAt.toFixed(1)} s, matching and storing ${(seconds - uploadedAt).toFixed(1)} s)\n` +
        `  rss: before ${(baseline / MIB).toFixed(0)} MiB; at ${atMarks.join(', ')} of the upload; ` +
        `peak ${(peak.upload / MIB).toFixed(0)} MiB during the upload, ` +
        `${(peak.matching / MIB).toFixed(0)} MiB while matching and storing\n` +
        `  ${counts}`,
    );
  } finally {
    await rm(file, { force: true });
    await harness.close();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
