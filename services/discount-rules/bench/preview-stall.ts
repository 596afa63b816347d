/**
 * Benchmark (not a test): how long the largest previews stall the service's event loop.
 * For each shape below it posts one preview and, while the service prices it, asks /healthz
 * every 20 ms. Prints the preview's status, sizes and time, the event loop's longest stall
 * during it (perf_hooks.monitorEventLoopDelay, max) and the longest wait between two
 * /healthz answers.
 *
 *   npm run bench:preview -w @puhui/discount-rules          (BENCH_SHAPES=a,b to pick)
 *
 * Runs the service in this process on its own database (`bench_discount_rules_preview`,
 * recreated), against the local Postgres, Redis and Kafka. The client's own work here is
 * only socket I/O during the measurement (bodies are serialised before it starts, answers
 * parsed after it ends), so the stall measured is the service's.
 */
import http from 'node:http';
import os from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { dropDatabase } from '@puhui/postgres';
import { startService } from '@puhui/service';
import { operatorToken, testSubject } from '@puhui/testing';
import { loadDiscountRulesConfig } from '../src/config';
import { discountRulesService } from '../src/service';

const PROBE_INTERVAL_MS = 20;
const MIB = 1024 * 1024;

const environment = {
  ...process.env,
  // Development secrets: a bench on a developer's machine.
  NODE_ENV: process.env.NODE_ENV ?? 'development',
  DATABASE_NAME: 'bench_discount_rules_preview',
  KAFKA_TOPIC_PREFIX: 'bench.',
  REDIS_KEY_PREFIX: 'bench:',
  PORT: '0',
  LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
};

const VALID_FROM = '2025-01-01T00:00:00+08:00';

/** The seed programme's six standing offers (data/seed-programme.json) as rule bodies. */
const SEED_RULES = [
  ['scenic_spot', ['ticket'], 5000],
  ['supermarket', null, 500],
  ['pharmacy', null, 1500],
  ['hospital', ['registration_fee'], 10000],
  ['hospital', ['examination_fee'], 2000],
  ['hotel', ['room'], 2200],
].map(([merchant, items, bps], index) => ({
  name: `standing offer ${index + 1}`,
  scope: { merchant_categories: [merchant] },
  item_categories: items,
  benefit: { type: 'percent_off', bps },
  schedule: { valid_from: VALID_FROM },
}));

const SEED_ITEMS: Array<[string, string]> = [
  ['scenic_spot', 'ticket'],
  ['supermarket', 'groceries'],
  ['pharmacy', 'medicine'],
  ['hospital', 'registration_fee'],
  ['hospital', 'examination_fee'],
  ['hotel', 'room'],
];

function checkout(serial: number, category: string, lines: Array<[string, number]>) {
  return {
    merchant: { merchant_id: `mch-${serial % 686}`, category },
    card: { tier: 'standard', union_id: `union-${String(serial % 4612).padStart(4, '0')}` },
    occurred_at: '2025-06-10T10:00:00+08:00',
    lines: lines.map(([item, amount]) => ({ category: item, amount_minor: amount, quantity: 1 })),
  };
}

/** `count` past checkouts of the seed programme, `lines` lines each. */
function seedCheckouts(count: number, lines: number) {
  return Array.from({ length: count }, (_, serial) => {
    const [category, item] = SEED_ITEMS[serial % SEED_ITEMS.length] as [string, string];
    return checkout(
      serial,
      category,
      Array.from({ length: lines }, (_, line): [string, number] => [
        item,
        1_000 + ((serial * 7 + line) % 50_000),
      ]),
    );
  });
}

/** `count` stackable supermarket rules that each take something off every line. */
function stackingRules(count: number) {
  return Array.from({ length: count }, (_, index) => ({
    name: `stacking ${index + 1}`,
    scope: { merchant_categories: ['supermarket'] },
    benefit: { type: 'percent_off', bps: 10 + index },
    stacking: 'stackable',
    schedule: { valid_from: VALID_FROM },
  }));
}

interface Shape {
  key: string;
  label: string;
  body: () => unknown;
}

const SHAPES: Shape[] = [
  {
    key: 'a',
    label: '10,000 past checkouts of 2 lines, the seed programme’s six offers',
    body: () => ({ rules: SEED_RULES, checkouts: seedCheckouts(10_000, 2) }),
  },
  {
    key: 'b',
    label: '100 stacking rules on 5 checkouts of 500 lines (each line gets 100 applied rules)',
    body: () => ({
      rules: stackingRules(100),
      checkouts: Array.from({ length: 5 }, (_, serial) =>
        checkout(
          serial,
          'supermarket',
          Array.from({ length: 500 }, (_, line): [string, number] => ['groceries', 1_000 + line]),
        ),
      ),
    }),
  },
  {
    key: 'c',
    label: 'nearly 4 MiB: 10,000 checkouts of 4 lines, the six offers',
    body: () => ({ rules: SEED_RULES, checkouts: seedCheckouts(10_000, 4) }),
  },
  {
    key: 'd',
    label: '100 stacking rules on 40 checkouts of 500 lines (2 million applied rules)',
    body: () => ({
      rules: stackingRules(100),
      checkouts: Array.from({ length: 40 }, (_, serial) =>
        checkout(
          serial,
          'supermarket',
          Array.from({ length: 500 }, (_, line): [string, number] => ['groceries', 1_000 + line]),
        ),
      ),
    }),
  },
];

