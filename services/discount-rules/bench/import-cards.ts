/**
 * Benchmark (not a test): 263,000 cards — the programme's card count — streamed as CSV
 * through the service's HTTP import, then the same file again. Prints time, rows per second,
 * and resident memory sampled every 100 ms (peak, and at 25/50/75/100 % of the rows sent) to
 * show that memory stays flat however big the file is.
 *
 *   npm run bench -w @puhui/discount-rules
 *
 * Runs the service in this process on its own database (`bench_discount_rules`, recreated),
 * topic prefix `bench.` and Redis prefix `bench:`, against the local Postgres, Redis and Kafka.
 */
import http from 'node:http';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { generateTestPan } from '@puhui/cards';
import { TOPICS, dlqTopicOf } from '@puhui/contracts';
import { createKafka } from '@puhui/events';
import { createLogger } from '@puhui/logging';
import { dropDatabase } from '@puhui/postgres';
import { startService } from '@puhui/service';
import { operatorToken, testSubject } from '@puhui/testing';
import { loadDiscountRulesConfig } from '../src/config';
import { discountRulesService } from '../src/service';

const CARDS = Number(process.env.BENCH_CARDS ?? 263_000);
/** The programme's member unions. */
const UNIONS = 4_612;
const TIERS = ['standard', 'standard', 'standard', 'standard', 'model_worker', 'hardship'];
const ROWS_PER_CHUNK = 1_000;
const SAMPLE_INTERVAL_MS = 100;
const MIB = 1024 * 1024;
/** How long to wait for the relay to publish every event after the imports. */
const RELAY_WAIT_MS = Number(process.env.BENCH_RELAY_WAIT_MS ?? 10 * 60_000);

const environment = {
  ...process.env,
  // A benchmark runs on development secrets (decision 0020: an unset NODE_ENV is production).
  NODE_ENV: process.env.NODE_ENV ?? 'development',
  DATABASE_NAME: 'bench_discount_rules',
  KAFKA_TOPIC_PREFIX: 'bench.',
  REDIS_KEY_PREFIX: 'bench:',
  PORT: '0',
  LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
};

class MemorySampler {
  peak = 0;
  private readonly timer = setInterval(() => this.sample(), SAMPLE_INTERVAL_MS);

  sample(): number {
    const rss = process.memoryUsage().rss;
    this.peak = Math.max(this.peak, rss);
    return rss;
  }

  stop(): void {
    clearInterval(this.timer);
  }
}

/** The CSV, generated as it is sent; `onRows` hears how many data rows have gone out. */
function cardsCsv(onRows: (rows: number) => void): Readable {
  return Readable.from(
    (function* generate() {
      yield 'card_number,member_id,union_id,tier\n';
      for (let start = 0; start < CARDS; start += ROWS_PER_CHUNK) {
        const lines: string[] = [];
        for (let serial = start; serial < Math.min(CARDS, start + ROWS_PER_CHUNK); serial += 1) {
          const union = `union-${String(serial % UNIONS).padStart(4, '0')}`;
          lines.push(`${generateTestPan(serial)},M${serial},${union},${TIERS[serial % TIERS.length]}`);
        }
        yield `${lines.join('\n')}\n`;
        onRows(Math.min(CARDS, start + ROWS_PER_CHUNK));
      }
    })(),
    { objectMode: false },
  );
}

function post(
  url: string,
  token: string,
  body: Readable,
): Promise<{ status: number; json: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const request = http.request(
      `${url}/v1/cards/imports`,
      { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'text/csv' } },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () =>
          resolve({
            status: response.statusCode ?? 0,
            json: JSON.parse(Buffer.concat(chunks).toString('utf8')),
          }),
        );
        response.on('error', reject);
      },
    );
    request.on('error', reject);
    body.pipe(request);
  });
}

async function importOnce(label: string, url: string, token: string, memory: MemorySampler): Promise<void> {
  const marks = new Map<number, number>();
  const quarters = [0.25, 0.5, 0.75, 1].map((share) => Math.round(CARDS * share));
  const startedAt = process.hrtime.bigint();
  const response = await post(
    url,
    token,
    cardsCsv((rows) => {
      for (const quarter of quarters)
        if (rows >= quarter && !marks.has(quarter)) marks.set(quarter, memory.sample());
    }),
  );
  const seconds = Number(process.hrtime.bigint() - startedAt) / 1e9;
  const { status, json } = response;
  const counts = `inserted ${json.inserted}, unchanged ${json.unchanged}, rejected ${json.rejected}`;
  console.log(`${label}: HTTP ${status}, ${json.rows_total} rows (${counts}) in ${seconds.toFixed(1)} s`);
  console.log(`  ${Math.round(CARDS / seconds).toLocaleString('en')} rows/s`);
  const rssAt = quarters.map(
    (quarter, index) => `${25 * (index + 1)}%: ${((marks.get(quarter) ?? 0) / MIB).toFixed(0)} MiB`,
  );
  console.log(`  RSS when rows sent ${rssAt.join(', ')}; peak so far ${(memory.peak / MIB).toFixed(0)} MiB`);
}

async function main(): Promise<void> {
  const config = loadDiscountRulesConfig(environment);
  await dropDatabase(config.POSTGRES_URL, config.DATABASE_NAME);
  const memory = new MemorySampler();
  const running = await startService(discountRulesService(config));
  // A fresh 5-minute token for each import: a large one runs for minutes.
  const token = () => operatorToken(['admin'], { subject: testSubject('bench') });
  try {
    console.log(`RSS at start ${(memory.sample() / MIB).toFixed(0)} MiB`);
    await importOnce('first import', running.url, token(), memory);
    await importOnce('second import (same file)', running.url, token(), memory);
    const { pool } = running.dependencies;
    const pending = async () =>
      Number(
        (await pool.query<{ count: string }>('SELECT count(*) FROM outbox_events WHERE published_at IS NULL'))
          .rows[0]?.count,
      );
    const relayStartedAt = Date.now();
    console.log(`card.registered events still in the outbox: ${await pending()}`);
    while ((await pending()) > 0 && Date.now() - relayStartedAt < RELAY_WAIT_MS) await sleep(500);
    console.log(
      `outbox relayed to Kafka ${((Date.now() - relayStartedAt) / 1000).toFixed(1)} s after the imports`,
    );
  } finally {
    memory.stop();
    console.log(`peak RSS ${(memory.peak / MIB).toFixed(0)} MiB`);
    await running.shutdown('bench over');
    await dropDatabase(config.POSTGRES_URL, config.DATABASE_NAME);
    await deleteBenchTopics(config.KAFKA_BROKERS);
  }
}

/** The bench's topics hold 263,000 events nobody needs afterwards. */
async function deleteBenchTopics(brokers: readonly string[]): Promise<void> {
  const admin = createKafka({
    brokers,
    clientId: 'bench',
    logger: createLogger({ service: 'bench', level: 'silent' }),
  }).admin();
  await admin.connect();
  try {
    const topics = [TOPICS.rules, TOPICS.cards, TOPICS.merchants].flatMap((topic) => [
      `bench.${topic}`,
      `bench.${dlqTopicOf(topic)}`,
    ]);
    const existing = new Set(await admin.listTopics());
    await admin.deleteTopics({ topics: topics.filter((topic) => existing.has(topic)) });
  } finally {
    await admin.disconnect();
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
