import { setTimeout as sleep } from 'node:timers/promises';
import { generateTestPan, tokenizePan } from '@puhui/cards';
import { waitFor } from '@puhui/testing';
import { startHarness } from './support';
import type { Harness } from './support';

let harness: Harness;
const BYTES_MAX = 1024 * 1024;

beforeAll(async () => {
  // Batches of 1,000 so that the progress and failure checks below can count them; 1 MiB files
  // so that the byte cap is reached by a few thousand rows.
  harness = await startHarness({
    environment: { CARD_IMPORT_BATCH_SIZE: '1000', CARD_IMPORT_BYTES_MAX: String(BYTES_MAX) },
  });
});

afterAll(async () => {
  await harness.close();
});

const TIERS = ['standard', 'standard', 'standard', 'model_worker', 'hardship'];
const HEADER = 'card_number,member_id,union_id,tier';
const ROWS = 5_000;

interface GeneratedFile {
  lines: string[];
  /** Data rows that register a card. */
  valid: number;
  /** Rows repeating an earlier row exactly. */
  repeats: number;
  /** Expected problems by line number (the header is line 1). */
  problems: Map<number, { field: string | null; reason: RegExp }>;
}

/** 5,000 data rows: mostly good cards, and every 97th row broken in one of several ways. */
function generateFile(serialBase: number): GeneratedFile {
  const lines = [HEADER];
  const problems: GeneratedFile['problems'] = new Map();
  let valid = 0;
  let repeats = 0;
  for (let index = 0; index < ROWS; index += 1) {
    const line = index + 2;
    const pan = generateTestPan(serialBase + index);
    const good = `${pan},M${serialBase + index},union-${index % 7},${TIERS[index % TIERS.length]}`;
    if (index % 97 !== 0 || index === 0) {
      lines.push(
        index % 11 === 0
          ? `"${pan.slice(0, 4)} ${pan.slice(4)}",M${serialBase + index},"union-${index % 7}",${TIERS[index % TIERS.length]}`
          : good,
      );
      valid += 1;
      continue;
    }
    const kind = (index / 97) % 6;
    if (kind === 0) {
      lines.push(`${pan.slice(0, -1)}${(Number(pan.slice(-1)) + 1) % 10},M${index},union-1,standard`);
      problems.set(line, { field: 'card_number', reason: /check digit/ });
    } else if (kind === 1) {
      lines.push(`4111111111111111,M${index},union-1,standard`);
      problems.set(line, { field: 'card_number', reason: /UnionPay/ });
    } else if (kind === 2) {
      lines.push(`${pan},M${index},union-1,gold`);
      problems.set(line, { field: 'tier', reason: /one of standard, model_worker, hardship/ });
    } else if (kind === 3) {
      lines.push(`${pan},M${index},union-1`);
      problems.set(line, { field: null, reason: /expected 4 fields, found 3/ });
    } else if (kind === 4) {
      lines.push(`${pan},,union-1,standard`);
      problems.set(line, { field: 'member_id', reason: /required/ });
    } else {
      // The previous row again, exactly: registered once, counted as unchanged.
      lines.push(lines[lines.length - 1] as string);
      repeats += 1;
    }
  }
  return { lines, valid, repeats, problems };
}

async function* slowly(lines: readonly string[], pauseAfter: number, whilePaused: () => Promise<void>) {
  for (let start = 0; start < lines.length; start += 500) {
    yield `${lines.slice(start, start + 500).join('\r\n')}\r\n`;
    if (start + 500 === pauseAfter) await whilePaused();
  }
}

/** What is registered for cards of `union` (its cards, their events in the outbox, their audit rows). */
async function registeredIn(union: string): Promise<{ cards: number; events: number; audit: number }> {
  const { rows } = await harness.db.query<{ cards: number; events: number; audit: number }>(
    `SELECT (SELECT count(*)::int FROM cards WHERE union_id = $1) AS cards,
            (SELECT count(*)::int FROM outbox_events WHERE envelope #>> '{data,card,union_id}' = $1) AS events,
            (SELECT count(*)::int FROM audit_events WHERE after ->> 'union_id' = $1) AS audit`,
    [union],
  );
  return rows[0] as { cards: number; events: number; audit: number };
}

/** `rows` good data rows of `union`, from test PAN serial `serialBase`. */
function goodLines(rows: number, serialBase: number, union: string): string[] {
  return Array.from(
    { length: rows },
    (_, index) => `${generateTestPan(serialBase + index)},M${serialBase + index},${union},standard`,
  );
}

