import { setTimeout as sleep } from 'node:timers/promises';
import { generateTestPan, tokenizePan } from '@puhui/cards';
import { waitFor } from '@puhui/testing';
import { startHarness } from './support';
import type { Harness } from './support';

let harness: Harness;

beforeAll(async () => {
  // Batches of 1,000 so that the progress and failure checks below can count them.
  harness = await startHarness({ environment: { CARD_IMPORT_BATCH_SIZE: '1000' } });
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

  it('stops at a broken quote, keeping the batches before it, and says where', async () => {
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
      import: { status: 'failed', inserted: 1_000 },
    });
    expect(response.text).not.toContain(generateTestPan(300_000));
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
    expect(failed).toMatchObject({ status: 'failed', inserted: 2_500, rows_total: 2_500 });
    expect(failed.failure_reason).toMatch(/^interrupted: no progress for 600 s/u);
    expect(failed.finished_at).not.toBeNull();
    // One that is still moving is left alone.
    expect((await harness.call('GET', `/v1/cards/imports/${busy}`)).body.status).toBe('running');
    await harness.db.query('DELETE FROM card_imports WHERE import_id = $1', [busy]);
  });
});
