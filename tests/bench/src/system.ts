/**
 * The services of the registry as separate processes (`node services/<name>/dist/main.js`, what
 * `npm start` runs), each on a fresh database, with a topic and Redis key prefix of their own
 * so that the run touches nothing else on the machine. Logs go to files under the run's folder.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { SERVICE_NAMES, urlVariable } from '@puhui/config';
import type { ServiceName } from '@puhui/config';
import { dropDatabase } from '@puhui/postgres';

/** The services of the registry (libs/config/src/services.json): the suite starts them all. */
export { SERVICE_NAMES };
export type { ServiceName };

export const REPOSITORY_ROOT = path.resolve(__dirname, '../../..');
const READY_TIMEOUT_MS = 120_000;
const STOP_TIMEOUT_MS = 15_000;

export interface RunningService {
  name: ServiceName;
  url: string;
  port: number;
  database: string;
  child: ChildProcess;
}

export interface System {
  services: Record<ServiceName, RunningService>;
  topicPrefix: string;
  redisKeyPrefix: string;
  stop: () => Promise<void>;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function waitReady(service: RunningService): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    if (service.child.exitCode !== null) {
      throw new Error(`${service.name} exited with ${service.child.exitCode} before it was ready`);
    }
    const ok = await fetch(`${service.url}/readyz`).then(
      (response) => response.status === 200,
      () => false,
    );
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`${service.name} was not ready within ${READY_TIMEOUT_MS} ms`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

export async function startSystem(options: {
  postgresUrl: string;
  suffix: string;
  logDirectory: string;
  environment?: Record<string, string>;
  /** Extra node flags per service, e.g. `--cpu-prof` for a profile of the settlement service. */
  nodeArguments?: Partial<Record<ServiceName, string[]>>;
}): Promise<System> {
  const topicPrefix = `bench-${options.suffix}.`;
  const redisKeyPrefix = `bench:${options.suffix}:`;
  const ports = {} as Record<ServiceName, number>;
  for (const name of SERVICE_NAMES) ports[name] = await freePort();
  // Each service is told where every other answers (settlement reads DISCOUNT_RULES_URL).
  const serviceUrls = Object.fromEntries(
    SERVICE_NAMES.map((name) => [urlVariable(name), `http://127.0.0.1:${ports[name]}`]),
  );
  const services = {} as Record<ServiceName, RunningService>;
  for (const name of SERVICE_NAMES) {
    const database = `puhui_bench_${name.replace(/-/gu, '_')}_${options.suffix}`;
    await dropDatabase(options.postgresUrl, database);
    const entry = path.join(REPOSITORY_ROOT, 'services', name, 'dist', 'main.js');
    const child = spawn(process.execPath, [...(options.nodeArguments?.[name] ?? []), entry], {
      cwd: REPOSITORY_ROOT,
      env: {
        ...process.env,
        NODE_ENV: 'development',
        LOG_LEVEL: 'warn',
        PORT: String(ports[name]),
        DATABASE_NAME: database,
        POSTGRES_URL: options.postgresUrl,
        KAFKA_TOPIC_PREFIX: topicPrefix,
        REDIS_KEY_PREFIX: redisKeyPrefix,
        ...serviceUrls,
        // Nothing settles by itself while the suite runs; it asks for each run.
        SETTLEMENT_CHECK_INTERVAL_MS: String(3_600_000),
        // The load reuses each card many times a minute; the per-card hourly limit would refuse it.
        UNION_FUNDED_CAPTURES_PER_CARD_HOUR_MAX: String(1_000_000),
        ...options.environment,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const log = createWriteStream(path.join(options.logDirectory, `${name}.log`));
    child.stdout?.pipe(log);
    child.stderr?.pipe(log);
    services[name] = { name, url: `http://127.0.0.1:${ports[name]}`, port: ports[name], database, child };
  }
  await Promise.all(SERVICE_NAMES.map((name) => waitReady(services[name])));

  const stop = async () => {
    await Promise.all(
      SERVICE_NAMES.map(async (name) => {
        const { child } = services[name];
        if (child.exitCode !== null || child.signalCode !== null) return;
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
        await exited;
        clearTimeout(timer);
      }),
    );
    for (const name of SERVICE_NAMES) await dropDatabase(options.postgresUrl, services[name].database);
  };
  return { services, topicPrefix, redisKeyPrefix, stop };
}
