/**
 * Benchmark (not a test): the latency of signing in with a password — one HTTP call, one
 * Argon2id verification (m = 19 MiB, t = 2, p = 1) and the session's rows — 20 times in a row
 * after 3 warm-ups, and of the Argon2 verification alone. Prints p50 and p95 of each.
 *
 *   npm run bench -w @puhui/console
 *
 * Runs the console in this process on its own database (`bench_console`, recreated).
 */
import { randomUUID } from 'node:crypto';
import { verify } from '@node-rs/argon2';
import { dropDatabase } from '@puhui/postgres';
import { startService } from '@puhui/service';
import { loadConsoleConfig } from '../src/config';
import { ARGON2_PARAMETERS, hashPassword } from '../src/domain/passwords';
import { consoleService } from '../src/service';
import { insertAccount } from '../src/store/accounts';

const SIGN_INS = Number(process.env.BENCH_SIGN_INS ?? 20);
const WARM_UPS = 3;
const ORIGIN = 'http://localhost:4104';

function percentile(sorted: readonly number[], fraction: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil(fraction * sorted.length) - 1)] ?? Number.NaN;
}

function summary(samples: readonly number[]): string {
  const sorted = [...samples].sort((a, b) => a - b);
  return `p50 ${percentile(sorted, 0.5).toFixed(1)} ms, p95 ${percentile(sorted, 0.95).toFixed(1)} ms, max ${sorted.at(-1)?.toFixed(1)} ms (n=${sorted.length})`;
}

async function timed(work: () => Promise<unknown>): Promise<number> {
  const startedAt = process.hrtime.bigint();
  await work();
  return Number(process.hrtime.bigint() - startedAt) / 1e6;
}

async function main(): Promise<void> {
  const config = loadConsoleConfig({
    ...process.env,
    // A benchmark runs on development secrets (decision 0020: an unset NODE_ENV is production).
    NODE_ENV: process.env.NODE_ENV ?? 'development',
    DATABASE_NAME: 'bench_console',
    PORT: '0',
    LOG_LEVEL: 'warn',
    CONSOLE_PUBLIC_ORIGIN: ORIGIN,
    CONSOLE_SIGN_IN_RATE_LIMIT_PER_MINUTE: '1000',
  });
  await dropDatabase(config.POSTGRES_URL, config.DATABASE_NAME);
  const service = await startService(consoleService(config));
  try {
    const password = 'a bench password long enough';
    const passwordHash = await hashPassword(password);
    await insertAccount(service.dependencies.pool, {
      id: randomUUID(),
      username: 'bench.auditor',
      display_name: 'Bench',
      roles: ['auditor'],
      merchant_id: null,
      status: 'active',
      password_hash: passwordHash,
    });
    const signIn = async () => {
      const response = await fetch(`${service.url}/console/v1/session`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', origin: ORIGIN },
        body: JSON.stringify({ username: 'bench.auditor', password }),
      });
      if (response.status !== 200) throw new Error(`sign-in answered ${response.status}`);
      await response.arrayBuffer();
    };
    for (let warmUp = 0; warmUp < WARM_UPS; warmUp += 1) await signIn();
    const signIns: number[] = [];
    for (let index = 0; index < SIGN_INS; index += 1) signIns.push(await timed(signIn));
    const verifications: number[] = [];
    for (let index = 0; index < SIGN_INS; index += 1)
      verifications.push(await timed(() => verify(passwordHash, password)));
    const { memoryCost, timeCost, parallelism } = ARGON2_PARAMETERS;
    process.stdout.write(
      [
        `Argon2id m=${memoryCost} KiB, t=${timeCost}, p=${parallelism}`,
        `  verification alone: ${summary(verifications)}`,
        `  sign-in over HTTP:  ${summary(signIns)}`,
        '',
      ].join('\n'),
    );
  } finally {
    await service.shutdown('bench over');
    await dropDatabase(config.POSTGRES_URL, config.DATABASE_NAME);
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`bench failed: ${String((error as Error).stack ?? error)}\n`);
  process.exit(1);
});