describe('bulk card import', () => {
  it('registers good rows, lists bad ones by line, shows progress, and changes nothing when re-run', async () => {
    const file = generateFile(100_000);
    let seenRunning: Record<string, unknown> | undefined;
    const first = await harness.upload(
      slowly(file.lines, 2_500, async () => {
        // Two full batches (2,000 rows) have committed; the rest of the file has not been sent.
        seenRunning = await waitFor(async () => {
          const running = await harness.call('GET', '/v1/cards/imports?status=running', {
            token: harness.finance,
          });
          const current = running.body.data[0];
          return current?.rows_total === 2_000 ? current : undefined;
        });
        const byId = await harness.call('GET', `/v1/cards/imports/${String(seenRunning?.import_id)}`);
        expect(byId.body).toMatchObject({ status: 'running', rows_total: 2_000, finished_at: null });
      }),
    );
    expect(seenRunning).toMatchObject({ status: 'running', inserted: expect.any(Number) });
    expect(first.status).toBe(201);
    expect(first.body).toMatchObject({
      status: 'succeeded',
      rows_total: ROWS,
      inserted: file.valid,
      unchanged: file.repeats,
      rejected: file.problems.size,
      errors_truncated: false,
      failure_reason: null,
    });
    expect(first.body.import_id).toBe(seenRunning?.import_id);
    const errors = first.body.errors as { line: number; field: string | null; reason: string }[];
    expect(errors.map((error) => error.line)).toEqual([...file.problems.keys()]);
    for (const error of errors) {
      const expected = file.problems.get(error.line);
      expect(error.field).toBe(expected?.field);
      expect(error.reason).toMatch(expected?.reason ?? /never/);
    }
    expect(JSON.stringify(first.body)).not.toMatch(/62\d{14}/);

    const again = await harness.upload(`${file.lines.join('\n')}\n`);
    expect(again.body).toMatchObject({
      status: 'succeeded',
      rows_total: ROWS,
      inserted: 0,
      unchanged: file.valid + file.repeats,
      rejected: file.problems.size,
    });
    expect(again.body.errors).toEqual(first.body.errors);

    const { rows } = await harness.db.query<{ count: string }>('SELECT count(*) FROM cards');
    expect(Number(rows[0]?.count)).toBe(file.valid);
    const registered = await harness.cards.waitForCount(
      file.valid,
      (message) => message.value.type === 'puhui.card.registered.v1',
    );
    expect(new Set(registered.map((message) => message.key)).size).toBe(file.valid);
    await sleep(200);
    expect(harness.cards.messages).toHaveLength(file.valid);

    const token = tokenizePan(generateTestPan(100_001), harness.config.CARD_TOKEN_KEY);
    const card = await harness.call('GET', `/v1/cards/${token}`);
    expect(card.body).toMatchObject({
      card_last4: generateTestPan(100_001).slice(-4),
      member_id: 'M100001',
      union_id: 'union-1',
      tier: 'standard',
      status: 'active',
    });
    const audit = await harness.call('GET', `/v1/audit_events?card_token=${token}`);
    expect(audit.body.data).toEqual([
      expect.objectContaining({
        action: 'card_registered',
        import_id: first.body.import_id,
        after: expect.objectContaining({ card_token: token }),
      }),
    ]);
  });

  it('refuses a file whose header does not name the four columns, storing nothing', async () => {
    const before = await harness.call('GET', '/v1/cards/imports?limit=100');
    const response = await harness.upload(
      `card_number,member,union_id,tier,colour\n${generateTestPan(1)},M1,u1,standard\n`,
    );
    expect(response.status).toBe(400);
    expect(response.body).toMatchObject({
      code: 'invalid_csv_header',
      missing_columns: ['member_id'],
      unknown_columns: ['member', 'colour'],
    });
    const after = await harness.call('GET', '/v1/cards/imports?limit=100');
    expect(after.body.data).toHaveLength(before.body.data.length);
    expect((await harness.upload('')).body.code).toBe('empty_import');
  });

  it('stops at a broken quote, registering nothing of the file, and says where', async () => {
    const lines = [
      HEADER,
      ...Array.from(
        { length: 1_500 },
        (_, index) => `${generateTestPan(200_000 + index)},M${index},union-9,standard`,
      ),
    ];
    lines.push(
      `"${generateTestPan(300_000)},M-x,union-9,standard`,
      `${generateTestPan(300_001)},M-y,union-9,standard`,
    );
    const response = await harness.upload(lines.join('\n'));
    expect(response.status).toBe(400);
    expect(response.body).toMatchObject({
      code: 'malformed_csv',
      line: 1_503,
      reason: 'a quoted field is never closed',
      // The first batch of 1,000 was written, then rolled back with the rest (decision 0022).
      import: { status: 'failed', rows_total: 1_000, inserted: 0 },
    });
    expect(response.text).not.toContain(generateTestPan(300_000));
    expect(await registeredIn('union-9')).toEqual({ cards: 0, events: 0, audit: 0 });
  });

  it('takes only text/csv from an admin', async () => {
    const json = await harness.call('POST', '/v1/cards/imports', { body: { csv: HEADER } });
    expect(json.status).toBe(415);
    expect(json.body.code).toBe('unsupported_media_type');
    expect((await harness.upload(`${HEADER}\n`, { contentType: 'text/plain' })).status).toBe(415);
    expect((await harness.upload(`${HEADER}\n`, { token: harness.finance })).status).toBe(403);
  });

  it('refuses a file that claims a Content-Encoding, instead of storing its bytes as text (issue 14)', async () => {
    const before = await harness.db.query<{ count: string }>('SELECT count(*) FROM card_imports');
    for (const encoding of ['gzip', 'deflate', 'br']) {
      const response = await harness.upload(
        `${HEADER}\n${generateTestPan(310_000)},M-310000,U01,standard\n`,
        {
          contentEncoding: encoding,
        },
      );
      expect(response.status).toBe(415);
      expect(response.body.code).toBe('unsupported_media_type');
    }
    const after = await harness.db.query<{ count: string }>('SELECT count(*) FROM card_imports');
    expect(after.rows[0]?.count).toBe(before.rows[0]?.count);
  });
});

