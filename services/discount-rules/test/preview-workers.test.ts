/**
 * Previews are priced in a worker thread, within caps (decision 0019): the service keeps
 * answering while the largest allowed preview is priced, a preview past a cap is refused, and
 * previews past the workers and their queue are turned away with 429 rather than piled up.
 */
import http from 'node:http';
import { Client } from 'pg';
import { testPostgresUrl, waitFor } from '@puhui/testing';
import { startHarness } from './support';
import type { Harness } from './support';

const VALID_FROM = '2025-01-01T00:00:00+08:00';

/** `count` stackable supermarket rules: each takes something off every line, so each line lists them all. */
const stackingRules = (count: number) =>
  Array.from({ length: count }, (_, index) => ({
    name: `stacking ${index + 1}`,
    scope: { merchant_categories: ['supermarket'] },
    benefit: { type: 'percent_off', bps: 10 + index },
    stacking: 'stackable',
    schedule: { valid_from: VALID_FROM },
  }));

const checkout = (lines: number) => ({
  merchant: { merchant_id: 'mch-1', category: 'supermarket' },
  card: { tier: 'standard', union_id: 'union-361102' },
  occurred_at: '2025-06-10T10:00:00+08:00',
  lines: Array.from({ length: lines }, (_, line) => ({ category: 'groceries', amount_minor: 1_000 + line })),
});

/**
 * At the default caps: 100 rules (the schema's most) on 2,500 lines list 250,000 applied rules
 * (PREVIEW_APPLIED_RULES_MAX). Over 37 MB of answer, priced for about a second.
 */
const largestCheckouts = () => Array.from({ length: 5 }, () => checkout(500));
const LARGEST_APPLIED = 250_000;

interface RawAnswer {
  status: number;
  headers: http.IncomingHttpHeaders;
  /** performance.now() when the status line and headers arrived. */
  headersAt: number;
  body: () => Promise<Buffer>;
}

/** A request that reports when its answer starts, without parsing or checking a 37 MB body. */
function send(harness: Harness, method: string, path: string, body?: unknown): Promise<RawAnswer> {
  const json = typeof body === 'string' ? body : JSON.stringify(body);
  const payload = body === undefined ? undefined : Buffer.from(json);
  return new Promise((resolve, reject) => {
    const request = http.request(
      `${harness.url}${path}`,
      {
        method,
        headers: {
          authorization: `Bearer ${harness.finance}`,
          ...(payload === undefined
            ? {}
            : { 'content-type': 'application/json', 'content-length': String(payload.length) }),
        },
      },
      (response) => {
        const headersAt = performance.now();
        const chunks: Buffer[] = [];
        const ended = new Promise<Buffer>((done, failed) => {
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.on('end', () => done(Buffer.concat(chunks)));
          response.on('error', failed);
        });
        resolve({
          status: response.statusCode ?? 0,
          headers: response.headers,
          headersAt,
          body: () => ended,
        });
      },
    );
    request.on('error', reject);
    request.end(payload);
  });
}

const appliedCount = (answer: { results: Array<{ lines: Array<{ applied_rules: unknown[] }> }> }) =>
  answer.results.reduce(
    (sum, result) => sum + result.lines.reduce((lines, line) => lines + line.applied_rules.length, 0),
    0,
  );

