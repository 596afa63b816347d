/**
 * `npm run bench`: Puhui's performance suite. Starts the three services as processes on fresh
 * databases, seeds them through the public APIs, then measures, in one run:
 * checkout capture over HTTP (open-loop, separate load process) — the highest sustained rate
 * and latency at fixed rates — beside pgbench's TPC-B on the same Postgres with the same
 * client count; rate-sheet lookups warm and cold; rule propagation; outbox lag under load;
 * settlement and reconciliation at a million; the services' memory. Prints a table beside the
 * goals and writes bench-results/<time>-<label>.json. Asserts nothing.
 *
 * Environment: BENCH_LABEL, BENCH_MERCHANTS (300), BENCH_CARDS (12000), BENCH_STEP_SECONDS (10),
 * BENCH_FIXED_SECONDS (20), BENCH_CONNECTIONS (64), BENCH_MILLION (1000000; 0 skips),
 * BENCH_PGBENCH_SECONDS (30), BENCH_PGBENCH_SCALE (10), BENCH_CPU_PROF (a folder: profile the
 * settlement service), POSTGRES_URL.
 */
import { execFileSync, fork } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { Client } from 'pg';
import { idempotencyKey, ok } from '@puhui/api-clients';
import { createRedis } from '@puhui/cache';
import { tokenizePan } from '@puhui/cards';
import { TOPICS } from '@puhui/contracts';
import { rateSheetKey, RULESET_VERSION_KEY } from '@puhui/discount';
import { createLogger } from '@puhui/logging';
import {
  DEVELOPMENT_CARD_TOKEN_KEY,
  DEVELOPMENT_RATE_SHEET_SIGNING_KEY,
  DEVELOPMENT_SERVICE_CREDENTIAL,
} from '@puhui/security';
import { RateSheets } from '@puhui/transaction-settlement/src/rates/rate-sheets';
import type { LoadJob, LoadResult } from './loadgen';
import { loadAverage, machineInfo, rssMib, sampleRss } from './machine';
import { generateDay, reconcileStatement, settleDay, writeStatement } from './million';
import type { DayFacts } from './million';
import { runPgbench } from './pgbench';
import type { PgbenchResult } from './pgbench';
import { Api, checkoutBody, eventually, inParallel, operatorTokens, seed } from './seed';
import type { Json } from './seed';
import { summarize } from './stats';
import type { LatencySummary } from './stats';
import { REPOSITORY_ROOT, SERVICE_NAMES, startSystem } from './system';
import type { ServiceName } from './system';