describe('a file registers whole or not at all (decision 0022)', () => {
  it('fails a file whose rejected rows pass the allowed share, registering none of its good rows', async () => {
    // 1,000 rows, every 10th with a wrong check digit: 100 rejected, 10 % > 5 % and > 10 rows.
    const lines = goodLines(1_000, 400_000, 'union-share').map((line, index) =>
      index % 10 === 0
        ? line.replace(
            /^(\d+)(\d),/u,
            (_, head: string, last: string) => `${head}${(Number(last) + 1) % 10},`,
          )
        : line,
    );
    const response = await harness.upload(`${[HEADER, ...lines].join('\n')}\n`);
    expect(response.status).toBe(422);
    expect(response.body).toMatchObject({
      code: 'too_many_rejected_rows',
      rejected: 100,
      rows_total: 1_000,
      rejected_share_max: 0.05,
      rejected_rows_tolerated: 10,
      import: {
        status: 'failed',
        rows_total: 1_000,
        inserted: 0,
        rejected: 100,
        failure_reason: expect.stringMatching(/^100 of 1000 rows were rejected \(10 %\)/u),
      },
    });
    const listed = (response.body.import as { errors: { line: number; field: string }[] }).errors;
    expect(listed).toHaveLength(100);
    expect(listed[0]).toMatchObject({ line: 2, field: 'card_number' });
    expect(await registeredIn('union-share')).toEqual({ cards: 0, events: 0, audit: 0 });
    const stored = await harness.call('GET', `/v1/cards/imports/${String(response.body.import.import_id)}`);
    expect(stored.body).toMatchObject({ status: 'failed', inserted: 0, rejected: 100 });

    // The same file with its bad rows fixed imports every card.
    const fixed = await harness.upload(
      `${[HEADER, ...goodLines(1_000, 400_000, 'union-share')].join('\n')}\n`,
    );
    expect(fixed.body).toMatchObject({ status: 'succeeded', inserted: 1_000, rejected: 0 });
    expect(await registeredIn('union-share')).toMatchObject({ cards: 1_000, events: 1_000 });
  });

  it('imports a small file with a few bad rows: within the tolerated count, whatever the share', async () => {
    // 3 of 20 rows rejected (15 %), but no more than the 10 rows always tolerated.
    const lines = goodLines(20, 410_000, 'union-few');
    for (const index of [3, 9, 15])
      lines[index] = `${generateTestPan(410_000 + index)},M${index},union-few,gold`;
    const response = await harness.upload(`${[HEADER, ...lines].join('\n')}\n`);
    expect(response.status).toBe(201);
    expect(response.body).toMatchObject({ status: 'succeeded', inserted: 17, rejected: 3 });
  });

  it('refuses a file past CARD_IMPORT_BYTES_MAX with 413, registering none of the batches read before', async () => {
    // ~50 bytes a row: 30,000 rows are about 1.4 MiB, past the 1 MiB cap after some 20 batches.
    const lines = [HEADER, ...goodLines(30_000, 500_000, 'union-big')];
    expect(Buffer.byteLength(lines.join('\n'))).toBeGreaterThan(BYTES_MAX);
    // Streamed (chunked, no Content-Length): the import counts the bytes itself.
    const streamed = await harness.upload(slowly(lines, -1, async () => undefined));
    expect(streamed.status).toBe(413);
    expect(streamed.body).toMatchObject({
      code: 'file_too_large',
      bytes_max: BYTES_MAX,
      import: {
        status: 'failed',
        inserted: 0,
        failure_reason: expect.stringMatching(/at most 1048576 bytes/u),
      },
    });
    expect((streamed.body.import as { rows_total: number }).rows_total).toBeGreaterThanOrEqual(10_000);
    expect(await registeredIn('union-big')).toEqual({ cards: 0, events: 0, audit: 0 });

    // Declared larger than the cap: refused before a byte is read, no import stored.
    const before = await harness.db.query<{ count: string }>('SELECT count(*) FROM card_imports');
    const declared = await harness.upload(lines.join('\n'));
    expect(declared.status).toBe(413);
    expect(declared.body).toMatchObject({ code: 'file_too_large', bytes_max: BYTES_MAX });
    expect(declared.body.import).toBeUndefined();
    const after = await harness.db.query<{ count: string }>('SELECT count(*) FROM card_imports');
    expect(after.rows[0]?.count).toBe(before.rows[0]?.count);
    expect(await registeredIn('union-big')).toEqual({ cards: 0, events: 0, audit: 0 });
  });

  it('rolls back an upload cut off midway, and runs one import at a time', async () => {
    const lines = [HEADER, ...goodLines(5_000, 600_000, 'union-cut')];
    const cut = new AbortController();
    let second: Awaited<ReturnType<Harness['upload']>> | undefined;
    let importId: unknown;
    const first = harness
      .upload(
        slowly(lines, 2_500, async () => {
          // Two batches are written in the import's open transaction: visible as progress only.
          const running = await waitFor(async () => {
            const page = await harness.call('GET', '/v1/cards/imports?status=running');
            const current = page.body.data[0];
            return current?.rows_total === 2_000 ? current : undefined;
          });
          importId = running.import_id;
          expect((await registeredIn('union-cut')).cards).toBe(0);
          second = await harness.upload(
            `${HEADER}\n${generateTestPan(610_000)},M610000,union-cut,standard\n`,
          );
          cut.abort();
        }),
        { signal: cut.signal },
      )
      .catch((error: unknown) => error);
    // The client gave up: fetch rejects (an error of undici's realm, not jest's).
    expect(String(await first)).toMatch(/abort|terminated|fetch failed/iu);
    expect(second?.status).toBe(409);
    expect(second?.body.code).toBe('import_running');
    const failed = await waitFor(async () => {
      const response = await harness.call('GET', `/v1/cards/imports/${String(importId)}`);
      return response.body.status === 'failed' ? response.body : undefined;
    });
    expect(failed).toMatchObject({
      rows_total: 2_000,
      inserted: 0,
      failure_reason: expect.stringMatching(/ended before/u),
    });
    expect(await registeredIn('union-cut')).toEqual({ cards: 0, events: 0, audit: 0 });
    // Once it has ended, the next import runs.
    const next = await harness.upload(`${HEADER}\n${generateTestPan(610_000)},M610000,union-cut,standard\n`);
    expect(next.body).toMatchObject({ status: 'succeeded', inserted: 1 });
  });
});