function request(
  url: string,
  options: { method: string; token?: string; body?: Buffer },
): Promise<{ status: number; bytes: Buffer }> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = {};
    if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
    if (options.body !== undefined) {
      headers['content-type'] = 'application/json';
      headers['content-length'] = String(options.body.length);
    }
    const outgoing = http.request(url, { method: options.method, headers }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, bytes: Buffer.concat(chunks) }));
      response.on('error', reject);
    });
    outgoing.on('error', reject);
    outgoing.end(options.body);
  });
}

/** The loop's stalls, busy time and /healthz gaps while `during` runs (a preview, or idling). */
async function observe<T>(url: string, during: () => Promise<T>) {
  const delay = monitorEventLoopDelay({ resolution: 10 });
  let done = false;
  let probes = 0;
  let longestGapMs = 0;
  const startedAt = performance.now();
  // The longest time between two /healthz answers (or the start and the first): whichever
  // of the probe's sleep or request a stall falls in, the gap holds it.
  const probing = (async () => {
    let answeredAt = startedAt;
    while (!done) {
      await request(`${url}/healthz`, { method: 'GET' });
      if (!done) {
        probes += 1;
        longestGapMs = Math.max(longestGapMs, performance.now() - answeredAt);
        answeredAt = performance.now();
      }
      await sleep(PROBE_INTERVAL_MS);
    }
  })();
  delay.enable();
  const utilisation = performance.eventLoopUtilization();
  const result = await during();
  const elapsedMs = performance.now() - startedAt;
  const { active } = performance.eventLoopUtilization(utilisation);
  delay.disable();
  done = true;
  await probing;
  const figures =
    `event loop longest stall ${(delay.max / 1e6).toFixed(0)} ms (p99 ${(delay.percentile(99) / 1e6).toFixed(0)} ms), ` +
    `busy ${active.toFixed(0)} ms of ${elapsedMs.toFixed(0)}; ` +
    `${probes} /healthz answered, longest gap between answers ${longestGapMs.toFixed(0)} ms`;
  return { result, elapsedMs, figures };
}

async function measure(url: string, shape: Shape): Promise<void> {
  const body = Buffer.from(JSON.stringify(shape.body()));
  const token = operatorToken(['finance'], { subject: testSubject('bench') });
  await request(`${url}/healthz`, { method: 'GET' });
  const {
    result: answer,
    elapsedMs,
    figures,
  } = await observe(url, () => request(`${url}/v1/rules/preview`, { method: 'POST', token, body }));
  const json = JSON.parse(answer.bytes.toString('utf8')) as { code?: string; totals?: unknown };
  const outcome = answer.status === 200 ? 'priced' : `${json.code ?? ''}`;
  console.log(`${shape.key}) ${shape.label}`);
  console.log(
    `   HTTP ${answer.status} ${outcome}: ${(body.length / MIB).toFixed(2)} MiB in, ${(answer.bytes.length / MIB).toFixed(1)} MiB out, ${(elapsedMs / 1000).toFixed(2)} s`,
  );
  console.log(`   ${figures}`);
}

async function main(): Promise<void> {
  const config = loadDiscountRulesConfig(environment);
  await dropDatabase(config.POSTGRES_URL, config.DATABASE_NAME);
  const running = await startService(discountRulesService(config));
  const picked = (process.env.BENCH_SHAPES ?? 'a,b,c,d').split(',');
  try {
    // One small preview first, so that the figures do not include warming up.
    await measure(running.url, {
      key: '0',
      label: 'warm-up',
      body: () => ({ rules: SEED_RULES, checkouts: seedCheckouts(10, 1) }),
    });
    // The machine's own noise: the same figures over 2 s with no preview (other work on the cores shows here).
    console.log(
      `load average ${os
        .loadavg()
        .map((load) => load.toFixed(1))
        .join(', ')} on ${os.cpus().length} cores`,
    );
    const idle = await observe(running.url, () => sleep(2_000));
    console.log(`idle (no preview, 2 s)\n   ${idle.figures}`);
    for (const shape of SHAPES.filter((candidate) => picked.includes(candidate.key)))
      await measure(running.url, shape);
  } finally {
    await running.shutdown('bench over');
    await dropDatabase(config.POSTGRES_URL, config.DATABASE_NAME);
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
