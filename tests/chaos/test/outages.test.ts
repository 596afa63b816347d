/**
 * Issue 9, infrastructure outages under checkout load, injected so that only this run's
 * services see them (Postgres, Redis and Kafka are shared with other test runs on the machine):
 *
 * - Kafka: a private broker behind a fault proxy (see lib/kafka-broker.ts) is cut for 30 s
 *   (10 s in CI): checkouts go on, the outbox holds their events, all arrive afterwards;
 * - Redis: the proxy in front of it is cut: checkouts go on through read-through from
 *   discount-rules with bounded latency; then the run's keys are deleted (its key prefix only,
 *   never FLUSHALL): the cache refills;
 * - Postgres: the proxy drops every connection and refuses new ones for a while, which is what
 *   a restart looks like to the services: clean 503 problems meanwhile, and recovery without
 *   anyone doing anything.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { Client } from 'pg';
import { waitFor } from '@puhui/testing';
import { callService } from '../../e2e/test/system';
import { ChaosRun } from './lib/chaos';
import type { World } from './lib/chaos';
import { sized } from './lib/figures';
import type { ClientCapture } from './lib/invariants';
import { describeStatuses, percentile, runCheckoutLoad, statusesBetween, summary } from './lib/load';
import type { LoadResult } from './lib/load';

const KAFKA_DOWN_MS = sized(10_000, 30_000);
const REDIS_DOWN_MS = sized(5_000, 15_000);
const POSTGRES_DOWN_MS = sized(5_000, 15_000);
const CONCURRENCY = sized(6, 12);
const WARM_UP_MS = 2_000;
const AFTER_MS = sized(4_000, 8_000);
/** Checkouts while Redis is away read through from discount-rules: this bounds their p99. */
const REDIS_DOWN_P99_MS_MAX = 2_000;

let run: ChaosRun;
let world: World;
const clients: ClientCapture[] = [];

beforeAll(async () => {
  run = await ChaosRun.start('outages: Kafka, Redis and Postgres away under load', {
    proxyPostgres: true,
    proxyRedis: true,
    privateKafka: true,
  });
  world = await run.system.withLogsOnFailure(() => run.setUpWorld(sized(12, 30)));
}, 240_000);

afterAll(async () => {
  run?.figures.print();
  await run?.stop();
});

/**
 * Runs checkouts until told to stop; `during` injects the fault after a warm-up and returns
 * when it is over; the load then goes on for AFTER_MS.
 */
async function underLoad(label: string, during: () => Promise<void>): Promise<LoadResult> {
  let stopped = false;
  const loading = runCheckoutLoad({
    system: run.system,
    merchants: world.merchants,
    cards: world.cards,
    total: 1_000_000,
    concurrency: CONCURRENCY,
    label,
    stop: () => stopped,
  });
  await sleep(WARM_UP_MS);
  await during();
  await sleep(AFTER_MS);
  stopped = true;
  const load = await loading;
  clients.push(...load.clients);
  run.figures.note(`${label}: ${summary(load)}`);
  run.figures.check(`${label}: every capture answered in the end`, load.clients.length, [
    ...load.unanswered.map((client) => `${client.reference} unanswered`),
    ...load.refused.map((refusal) => `${refusal.reference} ${refusal.status} ${refusal.code}`),
  ]);
  run.figures.check(
    `${label}: every error answer is problem+json with a code`,
    load.attempts,
    load.notProblems.map((answer) => `${answer.status} ${answer.contentType}`),
  );
  return load;
}

async function unpublished(service: 'transaction-settlement'): Promise<number> {
  const client = new Client({ connectionString: run.system.databaseUrl(service) });
  await client.connect();
  try {
    const { rows } = await client.query<{ count: string }>(
      'SELECT count(*) AS count FROM outbox_events WHERE published_at IS NULL',
    );
    return Number(rows[0]?.count ?? 0);
  } finally {
    await client.end();
  }
}