describe('an import left running by a process that died', () => {
  it('is marked failed by the background pass once it has made no progress for the configured time', async () => {
    const abandoned = 'imp_00000000000000000000abcde';
    const busy = 'imp_00000000000000000000abcdf';
    await harness.db.query(
      `INSERT INTO card_imports (import_id, status, rows_total, inserted, started_by, started_at, updated_at)
       VALUES ($1, 'running', 2500, 2500, 'operator:test', now() - interval '1 hour', now() - interval '11 minutes'),
              ($2, 'running', 0, 0, 'operator:test', now(), now())`,
      [abandoned, busy],
    );
    const failed = await waitFor(
      async () => {
        const response = await harness.call('GET', `/v1/cards/imports/${abandoned}`);
        return response.body.status === 'failed' ? response.body : undefined;
      },
      { description: 'abandoned import failed', timeoutMs: 5 * harness.config.BACKGROUND_INTERVAL_MS },
    );
    // Its transaction ended with the process: nothing it counted is registered.
    expect(failed).toMatchObject({ status: 'failed', inserted: 0, rows_total: 2_500 });
    expect(failed.failure_reason).toMatch(
      /^interrupted: no progress for 600 s.*nothing of the file was registered/u,
    );
    expect(failed.finished_at).not.toBeNull();
    // One that is still moving is left alone.
    expect((await harness.call('GET', `/v1/cards/imports/${busy}`)).body.status).toBe('running');
    await harness.db.query('DELETE FROM card_imports WHERE import_id = $1', [busy]);
  });
});
