/**
 * Capture throughput and latency against the real Postgres, Redis and Kafka (start them with
 * `npm run infra:up`). Prints figures; asserts nothing. Usage: `npm run bench` (from the root,
 * or in this workspace); CAPTURES and CONCURRENCY override the defaults.
 */
import { randomUUID } from 'node:crypto';
import { SettlementHarness, percentOffRule } from '../test/support';

const CAPTURES = Number(process.env.CAPTURES ?? 2000);
const CONCURRENCY = Number(process.env.CONCURRENCY ?? 20);
const CARDS = 200;

function percentile(sorted: number[], fraction: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * fraction))] ?? 0;
}

async function main(): Promise<void> {
  const harness = new SettlementHarness();
  await harness.start();
  try {
    const merchant = await harness.addMerchant('supermarket');
    const budgetId = await harness.addBudget('bench budget');
    await harness.topUp(budgetId, 1_000_000_000);
    const rule = percentOffRule({
      category: 'supermarket',
      bps: 500,
      union_share_bps: 5000,
      budget_id: budgetId,
    });
    const cards = await Promise.all(
      Array.from({ length: CARDS }, (_, index) => harness.addCard(50_000 + index, [rule])),
    );
    const latencies: number[] = [];
    let next = 0;
    let failures = 0;
    const startedAt = process.hrtime.bigint();
    const worker = async () => {
      while (next < CAPTURES) {
        const index = next;
        next += 1;
        const began = process.hrtime.bigint();
        const response = await harness.call('POST', '/v1/checkouts', {
          token: merchant.secret,
          idempotencyKey: randomUUID(),
          body: {
            card_token: cards[index % CARDS]?.card_token,
            currency: 'CNY',
            reference: `BENCH-${index}`,
            lines: [{ category: 'general', amount_minor: 1000 + index }],
          },
        });
        if (response.status !== 201) failures += 1;
        latencies.push(Number(process.hrtime.bigint() - began) / 1e6);
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    const seconds = Number(process.hrtime.bigint() - startedAt) / 1e9;
    latencies.sort((a, b) => a - b);
    console.log(
      `captures: ${CAPTURES} at concurrency ${CONCURRENCY} over ${CARDS} cards and one shared budget\n` +
        `  ${(CAPTURES / seconds).toFixed(0)} captures/s, ${seconds.toFixed(1)} s, failures ${failures}\n` +
        `  latency ms: p50 ${percentile(latencies, 0.5).toFixed(1)}, p95 ${percentile(latencies, 0.95).toFixed(1)}, ` +
        `p99 ${percentile(latencies, 0.99).toFixed(1)}, max ${(latencies.at(-1) ?? 0).toFixed(1)}`,
    );
  } finally {
    await harness.close();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