it('Kafka away: checkouts go on, the outbox holds the events, all are delivered once it is back', async () => {
  const { figures } = run;
  const kafka = run.kafka?.proxy;
  if (kafka === undefined) throw new Error('no private broker');
  await run.system.withLogsOnFailure(async () => {
    let from = 0;
    let to = 0;
    let heldAtRestore = 0;
    const load = await underLoad('kafka down', async () => {
      from = Date.now();
      kafka.cut();
      figures.fault(
        `Kafka cut for ${KAFKA_DOWN_MS / 1000} s (private broker's proxy: connections reset, new ones refused)`,
      );
      await sleep(KAFKA_DOWN_MS);
      heldAtRestore = await unpublished('transaction-settlement');
      kafka.restore();
      to = Date.now();
    });
    const window = statusesBetween(load.outcomes, from, to);
    const restoredAt = to;
    await waitFor(async () => (await unpublished('transaction-settlement')) === 0, {
      timeoutMs: 60_000,
      description: 'settlement outbox drained after Kafka came back',
    });
    figures.note(
      `kafka down: during the outage ${describeStatuses(window)} (p50 ${percentile(load.outcomes, 50, from, to)} ms, p99 ${percentile(load.outcomes, 99, from, to)} ms); ${heldAtRestore} events held in settlement's outbox at the restore, drained ${Date.now() - restoredAt} ms after it`,
    );
    // Captures need no Kafka: they must go on at (at least half) the rate they had before. A
    // few may still get 503 rate_sheet_unavailable on a loaded machine when a sheet is read
    // through (300 ms budget, decision 0004); the terminal retries them. Nothing else may fail.
    const startedAt = Math.min(...load.outcomes.map((outcome) => outcome.at));
    const rateBefore =
      (statusesBetween(load.outcomes, startedAt, from).get(201) ?? 0) / ((from - startedAt) / 1000);
    const rateDuring = (window.get(201) ?? 0) / ((to - from) / 1000);
    const unclean = [...window.entries()].filter(([status]) => status !== 201 && status !== 503);
    figures.note(
      `kafka down: captures per second before ${rateBefore.toFixed(1)}, during the outage ${rateDuring.toFixed(1)}`,
    );
    figures.check(
      'kafka down: checkouts continue (at half the rate before or more, no error but a retried 503)',
      [...window.values()].reduce((sum, count) => sum + count, 0),
      [
        ...(rateDuring >= rateBefore / 2
          ? []
          : [`${rateDuring.toFixed(1)}/s during, ${rateBefore.toFixed(1)}/s before`]),
        ...unclean.map(([status, count]) => `${count} answers ${status}`),
      ],
    );
    figures.check('kafka down: the outbox holds the events', 1, heldAtRestore > 0 ? [] : ['nothing held']);
    expect(rateDuring).toBeGreaterThanOrEqual(rateBefore / 2);
    expect(unclean).toEqual([]);
    expect(heldAtRestore).toBeGreaterThan(0);
  });
});

it('Redis away: checkouts go on through read-through with bounded latency; its keys deleted: the cache refills', async () => {
  const { figures } = run;
  const redis = run.redis;
  if (redis === undefined) throw new Error('no Redis proxy');
  await run.system.withLogsOnFailure(async () => {
    let from = 0;
    let to = 0;
    const load = await underLoad('redis down', async () => {
      from = Date.now();
      redis.cut();
      figures.fault(`Redis cut for ${REDIS_DOWN_MS / 1000} s`);
      await sleep(REDIS_DOWN_MS);
      redis.restore();
      to = Date.now();
    });
    const window = statusesBetween(load.outcomes, from, to);
    const attempts = [...window.values()].reduce((sum, count) => sum + count, 0);
    const p99 = percentile(load.outcomes, 99, from, to);
    figures.note(
      `redis down: during the outage ${describeStatuses(window)} (p50 ${percentile(load.outcomes, 50, from, to)} ms, p99 ${p99} ms; before it p99 ${percentile(load.outcomes, 99, 0, from)} ms)`,
    );
    // Read-through has a 300 ms budget per sheet (decision 0004): on a loaded machine a few
    // attempts may get 503 rate_sheet_unavailable and are retried; 95 % must go through at once.
    const failed = [...window.entries()].filter(([status]) => status !== 201);
    const failedCount = failed.reduce((sum, [, count]) => sum + count, 0);
    const unclean = failed.filter(([status]) => status !== 503);
    figures.check(
      'redis down: checkouts continue (≥ 95 % of attempts during the outage 201 at once, no error but 503)',
      attempts,
      [
        ...(failedCount <= attempts * 0.05 ? [] : [`${failedCount} of ${attempts} attempts failed`]),
        ...unclean.map(([status, count]) => `${count} answers ${status}`),
      ],
    );
    figures.check(
      `redis down: p99 latency under ${REDIS_DOWN_P99_MS_MAX} ms`,
      1,
      p99 <= REDIS_DOWN_P99_MS_MAX ? [] : [`p99 ${p99} ms`],
    );
    expect(window.get(201) ?? 0).toBeGreaterThan(0);

    // Flushed: only this run's keys go; checkouts refill the cache.
    let deleted = 0;
    let refilledMs = 0;
    await underLoad('redis flushed', async () => {
      deleted = await run.flushRedisPrefix();
      const flushedAt = Date.now();
      figures.fault(`Redis keys of this run deleted (${deleted} keys, prefix ${run.system.redisPrefix})`);
      await waitFor(
        async () =>
          (await run.redisKeys('puhui:ruleset_version')) === 1 &&
          (await run.redisKeys('puhui:rate_sheet:*')) > 0,
        { timeoutMs: 30_000, intervalMs: 200, description: 'the cache refilled' },
      );
      refilledMs = Date.now() - flushedAt;
    });
    const sheets = await run.redisKeys('puhui:rate_sheet:*');
    figures.note(
      `redis flushed: ${deleted} keys deleted; ruleset version and rate sheets back ${refilledMs} ms later; ${sheets} sheets cached at the end`,
    );
    figures.check('redis flushed: the cache refills', 1, sheets > 0 ? [] : ['no rate sheet cached']);
    expect(failedCount).toBeLessThanOrEqual(attempts * 0.05);
    expect(unclean).toEqual([]);
    expect(p99).toBeLessThanOrEqual(REDIS_DOWN_P99_MS_MAX);
  });
});

