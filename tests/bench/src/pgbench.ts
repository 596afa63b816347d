/** pgbench's built-in TPC-B-like script on the same Postgres, as the reference for checkouts. */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { dropDatabase } from '@puhui/postgres';

const run = promisify(execFile);
const DATABASE = 'puhui_bench_pgbench';

export interface PgbenchResult {
  script: 'tpcb-like (built-in)';
  scale: number;
  clients: number;
  threads: number;
  seconds: number;
  protocol: 'prepared';
  tps: number;
  latency_average_ms: number;
  transactions: number;
}

export async function runPgbench(
  postgresUrl: string,
  options: { scale: number; clients: number; seconds: number },
): Promise<PgbenchResult> {
  const binary = process.env.PGBENCH ?? 'pgbench';
  await dropDatabase(postgresUrl, DATABASE);
  await run('psql', [`${postgresUrl}/postgres`, '-qc', `CREATE DATABASE ${DATABASE}`]);
  try {
    const url = `${postgresUrl}/${DATABASE}`;
    await run(binary, ['-i', '-q', '-s', String(options.scale), url], { maxBuffer: 16 * 1024 * 1024 });
    const threads = 2;
    const { stdout } = await run(
      binary,
      [
        '-c',
        String(options.clients),
        '-j',
        String(threads),
        '-T',
        String(options.seconds),
        '-M',
        'prepared',
        url,
      ],
      { maxBuffer: 16 * 1024 * 1024 },
    );
    const tps = /tps = ([\d.]+) \(without initial connection time\)/u.exec(stdout);
    const latency = /latency average = ([\d.]+) ms/u.exec(stdout);
    const transactions = /number of transactions actually processed: (\d+)/u.exec(stdout);
    if (tps === null) throw new Error(`could not read pgbench's tps from:\n${stdout}`);
    return {
      script: 'tpcb-like (built-in)',
      scale: options.scale,
      clients: options.clients,
      threads,
      seconds: options.seconds,
      protocol: 'prepared',
      tps: Math.round(Number(tps[1]) * 10) / 10,
      latency_average_ms: Number(latency?.[1] ?? Number.NaN),
      transactions: Number(transactions?.[1] ?? 0),
    };
  } finally {
    await dropDatabase(postgresUrl, DATABASE);
  }
}