describe('previews at the default caps', () => {
  let harness: Harness;
  let ruleIds: string[];

  beforeAll(async () => {
    harness = await startHarness();
    ruleIds = [];
    for (const rule of stackingRules(100)) {
      const created = await harness.call('POST', '/v1/rules', { body: rule });
      expect(created.status).toBe(201);
      ruleIds.push(created.body.rule_id as string);
    }
  });

  afterAll(async () => {
    await harness.close();
  });

  it('answers /healthz while the largest allowed preview is priced, before the preview’s answer', async () => {
    // Hold the preview at its read of the rules, so that /healthz is asked only once the
    // service has the whole body and is about to price it (on the event loop, it could not answer).
    const locker = new Client({ connectionString: `${testPostgresUrl()}/${harness.config.DATABASE_NAME}` });
    await locker.connect();
    try {
      await locker.query('BEGIN');
      await locker.query('LOCK TABLE rules IN ACCESS EXCLUSIVE MODE');
      const preview = send(harness, 'POST', '/v1/rules/preview', {
        rule_ids: ruleIds,
        checkouts: largestCheckouts(),
      });
      await waitFor(async () => {
        const { rows } = await harness.db.query<{ waiting: number }>(
          `SELECT count(*)::int AS waiting FROM pg_stat_activity
           WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE '%rule_id = ANY%'`,
        );
        return (rows[0]?.waiting ?? 0) > 0;
      });
      await locker.query('COMMIT');
      const health = await send(harness, 'GET', '/healthz');
      expect(health.status).toBe(200);
      await health.body();
      const healthAnsweredAt = performance.now();
      const answer = await preview;
      expect(answer.status).toBe(200);
      expect(healthAnsweredAt).toBeLessThan(answer.headersAt);
      const body = JSON.parse((await answer.body()).toString('utf8'));
      expect(body.rules).toHaveLength(100);
      expect(body.totals.checkouts).toBe(5);
      expect(appliedCount(body)).toBe(LARGEST_APPLIED);
    } finally {
      await locker.end();
    }
  });

  it('refuses a preview whose answer would list more applied rules than PREVIEW_APPLIED_RULES_MAX with 422', async () => {
    const response = await harness.call('POST', '/v1/rules/preview', {
      body: { rule_ids: ruleIds, checkouts: [...largestCheckouts(), checkout(1)] },
    });
    expect(response.status).toBe(422);
    expect(response.body).toMatchObject({ code: 'preview_too_large', applied_rules_max: LARGEST_APPLIED });
  });

  it('refuses more lines in all than PREVIEW_LINES_MAX with 400 naming checkouts', async () => {
    const [rule] = stackingRules(1);
    const response = await harness.call('POST', '/v1/rules/preview', {
      body: { rules: [rule], checkouts: Array.from({ length: 101 }, () => checkout(500)) },
    });
    expect(response.status).toBe(400);
    expect(response.body.invalid_params).toEqual([
      { name: 'checkouts', reason: 'hold 50500 lines in all; one preview prices at most 50000' },
    ]);
    const atTheCap = await harness.call('POST', '/v1/rules/preview', {
      body: { rules: [rule], checkouts: Array.from({ length: 100 }, () => checkout(500)) },
    });
    expect(atTheCap.status).toBe(200);
    expect(atTheCap.body.totals.checkouts).toBe(100);
  });

  it('refuses a body nested deeper than a worker can be handed with the schema’s 400, not a 500', async () => {
    // 20,000 nested arrays: JSON.parse takes them, a structured clone overflows its stack.
    const deep = `{"checkout":${'['.repeat(20_000)}${']'.repeat(20_000)}}`;
    const answer = await send(harness, 'POST', '/v1/rules/preview', deep);
    expect(answer.status).toBe(400);
    const problem = JSON.parse((await answer.body()).toString('utf8'));
    expect(problem.code).toBe('validation_failed');
    expect(problem.invalid_params.map((param: { name: string }) => param.name)).toEqual(['checkout']);
  });
});

describe('previews past the workers and their queue', () => {
  let harness: Harness;

  beforeAll(async () => {
    harness = await startHarness({ environment: { PREVIEW_THREADS: '1', PREVIEW_QUEUE_MAX: '0' } });
  });

  afterAll(async () => {
    await harness.close();
  });

  it('turns away a preview while the one worker prices another, with 429 and Retry-After', async () => {
    const body = { rules: stackingRules(100), checkouts: largestCheckouts() };
    const answers = await Promise.all([
      send(harness, 'POST', '/v1/rules/preview', body),
      send(harness, 'POST', '/v1/rules/preview', body),
    ]);
    expect(answers.map((answer) => answer.status).sort()).toEqual([200, 429]);
    const busy = answers.find((answer) => answer.status === 429) as RawAnswer;
    expect(busy.headers['retry-after']).toBe('5');
    expect(JSON.parse((await busy.body()).toString('utf8'))).toMatchObject({ code: 'previews_busy' });
    await Promise.all(answers.map((answer) => answer.body()));
    // Once the worker is free again, the next preview is priced.
    const after = await harness.call('POST', '/v1/rules/preview', {
      body: { ...body, checkouts: [checkout(1)] },
    });
    expect(after.status).toBe(200);
  });
});
