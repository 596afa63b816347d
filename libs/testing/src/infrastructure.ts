/**
 * How tests find Postgres, Redis and Kafka, each on its own, in this order:
 *   1. connection settings from the environment (POSTGRES_URL, REDIS_URL, KAFKA_BROKERS);
 *   2. testcontainers, when a Docker engine answers;
 *   3. the local services: Postgres and Redis as the machine runs them, Kafka started
 *      through infra/ when it is not running yet.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createConnection } from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';

export type InfrastructureSource = 'environment' | 'testcontainers' | 'local';

export interface ResolvedService {
  url: string;
  source: InfrastructureSource;
}

export interface Infrastructure {
  postgres: ResolvedService;
  redis: ResolvedService;
  kafka: ResolvedService;
  /** Stops what this resolution started (containers); local services are left running. */
  stop: () => Promise<void>;
}

const REPOSITORY_ROOT = path.resolve(__dirname, '../../..');
const LOCAL = {
  postgres: 'postgres://postgres@127.0.0.1:5432',
  redis: 'redis://127.0.0.1:6379',
  kafka: '127.0.0.1:9092',
};
const PROBE_TIMEOUT_MS = 1000;
const DOCKER_PROBE_TIMEOUT_MS = 5000;
const INFRA_UP_TIMEOUT_MS = 5 * 60_000;

export function canConnect(host: string, port: number, timeoutMs = PROBE_TIMEOUT_MS): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host, port });
    const finish = (answered: boolean) => {
      socket.destroy();
      resolve(answered);
    };
    socket.setTimeout(timeoutMs, () => finish(false));
    socket.once('connect', () => finish(true));
    socket.once('error', () => finish(false));
  });
}

function hostAndPort(address: string, defaultPort: number): { host: string; port: number } {
  const withScheme = address.includes('://') ? address : `tcp://${address}`;
  const url = new URL(withScheme);
  return { host: url.hostname, port: url.port === '' ? defaultPort : Number(url.port) };
}

async function dockerAnswers(environment: NodeJS.ProcessEnv): Promise<boolean> {
  const socketPresent = existsSync('/var/run/docker.sock') || environment.DOCKER_HOST !== undefined;
  if (!socketPresent || environment.PUHUI_TESTCONTAINERS === 'off') return false;
  try {
    const { getContainerRuntimeClient } = await import('testcontainers');
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error('docker did not answer')), DOCKER_PROBE_TIMEOUT_MS);
    });
    await Promise.race([getContainerRuntimeClient(), timeout]).finally(() => clearTimeout(timer));
    return true;
  } catch {
    return false;
  }
}

async function startLocalKafka(): Promise<void> {
  const { host, port } = hostAndPort(LOCAL.kafka, 9092);
  if (await canConnect(host, port)) return;
  process.stderr.write('Kafka is not running on 127.0.0.1:9092: starting it through infra/ ...\n');
  await promisify(execFile)('bash', [path.join(REPOSITORY_ROOT, 'infra/bin/infra'), 'up', '--kafka-only'], {
    timeout: INFRA_UP_TIMEOUT_MS,
  }).catch((error: { stdout?: string; stderr?: string }) => {
    throw new Error(`infra up failed:\n${error.stdout ?? ''}${error.stderr ?? ''}`);
  });
}

async function requireLocal(
  name: string,
  url: string,
  defaultPort: number,
  howToStart: string,
): Promise<void> {
  const { host, port } = hostAndPort(url, defaultPort);
  if (!(await canConnect(host, port))) {
    throw new Error(`${name} does not answer on ${host}:${port}. ${howToStart}`);
  }
}

export async function resolveInfrastructure(environment = process.env): Promise<Infrastructure> {
  const stops: Array<() => Promise<unknown>> = [];
  const fromEnvironment = {
    postgres: environment.POSTGRES_URL,
    redis: environment.REDIS_URL,
    kafka: environment.KAFKA_BROKERS,
  };
  const needsMore = Object.values(fromEnvironment).some((value) => value === undefined || value === '');
  const useContainers = needsMore && (await dockerAnswers(environment));

  const resolve = async (
    name: keyof typeof LOCAL,
    startContainer: () => Promise<string>,
    startLocal: () => Promise<void>,
  ): Promise<ResolvedService> => {
    const configured = fromEnvironment[name];
    if (configured !== undefined && configured !== '') return { url: configured, source: 'environment' };
    if (useContainers) return { url: await startContainer(), source: 'testcontainers' };
    await startLocal();
    return { url: LOCAL[name], source: 'local' };
  };

  const postgres = await resolve(
    'postgres',
    async () => {
      const { PostgreSqlContainer } = await import('@testcontainers/postgresql');
      const container = await new PostgreSqlContainer('postgres:16-alpine')
        .withEnvironment({ POSTGRES_HOST_AUTH_METHOD: 'trust' })
        .start();
      stops.push(() => container.stop());
      return `postgres://${container.getUsername()}:${container.getPassword()}@${container.getHost()}:${container.getPort()}`;
    },
    () =>
      requireLocal(
        'Postgres',
        LOCAL.postgres,
        5432,
        "Start it with 'pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start', or set POSTGRES_URL.",
      ),
  );
  const redis = await resolve(
    'redis',
    async () => {
      const { RedisContainer } = await import('@testcontainers/redis');
      const container = await new RedisContainer('redis:7-alpine').start();
      stops.push(() => container.stop());
      return container.getConnectionUrl();
    },
    () =>
      requireLocal(
        'Redis',
        LOCAL.redis,
        6379,
        'Start it with \'redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save ""\', or set REDIS_URL.',
      ),
  );
  const kafka = await resolve(
    'kafka',
    async () => {
      const { KafkaContainer } = await import('@testcontainers/kafka');
      const container = await new KafkaContainer('confluentinc/cp-kafka:7.9.0').withKraft().start();
      stops.push(() => container.stop());
      return `${container.getHost()}:${container.getMappedPort(9093)}`;
    },
    startLocalKafka,
  );
  return {
    postgres,
    redis,
    kafka,
    stop: async () => {
      for (const stop of stops.reverse()) await stop();
    },
  };
}