it('Postgres restarted: clean 503 problems during the outage, recovery without manual steps', async () => {
  const { figures, system } = run;
  const postgres = run.postgres;
  if (postgres === undefined) throw new Error('no Postgres proxy');
  await system.withLogsOnFailure(async () => {
    let from = 0;
    let to = 0;
    const readiness: number[] = [];
    let recoveredMs = 0;
    const load = await underLoad('postgres restarted', async () => {
      from = Date.now();
      postgres.cut();
      figures.fault(
        `Postgres connections dropped and refused for ${POSTGRES_DOWN_MS / 1000} s (a restart as the services see it)`,
      );
      await sleep(Math.min(2000, POSTGRES_DOWN_MS / 2));
      for (const name of ['merchant-onboarding', 'discount-rules', 'transaction-settlement'] as const)
        readiness.push((await callService(system.url(name), 'GET', '/readyz')).status);
      await sleep(POSTGRES_DOWN_MS - Math.min(2000, POSTGRES_DOWN_MS / 2));
      postgres.restore();
      to = Date.now();
      recoveredMs = await run.waitAllReady();
    });
    const window = statusesBetween(load.outcomes, from, to);
    const after = load.outcomes.filter((outcome) => outcome.at >= to + recoveredMs);
    figures.note(
      `postgres down: during the outage ${describeStatuses(window)}; /readyz answered ${readiness.join(', ')}; all ready ${recoveredMs} ms after the restore; afterwards ${describeStatuses(statusesBetween(after, 0, Infinity))}`,
    );
    const unclean = [...window.entries()].filter(([status]) => status !== 503 && status !== 201);
    figures.check(
      'postgres down: only clean 503s (or captures that finished before the cut)',
      [...window.values()].reduce((sum, count) => sum + count, 0),
      unclean.map(([status, count]) => `${count} answers ${status === 0 ? 'no answer' : status}`),
    );
    figures.check(
      'postgres down: /readyz says not ready',
      3,
      readiness.filter((status) => status !== 503).map(String),
    );
    const afterFailures = after.filter((outcome) => outcome.status !== 201);
    figures.check(
      'postgres back: checkouts succeed again without any manual step',
      after.length,
      afterFailures.length === 0 ? [] : [`${afterFailures.length} attempts failed after recovery`],
    );
    expect(unclean).toEqual([]);
    expect(after.length).toBeGreaterThan(0);
    expect(afterFailures).toEqual([]);
  });
});

it('after every outage: nothing lost, nothing duplicated, every invariant holds, no card number anywhere', async () => {
  const violations = await run.system.withLogsOnFailure(() => run.finish(clients));
  expect(violations).toEqual([]);
});
