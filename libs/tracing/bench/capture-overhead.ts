/**
 * What tracing costs a capture (decision 0026): the four services from dist/ (build first), once
 * with `OTEL_TRACES_EXPORTER=none` and once with `otlp` posting to a receiver in this process
 * that reads and drops every request, alternating (off, on, off, on, …) so that the machine's
 * drift falls on both. Each run captures CAPTURES_PER_RUN checkouts at CONCURRENCY, after a
 * warm-up, and reports client latency percentiles, captures per second, and settlement's CPU
 * time per capture (from /proc: what the SDK's span work adds, less noisy than latency on a
 * shared machine).
 *
 *   npm run bench -w @puhui/tracing            (PUHUI_TRACING_BENCH_PAIRS=2 by default)
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { loadavg } from 'node:os';
import {
  capture,
  checkoutBody,
  onboardMerchant,
  registerCard,
  waitUntilSettlementAccepts,
} from '../../../tests/e2e/test/puhui';
import { PuhuiSystem } from '../../../tests/e2e/test/system';

const CAPTURES_PER_RUN = 400;
const WARM_UP_CAPTURES = 50;
const CONCURRENCY = 8;
const PAIRS = Number(process.env.PUHUI_TRACING_BENCH_PAIRS ?? '2');
/** Linux's clock ticks per second for /proc/<pid>/stat (USER_HZ). */
const CLOCK_TICKS_PER_SECOND = 100;

interface RunResult {
  mode: 'off' | 'on';
  capturesPerSecond: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  settlementCpuMsPerCapture: number;
  spansReceived: number;
}

function cpuMsOf(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  // After "pid (comm) ": state is field 0, utime field 11, stime field 12.
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS_PER_SECOND;
}

function percentile(sorted: readonly number[], fraction: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * fraction))] ?? Number.NaN;
}

/** Counts the spans posted and drops them. */
async function startSink(): Promise<{ url: string; spans: () => number; stop: () => Promise<void> }> {
  let spans = 0;
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      spans += (
        Buffer.concat(chunks)
          .toString('utf8')
          .match(/"spanId"/gu) ?? []
      ).length;
      response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    spans: () => spans,
    stop: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

async function run(mode: 'off' | 'on', serial: number): Promise<RunResult> {
  const sink = await startSink();
  const system = await PuhuiSystem.start({
    environment: {
      LOG_LEVEL: 'warn',
      // No rule is published, so every capture reads its rate sheet through from discount-rules
      // over HTTP (more spans, two services); 300 ms (the default) fails captures when other
      // suites hold the load average above 20, which would measure the machine, not tracing.
      RATE_SHEET_TIMEOUT_MS: '5000',
      ...(mode === 'on' ? { OTEL_TRACES_EXPORTER: 'otlp', OTEL_EXPORTER_OTLP_ENDPOINT: sink.url } : {}),
    },
  });
  try {
    const merchant = await onboardMerchant(system, 'supermarket');
    await waitUntilSettlementAccepts(system, merchant);
    const card = await registerCard(system, 71_000 + serial);
    const captureOnce = async (): Promise<number> => {
      const startedAt = performance.now();
      const answer = await capture(
        system,
        merchant,
        checkoutBody(card, [{ category: 'general', amount_minor: 1_000 }]),
        randomUUID(),
      );
      if (answer.status !== 201)
        throw new Error(`capture answered ${answer.status}: ${JSON.stringify(answer.body)}`);
      return performance.now() - startedAt;
    };
    const inParallel = async (count: number): Promise<number[]> => {
      const latencies: number[] = [];
      let started = 0;
      await Promise.all(
        Array.from({ length: CONCURRENCY }, async () => {
          while (started < count) {
            started += 1;
            latencies.push(await captureOnce());
          }
        }),
      );
      return latencies;
    };
    await inParallel(WARM_UP_CAPTURES);
    const pid = system.services['transaction-settlement'].pid;
    if (pid === undefined) throw new Error('settlement has no pid');
    const cpuBeforeMs = cpuMsOf(pid);
    const startedAt = performance.now();
    const latencies = (await inParallel(CAPTURES_PER_RUN)).sort((a, b) => a - b);
    const elapsedMs = performance.now() - startedAt;
    const cpuMs = cpuMsOf(pid) - cpuBeforeMs;
    return {
      mode,
      capturesPerSecond: Math.round((CAPTURES_PER_RUN * 1000) / elapsedMs),
      p50Ms: Math.round(percentile(latencies, 0.5) * 10) / 10,
      p95Ms: Math.round(percentile(latencies, 0.95) * 10) / 10,
      p99Ms: Math.round(percentile(latencies, 0.99) * 10) / 10,
      settlementCpuMsPerCapture: Math.round((cpuMs / CAPTURES_PER_RUN) * 100) / 100,
      spansReceived: sink.spans(),
    };
  } finally {
    await system.stop();
    await sink.stop();
  }
}

async function main(): Promise<void> {
  const results: RunResult[] = [];
  for (let pair = 0; pair < PAIRS; pair += 1) {
    for (const mode of ['off', 'on'] as const) {
      const result = await run(mode, results.length);
      results.push(result);
      process.stdout.write(`${JSON.stringify({ ...result, load_average_1m: loadavg()[0] })}\n`);
    }
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${String((error as Error).stack ?? error)}\n`);
  process.exit(1);
});
