/**
 * Open-loop load generator, run as its own process (forked by the suite). Requests are due
 * at fixed intervals (the target rate) whether or not earlier ones have answered, and each
 * latency is measured from when its request was due, not from when it was sent, so a stalled
 * server shows up as latency instead of silently lowering the rate (coordinated omission).
 * Keep-alive HTTP/1.1 over a bounded set of connections; a request waiting for a free
 * connection is waiting, and that wait counts.
 */
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import { performance } from 'node:perf_hooks';

export interface LoadJob {
  url: string;
  secrets: string[];
  cards: string[];
  rate: number;
  durationMs: number;
  connections: number;
  label: string;
}

export interface LoadResult {
  label: string;
  target_rate: number;
  duration_s: number;
  sent: number;
  ok: number;
  errors: number;
  statuses: Record<string, number>;
  /** Successful completions per second over the window the requests were due in. */
  achieved_rate: number;
  /** Every request's latency (ms) from when it was due. */
  latencies: number[];
}

const DRAIN_TIMEOUT_MS = 15_000;

function runJob(job: LoadJob, agent: http.Agent): Promise<LoadResult> {
  const target = new URL('/v1/checkouts', job.url);
  const total = Math.round((job.rate * job.durationMs) / 1000);
  const intervalMs = 1000 / job.rate;
  const latencies: number[] = [];
  const statuses: Record<string, number> = {};
  let sent = 0;
  let finished = 0;
  let ok = 0;
  let okInWindow = 0;
  const start = performance.now();
  const windowEnd = start + job.durationMs;

  return new Promise((resolve) => {
    const done = () => {
      const errors = sent - ok;
      resolve({
        label: job.label,
        target_rate: job.rate,
        duration_s: job.durationMs / 1000,
        sent,
        ok,
        errors,
        statuses,
        achieved_rate: Math.round((okInWindow / job.durationMs) * 1000 * 10) / 10,
        latencies,
      });
    };
    const record = (status: string, dueAt: number) => {
      const now = performance.now();
      latencies.push(now - dueAt);
      statuses[status] = (statuses[status] ?? 0) + 1;
      if (status === '201') {
        ok += 1;
        if (now <= windowEnd + 1000) okInWindow += 1;
      }
      finished += 1;
      if (finished === total) done();
    };
    const fire = (index: number, dueAt: number) => {
      sent += 1;
      const secret = job.secrets[index % job.secrets.length] as string;
      const card = job.cards[(index * 7919) % job.cards.length] as string;
      const body = JSON.stringify({
        card_number: card,
        currency: 'CNY',
        reference: `${job.label}-${index}`,
        lines: [{ category: 'general', amount_minor: 1_000 + ((index * 37) % 49_000), quantity: 1 }],
      });
      const request = http.request(
        target,
        {
          method: 'POST',
          agent,
          headers: {
            authorization: `Bearer ${secret}`,
            'content-type': 'application/json',
            'content-length': Buffer.byteLength(body),
            'idempotency-key': randomUUID(),
          },
        },
        (response) => {
          response.on('data', () => undefined);
          response.on('end', () => record(String(response.statusCode), dueAt));
          response.on('error', () => record('response_error', dueAt));
        },
      );
      request.on('error', () => record('connection_error', dueAt));
      request.end(body);
    };
    let next = 0;
    const tick = () => {
      const now = performance.now();
      while (next < total && start + next * intervalMs <= now) {
        fire(next, start + next * intervalMs);
        next += 1;
      }
      if (next < total) setTimeout(tick, 1);
    };
    tick();
    setTimeout(() => {
      if (finished < total) {
        statuses.unfinished = total - finished;
        done();
      }
    }, job.durationMs + DRAIN_TIMEOUT_MS).unref();
  });
}

const agents = new Map<number, http.Agent>();

process.on('message', (message: { job?: LoadJob; exit?: boolean }) => {
  if (message.exit === true) process.exit(0);
  const job = message.job;
  if (job === undefined) return;
  let agent = agents.get(job.connections);
  if (agent === undefined) {
    agent = new http.Agent({ keepAlive: true, maxSockets: job.connections });
    agents.set(job.connections, agent);
  }
  void runJob(job, agent).then((result) => process.send?.({ result }));
});