const environment = process.env;
const number = (name: string, fallback: number) => Number(environment[name] ?? fallback);
const SETTINGS = {
  label: environment.BENCH_LABEL ?? 'run',
  merchants: number('BENCH_MERCHANTS', 300),
  cards: number('BENCH_CARDS', 12_000),
  stepSeconds: number('BENCH_STEP_SECONDS', 10),
  fixedSeconds: number('BENCH_FIXED_SECONDS', 20),
  connections: number('BENCH_CONNECTIONS', 64),
  million: number('BENCH_MILLION', 1_000_000),
  pgbenchSeconds: number('BENCH_PGBENCH_SECONDS', 30),
  pgbenchScale: number('BENCH_PGBENCH_SCALE', 10),
  /** Postgres connections of the settlement service: pgbench runs with as many clients. */
  poolSize: number('POSTGRES_POOL_SIZE_MAX', 10),
  propagationSamples: number('BENCH_PROPAGATION_SAMPLES', 20),
  warmLookups: number('BENCH_WARM_LOOKUPS', 5_000),
  coldLookups: number('BENCH_COLD_LOOKUPS', 1_000),
};
const POSTGRES_URL = (environment.POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432').replace(/\/+$/u, '');
const RATE_LADDER = [
  100, 150, 200, 250, 300, 350, 400, 450, 500, 600, 700, 800, 1000, 1250, 1500, 2000, 2500, 3000, 4000,
];
const ERROR_RATE_MAX = 0.001;
/** A step keeps up when it completes ≥ 95 % of its rate within the window and its p99 stays under 500 ms (a queue that grows through a 10 s step shows up as seconds). */
const KEEP_UP_FRACTION = 0.95;
const KEEP_UP_P99_MS = 500;

const GOALS = {
  checkout_vs_pgbench_ratio: { goal: '>= 1.0', met: (v: number) => v >= 1 },
  checkout_p99_ms_at_80pct: { goal: '<= 50 ms', met: (v: number) => v <= 50 },
  rate_sheet_warm_p99_ms: { goal: '<= 1 ms', met: (v: number) => v <= 1 },
  rule_propagation_p99_ms: { goal: '<= 1000 ms', met: (v: number) => v <= 1000 },
  outbox_lag_p99_ms: { goal: '<= 200 ms', met: (v: number) => v <= 200 },
  settlement_1m_seconds: { goal: '<= 10 s', met: (v: number) => v <= 10 },
  reconciliation_1m_seconds: { goal: '<= 30 s', met: (v: number) => v <= 30 },
  reconciliation_1m_peak_rss_mib: {
    goal: '< 512 MB (488 MiB)',
    met: (v: number) => v < 512_000_000 / 1024 ** 2,
  },
} as const;

function log(line: string): void {
  console.log(line);
}

interface StepSummary extends Omit<LoadResult, 'latencies'> {
  error_rate: number;
  latency: LatencySummary;
  sustained: boolean;
}

function stepSummary(result: LoadResult): StepSummary {
  const { latencies, ...rest } = result;
  const latency = summarize(latencies);
  const errorRate = result.sent === 0 ? 1 : result.errors / result.sent;
  return {
    ...rest,
    error_rate: Math.round(errorRate * 1e6) / 1e6,
    latency,
    sustained:
      errorRate < ERROR_RATE_MAX &&
      result.achieved_rate >= KEEP_UP_FRACTION * result.target_rate &&
      latency.p99_ms < KEEP_UP_P99_MS,
  };
}

class LoadProcess {
  private readonly child: ChildProcess;
  constructor() {
    this.child = fork(path.join(__dirname, 'loadgen.ts'), [], {
      execArgv: ['--import', 'tsx'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
  }
  get pid(): number {
    return this.child.pid ?? -1;
  }
  run(job: LoadJob): Promise<LoadResult> {
    return new Promise((resolve) => {
      this.child.once('message', (message: { result: LoadResult }) => resolve(message.result));
      this.child.send({ job });
    });
  }
  stop(): void {
    this.child.send({ exit: true });
  }
}

async function main(): Promise<void> {
  const startedAt = new Date();
  const suffix = `${process.pid}${Date.now().toString(36).slice(-4)}`;
  const logDirectory = mkdtempSync(path.join(os.tmpdir(), 'puhui-bench-'));
  const machine = machineInfo(POSTGRES_URL);
  log(
    `Puhui bench "${SETTINGS.label}": ${machine.cpu_model}, ${machine.cores} cores, ${machine.memory_gib} GiB, ` +
      `Node ${machine.node}, Postgres ${machine.postgres}, load ${machine.load_average_at_start.join(' ')}`,
  );
  log(`  service logs: ${logDirectory}`);
  const loads: Record<string, number[]> = { start: machine.load_average_at_start };

  const profileDirectory = environment.BENCH_CPU_PROF;
  const system = await startSystem({
    postgresUrl: POSTGRES_URL,
    suffix,
    logDirectory,
    // BENCH_CPU_PROF=<dir>: the settlement service writes a V8 CPU profile there when it stops.
    nodeArguments:
      profileDirectory === undefined
        ? {}
        : { 'transaction-settlement': ['--cpu-prof', `--cpu-prof-dir=${profileDirectory}`] },
  });
  const pids = Object.fromEntries(
    SERVICE_NAMES.map((name) => [name, system.services[name].child.pid ?? -1]),
  ) as Record<ServiceName, number>;
  const settlement = system.services['transaction-settlement'];
  const api = new Api(system);
  const tokens = operatorTokens();
  const results: Json = {};
  const loadProcess = new LoadProcess();
  const redis = createRedis({
    url: environment.REDIS_URL ?? 'redis://127.0.0.1:6379',
    keyPrefix: system.redisKeyPrefix,
  });
  const kafka = new Kafka({
    clientId: `bench-${suffix}`,
    brokers: (environment.KAFKA_BROKERS ?? '127.0.0.1:9092').split(','),
    logLevel: logLevel.NOTHING,
  });
  const consumer = kafka.consumer({ groupId: `bench-lag-${suffix}`, maxWaitTimeInMs: 50 });
  try {
    log('seeding through the public APIs');
    let began = Date.now();
    const seeded = await seed(api, tokens, { merchants: SETTINGS.merchants, cards: SETTINGS.cards }, log);
    results.seed = {
      merchants: seeded.merchants.length,
      cards: seeded.cardNumbers.length,
      rules: seeded.ruleIds.length,
      seconds: (Date.now() - began) / 1000,
    };
    const merchantAt = (index: number) =>
      seeded.merchants[index % seeded.merchants.length] as (typeof seeded.merchants)[0];

    // Rule propagation: publish → first capture that applies it (each publish moves every card to a new sheet).
    log('rule propagation');
    const propagation: number[] = [];
    for (let sample = 0; sample < SETTINGS.propagationSamples; sample += 1) {
      const merchant = merchantAt(sample * 7);
      const rules = api.as(() => tokens.admin)['discount-rules'];
      const rule = await ok(
        rules.POST('/v1/rules', {
          body: {
            name: `bench propagation ${sample}`,
            scope: { merchant_categories: null, merchant_ids: [merchant.merchant_id] },
            item_categories: null,
            benefit: { type: 'percent_off', bps: 100 },
            merchant_share_bps: 10_000,
            schedule: {
              valid_from: '2026-01-01T00:00:00+08:00',
              valid_to: null,
              days_of_week: null,
              time_of_day: null,
            },
            priority: 20,
            stacking: 'stackable',
          },
        }),
      );
      const ruleId = rule.rule_id;
      const t0 = process.hrtime.bigint();
      await ok(rules.POST('/v1/rules/{id}/publish', { params: { path: { id: ruleId } }, body: {} }));
      let attempt = 0;
      await eventually(
        `rule ${ruleId} applied`,
        async () => {
          attempt += 1;
          const card = seeded.cardNumbers[(sample * 131 + attempt) % seeded.cardNumbers.length] as string;
          const captured = await ok(
            api.as(merchant.secret)['transaction-settlement'].POST('/v1/checkouts', {
              params: { header: idempotencyKey() },
              body: checkoutBody(card, `PROP-${sample}-${attempt}`, 10_000),
            }),
          );
          const applied = captured.lines.some((line) =>
            line.applied_rules.some((applied) => applied.rule_id === ruleId),
          );
          return applied ? true : undefined;
        },
        30_000,
        5,
      );
      propagation.push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
    results.rule_propagation = { ...summarize(propagation), samples: propagation.map((v) => Math.round(v)) };
    log(`  p50 ${results.rule_propagation.p50_ms} ms, p99 ${results.rule_propagation.p99_ms} ms`);

    log(`warming ${seeded.cardNumbers.length} rate sheets (a quote per card)`);
    began = Date.now();
    let warmRetries = 0;
    await inParallel(seeded.cardNumbers, 4, async (card, index) => {
      // A cold read-through can exceed settlement's 300 ms budget on a busy machine: 503, try again.
      for (let attempt = 1; ; attempt += 1) {
        const quote = await api
          .as(merchantAt(index).secret)
          ['transaction-settlement'].POST('/v1/checkouts/quote', {
            body: checkoutBody(card, `WARM-${index}`, 5_000),
          });
        if (quote.response.status !== 503) await ok(quote);
        if (quote.response.status !== 503 || attempt >= 10) return;
        warmRetries += 1;
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    });
    log(`  ${((Date.now() - began) / 1000).toFixed(1)} s (${warmRetries} retried after a 503)`);
    results.rate_sheet_warmup = { seconds: (Date.now() - began) / 1000, retried_after_503: warmRetries };

    log("rate-sheet lookups (the settlement service's RateSheets, in this process)");
    await new Promise<void>((resolve) =>
      redis.status === 'ready' ? resolve() : redis.once('ready', () => resolve()),
    );
    const rateSheets = new RateSheets({
      redis,
      logger: createLogger({ service: 'bench', level: 'warn' }),
      discountRulesUrl: system.services['discount-rules'].url,
      timeoutMs: 300,
      serviceCredential: process.env.SERVICE_CREDENTIAL ?? DEVELOPMENT_SERVICE_CREDENTIAL,
      signingKey: process.env.RATE_SHEET_SIGNING_KEY ?? DEVELOPMENT_RATE_SHEET_SIGNING_KEY,
    });
    const tokenOf = (card: string) => tokenizePan(card, DEVELOPMENT_CARD_TOKEN_KEY);
    const warm: number[] = [];
    for (let index = 0; index < SETTINGS.warmLookups; index += 1) {
      const token = tokenOf(seeded.cardNumbers[(index * 7) % seeded.cardNumbers.length] as string);
      const t0 = process.hrtime.bigint();
      await rateSheets.forCard(token);
      warm.push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
    const cold: number[] = [];
    const version = Number(await redis.get(RULESET_VERSION_KEY));
    for (let index = 0; index < SETTINGS.coldLookups; index += 1) {
      const token = tokenOf(seeded.cardNumbers[(index * 11) % seeded.cardNumbers.length] as string);
      await redis.del(rateSheetKey(version, token));
      const t0 = process.hrtime.bigint();
      await rateSheets.forCard(token);
      cold.push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
    rateSheets.shutdown();
    results.rate_sheet_lookup = {
      warm: summarize(warm),
      cold: summarize(cold),
      note: 'warm: Redis GET version + GET sheet + schema parse; cold: both caches miss, settlement reads through discount-rules over HTTP, which computes the sheet from Postgres and stores it',
    };
    log(
      `  warm p50 ${results.rate_sheet_lookup.warm.p50_ms} ms p99 ${results.rate_sheet_lookup.warm.p99_ms} ms; ` +
        `cold p50 ${results.rate_sheet_lookup.cold.p50_ms} ms p99 ${results.rate_sheet_lookup.cold.p99_ms} ms`,
    );

    await new Promise((resolve) => setTimeout(resolve, 3000));
    results.memory = {
      at_rest_mib: Object.fromEntries(SERVICE_NAMES.map((name) => [name, rssMib(pids[name])])),
    };

    // Outbox lag: a consumer of the checkouts topic, from the event's time (set in the capture's transaction).
    const lags: number[] = [];
    let recordLag = false;
    await consumer.connect();
    await consumer.subscribe({ topic: `${system.topicPrefix}${TOPICS.checkouts}`, fromBeginning: false });
    let joined = false;
    consumer.on(consumer.events.GROUP_JOIN, () => {
      joined = true;
    });
    await consumer.run({
      eachMessage: async ({ message }) => {
        if (!recordLag || message.value === null) return;
        const envelope = JSON.parse(message.value.toString('utf8')) as { time: string };
        lags.push(Date.now() - Date.parse(envelope.time));
      },
    });
    await eventually('lag consumer joined', async () => (joined ? true : undefined), 60_000);

    const job = (rate: number, seconds: number, label: string): LoadJob => ({
      url: settlement.url,
      secrets: seeded.merchants.map((merchant) => merchant.secret),
      cards: seeded.cardNumbers,
      rate,
      durationMs: seconds * 1000,
      connections: SETTINGS.connections,
      label,
    });
    const underLoad = SERVICE_NAMES.map((name) => sampleRss(pids[name], 250));
    // Both the checkout load and pgbench start from a fresh checkpoint: the seeding's (or an
    // earlier run's) dirty pages are not flushed into the middle of either measurement.
    await checkpoint();
    loads.before_load = loadAverage();
    log(
      `checkout capture: open-loop steps of ${SETTINGS.stepSeconds} s, ${SETTINGS.connections} connections`,
    );
    await loadProcess.run(job(50, 5, `WARMUP${suffix}`));
    const steps: StepSummary[] = [];
    let maxSustained = 0;
    for (const rate of RATE_LADDER) {
      let step = stepSummary(await loadProcess.run(job(rate, SETTINGS.stepSeconds, `STEP${rate}x${suffix}`)));
      if (!step.sustained) {
        log(
          `  ${rate}/s not sustained (achieved ${step.achieved_rate}/s, errors ${step.errors}, p99 ${step.latency.p99_ms} ms); once more`,
        );
        await new Promise((resolve) => setTimeout(resolve, 3000));
        step = stepSummary(await loadProcess.run(job(rate, SETTINGS.stepSeconds, `STEP${rate}y${suffix}`)));
      }
      steps.push(step);
      log(
        `  ${rate}/s: achieved ${step.achieved_rate}/s, errors ${step.errors}/${step.sent}, ` +
          `p50 ${step.latency.p50_ms} p99 ${step.latency.p99_ms} ms ${step.sustained ? 'sustained' : 'NOT sustained'}`,
      );
      if (!step.sustained) break;
      maxSustained = rate;
      await new Promise((resolve) => setTimeout(resolve, 2000));
    }
    const fixed: Record<string, StepSummary> = {};
    for (const fraction of [0.5, 0.8]) {
      const rate = Math.max(10, Math.round(maxSustained * fraction));
      await new Promise((resolve) => setTimeout(resolve, 2000));
      recordLag = fraction === 0.8;
      const step = stepSummary(
        await loadProcess.run(job(rate, SETTINGS.fixedSeconds, `FIX${fraction * 100}x${suffix}`)),
      );
      await new Promise((resolve) => setTimeout(resolve, 1000));
      recordLag = false;
      fixed[`${fraction * 100}pct`] = step;
      log(
        `  fixed ${rate}/s (${fraction * 100} %): achieved ${step.achieved_rate}/s, errors ${step.errors}/${step.sent}, ` +
          `p50 ${step.latency.p50_ms} p95 ${step.latency.p95_ms} p99 ${step.latency.p99_ms} ms`,
      );
    }
    const rssUnderLoad = underLoad.map((sampler) => sampler.stop());
    results.memory.under_checkout_load_peak_mib = Object.fromEntries(
      SERVICE_NAMES.map((name, index) => [name, rssUnderLoad[index]?.peak_mib]),
    );
    results.checkout = {
      connections: SETTINGS.connections,
      merchants: seeded.merchants.length,
      cards: seeded.cardNumbers.length,
      request:
        'POST /v1/checkouts with card_number (tokenized by the service), one line, fresh Idempotency-Key',
      sustained_criteria: `errors < ${ERROR_RATE_MAX * 100} %, achieved >= ${KEEP_UP_FRACTION * 100} % of the rate, p99 < ${KEEP_UP_P99_MS} ms`,
      max_sustained_rate: maxSustained,
      steps,
      fixed,
    };
    results.outbox_lag = {
      ...summarize(lags),
      measured:
        'event time (set in the capture transaction, just before commit) → received by a Kafka consumer, during the 80 % run',
    };
    log(
      `  outbox lag p50 ${results.outbox_lag.p50_ms} ms p99 ${results.outbox_lag.p99_ms} ms (${lags.length} events)`,
    );
    await consumer.disconnect();

    await new Promise((resolve) => setTimeout(resolve, 2000));
    await checkpoint();
    loads.before_pgbench = loadAverage();
    log(
      `pgbench TPC-B: scale ${SETTINGS.pgbenchScale}, ${SETTINGS.poolSize} clients, ${SETTINGS.pgbenchSeconds} s`,
    );
    const pgbench: PgbenchResult = await runPgbench(POSTGRES_URL, {
      scale: SETTINGS.pgbenchScale,
      clients: SETTINGS.poolSize,
      seconds: SETTINGS.pgbenchSeconds,
    });
    results.pgbench = pgbench;
    results.checkout_vs_pgbench_ratio = Math.round((maxSustained / pgbench.tps) * 1000) / 1000;
    log(`  ${pgbench.tps} tps; checkout ${maxSustained}/s → ratio ${results.checkout_vs_pgbench_ratio}`);

    if (SETTINGS.million > 0) {
      const current = await ok(
        api.as(tokens.finance)['transaction-settlement'].GET('/v1/business_days/current'),
      );
      const open = current.business_date;
      const date = new Date(Date.parse(`${open}T00:00:00Z`) - 86_400_000).toISOString().slice(0, 10);
      const day: DayFacts = {
        date,
        merchants: seeded.merchants.map((merchant) => merchant.merchant_id),
        budgetId: seeded.budgetId,
        captures: SETTINGS.million,
        startMs: Date.parse(`${date}T08:00:00+08:00`),
      };
      log(`generating ${SETTINGS.million} captures of ${date} in the settlement database (bench shortcut)`);
      const generatedIn = await generateDay(`${POSTGRES_URL}/${settlement.database}`, day);
      log(`  ${generatedIn.toFixed(1)} s`);
      loads.before_settlement = loadAverage();
      // A phase that fails is recorded as such and the suite goes on: the figures before it stand.
      try {
        const settled = await settleDay(settlement.url, tokens.finance, pids['transaction-settlement'], date);
        results.settlement_1m = { captures: SETTINGS.million, generated_seconds: generatedIn, ...settled };
        log(
          `  settlement: ${settled.seconds.toFixed(1)} s, ${settled.batches} batches, peak RSS ${settled.peak_rss_mib} MiB`,
        );
      } catch (error) {
        results.settlement_1m = { captures: SETTINGS.million, failed: String(error).slice(0, 500) };
        log(`  settlement failed: ${String(error).slice(0, 300)}`);
      }
      const file = path.join(logDirectory, 'statement.csv');
      const written = await writeStatement(file, day);
      loads.before_reconciliation = loadAverage();
      try {
        const reconciled = await reconcileStatement(
          settlement.url,
          tokens.finance,
          pids['transaction-settlement'],
          file,
        );
        results.reconciliation_1m = {
          lines: written.lines,
          bytes: written.bytes,
          captures: SETTINGS.million,
          ...reconciled,
        };
        log(
          `  reconciliation: ${written.lines} lines in ${reconciled.seconds.toFixed(1)} s, peak RSS ${reconciled.peak_rss_mib} MiB ` +
            `${JSON.stringify(reconciled.categories)}`,
        );
      } catch (error) {
        results.reconciliation_1m = { lines: written.lines, failed: String(error).slice(0, 500) };
        log(`  reconciliation failed: ${String(error).slice(0, 300)}`);
      }
    }
  } finally {
    loadProcess.stop();
    redis.disconnect();
    await consumer.disconnect().catch(() => undefined);
    await system.stop();
    await removeRunData(kafka, system.topicPrefix, system.redisKeyPrefix).catch((error: unknown) =>
      log(`  could not remove the run's topics and Redis keys: ${String(error)}`),
    );
  }
  loads.end = loadAverage();

  const measured: Record<keyof typeof GOALS, number | undefined> = {
    checkout_vs_pgbench_ratio: results.checkout_vs_pgbench_ratio,
    checkout_p99_ms_at_80pct: results.checkout?.fixed?.['80pct']?.latency.p99_ms,
    rate_sheet_warm_p99_ms: results.rate_sheet_lookup?.warm.p99_ms,
    rule_propagation_p99_ms: results.rule_propagation?.p99_ms,
    outbox_lag_p99_ms: results.outbox_lag?.p99_ms,
    settlement_1m_seconds: results.settlement_1m?.seconds,
    reconciliation_1m_seconds: results.reconciliation_1m?.seconds,
    reconciliation_1m_peak_rss_mib: results.reconciliation_1m?.peak_rss_mib,
  };
  const goals = Object.fromEntries(
    Object.entries(GOALS).map(([key, goal]) => {
      const value = measured[key as keyof typeof GOALS];
      return [
        key,
        { measured: value ?? null, goal: goal.goal, met: value === undefined ? null : goal.met(value) },
      ];
    }),
  );
  const file = {
    suite: '@puhui/bench',
    label: SETTINGS.label,
    started_at: startedAt.toISOString(),
    finished_at: new Date().toISOString(),
    git_commit: gitCommit(),
    machine,
    load_average: loads,
    settings: SETTINGS,
    goals,
    results,
  };
  const directory = path.join(REPOSITORY_ROOT, 'bench-results');
  mkdirSync(directory, { recursive: true });
  const name = `${startedAt.toISOString().slice(0, 19).replace(/[:T]/gu, '-')}-${SETTINGS.label}.json`;
  writeFileSync(path.join(directory, name), `${JSON.stringify(file, null, 2)}\n`);

  log('\nfigure                                   measured        goal              met');
  for (const [key, goal] of Object.entries(goals)) {
    const value = goal.measured === null ? '—' : String(goal.measured);
    log(
      `${key.padEnd(40)} ${value.padEnd(15)} ${goal.goal.padEnd(17)} ${goal.met === null ? '—' : goal.met ? 'yes' : 'NO'}`,
    );
  }
  log(
    `checkout max sustained ${results.checkout?.max_sustained_rate}/s; pgbench ${results.pgbench?.tps} tps; ` +
      `memory at rest ${JSON.stringify(results.memory?.at_rest_mib)}, under load ${JSON.stringify(results.memory?.under_checkout_load_peak_mib)}`,
  );
  log(`\nwritten: bench-results/${name}`);
}

/** The run's Kafka topics and Redis keys (its databases go with the services). */
async function removeRunData(kafka: Kafka, topicPrefix: string, redisKeyPrefix: string): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const topics = (await admin.listTopics()).filter((topic) => topic.startsWith(topicPrefix));
    if (topics.length > 0) await admin.deleteTopics({ topics });
  } finally {
    await admin.disconnect();
  }
  const redis = createRedis({
    url: environment.REDIS_URL ?? 'redis://127.0.0.1:6379',
    commandTimeoutMs: 10_000,
  });
  await new Promise<void>((resolve) =>
    redis.status === 'ready' ? resolve() : redis.once('ready', () => resolve()),
  );
  try {
    for await (const keys of redis.scanStream({ match: `${redisKeyPrefix}*`, count: 1000 })) {
      if ((keys as string[]).length > 0) await redis.del(...(keys as string[]));
    }
  } finally {
    redis.disconnect();
  }
}

async function checkpoint(): Promise<void> {
  const client = new Client({ connectionString: `${POSTGRES_URL}/postgres` });
  await client.connect();
  try {
    await client.query('CHECKPOINT');
  } finally {
    await client.end();
  }
}

function gitCommit(): string {
  try {
    return execFileSync('git', ['rev-parse', 'HEAD'], { cwd: REPOSITORY_ROOT, encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
