/**
 * The end-to-end harness: the services of the registry as separate OS processes (`node
 * services/<name>/dist/main.js`, what `npm start` runs) on the real Postgres, Redis and Kafka,
 * isolated per run (own databases, topic prefix, Redis key prefix, ports), with their output
 * kept in memory for when a test fails. Reusable for chaos tests: start, stop, restart and
 * kill -9 any service, then wait for it to be ready again on the same port and database.
 * Every answer a service gives the harness is checked against its OpenAPI document
 * (./conformance.ts): the typed `clients` (libs/api-clients, sending through
 * `documentedFetch`), the untyped `call` and `callService`, and the readiness probe.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import readline from 'node:readline';
import { Kafka, logLevel } from 'kafkajs';
import { puhuiClients } from '@puhui/api-clients';
import { renewingToken } from '@puhui/demo';
import type { TokenProvider } from '@puhui/demo';
import type { Answer, PuhuiClients } from '@puhui/api-clients';
import { createRedis } from '@puhui/cache';
import { SERVICE_NAMES, urlVariable } from '@puhui/config';
import type { ServiceName } from '@puhui/config';
import { TOPICS } from '@puhui/contracts';
import type { OperatorRole } from '@puhui/security';
import {
  createTestDatabase,
  operatorToken as signedOperatorToken,
  testKafkaBrokers,
  testPostgresUrl,
  testRedisUrl,
  testSubject,
  uniqueSuffix,
  waitFor,
} from '@puhui/testing';
import type { TestDatabase } from '@puhui/testing';
import {
  documentedFetch,
  expectDocumentedAnswer,
  expectDocumentedReadiness,
  learnDocument,
} from './conformance';

export { documentedFetch };

/** The services of the registry (libs/config/src/services.json): every run starts them all. */
export { SERVICE_NAMES };
export type { ServiceName };

const REPOSITORY_ROOT = path.resolve(__dirname, '../../..');
const READY_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 15_000;
const LOG_LINES_KEPT = 4000;
const REQUEST_TIMEOUT_MS = 15_000;

/** The file `npm start` runs for a service (scripts/start.mjs). */
export function serviceEntry(name: ServiceName): string {
  return path.join(REPOSITORY_ROOT, 'services', name, 'dist', 'main.js');
}

/** A port nothing listens on right now (the OS picks it; the service binds it moments later). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** One JSON log line → `HH:MM:SS.mmm LEVEL message key=value …`; anything else as it is. */
function readable(line: string): string {
  let entry: Record<string, unknown>;
  try {
    entry = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return line;
  }
  if (entry === null || typeof entry !== 'object') return line;
  const { time, level, message, msg, service: _service, pid: _pid, hostname: _hostname, ...rest } = entry;
  const fields = Object.entries(rest)
    .map(([key, value]) => `${key}=${typeof value === 'string' ? value : JSON.stringify(value)}`)
    .join(' ');
  const clock =
    typeof time === 'string'
      ? time.slice(11, 23)
      : typeof time === 'number'
        ? new Date(time).toISOString().slice(11, 23)
        : '';
  return `${clock} ${String(level ?? '').toUpperCase()} ${String(message ?? msg ?? '')} ${fields}`.trim();
}

export interface ExitStatus {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** One service as an OS process; `start` again after it exited runs it on the same port and database. */
export class ServiceProcess {
  readonly url: string;
  /** How many times it was started; log lines carry it (`#2` after one restart). */
  generation = 0;
  private child: ChildProcess | undefined;
  private exited: Promise<ExitStatus> | undefined;
  private expectingExit = false;
  private readonly lines: string[] = [];

  constructor(
    readonly name: ServiceName,
    readonly port: number,
    readonly environment: Readonly<Record<string, string>>,
    /** Sees every line of output as it arrives (the kept lines are only the last few thousand). */
    private readonly onOutput?: (name: ServiceName, line: string) => void,
  ) {
    this.url = `http://127.0.0.1:${port}`;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Spawns the process; `waitReady` tells when it serves. */
  start(): void {
    if (this.running) throw new Error(`${this.name} is already running (pid ${this.pid})`);
    const entry = serviceEntry(this.name);
    if (!existsSync(entry)) {
      throw new Error(
        `${entry} is missing: build the services first (npm run build, or npm test through turbo)`,
      );
    }
    this.generation += 1;
    const generation = this.generation;
    this.expectingExit = false;
    const child = spawn(process.execPath, [entry], {
      cwd: REPOSITORY_ROOT,
      env: { ...this.environment },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    this.note(generation, `started pid ${child.pid} on port ${this.port}`);
    for (const stream of [child.stdout, child.stderr]) {
      if (stream !== null) {
        readline.createInterface({ input: stream }).on('line', (line) => {
          this.onOutput?.(this.name, line);
          this.keep(`#${generation} ${line}`);
        });
      }
    }
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        this.note(generation, `exited (${signal ?? code})${this.expectingExit ? '' : ' unexpectedly'}`);
        resolve({ code, signal });
      });
    });
  }

  /** Polls `/readyz` until it answers 200 (Postgres, Redis and Kafka checked); fails at once if the process exits. */
  async waitReady(timeoutMs = READY_TIMEOUT_MS): Promise<number> {
    const startedAt = Date.now();
    const outcome = await waitFor(
      async () => {
        if (!this.running) return 'exited';
        const response = await fetch(`${this.url}/readyz`, { signal: AbortSignal.timeout(2000) });
        const text = await response.text();
        expectDocumentedReadiness({
          status: response.status,
          contentType: response.headers.get('content-type'),
          text,
        });
        return response.status === 200 ? 'ready' : undefined;
      },
      { timeoutMs, intervalMs: 100, description: `${this.name} ready on ${this.url}` },
    );
    if (outcome === 'exited') throw new Error(`${this.name} exited before it was ready`);
    return Date.now() - startedAt;
  }

  /** SIGTERM (graceful: drains requests, stops the relay and consumers), SIGKILL after `timeoutMs`. */
  async stop(timeoutMs = STOP_TIMEOUT_MS): Promise<ExitStatus | undefined> {
    if (!this.running) return this.exited === undefined ? undefined : await this.exited;
    this.expectingExit = true;
    this.child?.kill('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((resolve) => {
      timer = setTimeout(() => resolve('late'), timeoutMs);
    });
    const status = await Promise.race([this.exited, late]);
    clearTimeout(timer);
    if (status !== 'late') return status;
    this.keep(`[harness] ${this.name} did not stop within ${timeoutMs} ms of SIGTERM: SIGKILL`);
    return this.kill('SIGKILL');
  }

  /** Sends `signal` (kill -9 by default: no shutdown code runs) and waits for the exit. */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<ExitStatus | undefined> {
    if (!this.running) return this.exited === undefined ? undefined : await this.exited;
    this.expectingExit = true;
    this.child?.kill(signal);
    return this.exited;
  }

  /** Stops it (gracefully unless `kill` says a signal) and starts it again on the same port and database. */
  async restart(options: { kill?: NodeJS.Signals } = {}): Promise<number> {
    if (options.kill === undefined) await this.stop();
    else await this.kill(options.kill);
    this.start();
    return this.waitReady();
  }

  /** The last `count` lines of output of every generation, made readable. */
  logs(count = 300): string {
    return this.lines
      .slice(-count)
      .map((line) => {
        const match = /^(#\d+) (.*)$/su.exec(line);
        return match === null ? line : `${match[1]} ${readable(match[2] ?? '')}`;
      })
      .join('\n');
  }

  private note(generation: number, text: string): void {
    this.keep(`#${generation} [harness] ${this.name} ${text}`);
  }

  private keep(line: string): void {
    this.lines.push(line);
    if (this.lines.length > LOG_LINES_KEPT) this.lines.splice(0, this.lines.length - LOG_LINES_KEPT);
  }
}

/** A JSON object as the APIs and events carry it, read loosely by tests. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Json = Record<string, any>;

export interface ApiResponse {
  status: number;
  body: Json;
  contentType: string | null;
  headers: Headers;
}

/** A typed client's answer in the loose shape the tests read (status, body, headers). */
export function looseAnswer({ data, error, response }: Answer<unknown>): ApiResponse {
  const body = data ?? error ?? {};
  return {
    status: response.status,
    body: typeof body === 'object' && body !== null ? (body as Json) : { text: body },
    contentType: response.headers.get('content-type'),
    headers: response.headers,
  };
}

/** Gives the bearer credential for the next request. */
export type { TokenProvider };

export interface CallOptions {
  /** A credential, or a provider of a fresh one (see renewingToken). */
  token?: string | TokenProvider;
  body?: unknown;
  idempotencyKey?: string;
  timeoutMs?: number;
}

/**
 * JSON over HTTP to one service, any method and path (the chaos suites' probes); network errors
 * (a killed process) reject, and so does an answer its OpenAPI document does not describe.
 * Tests that call an operation the way a client would use `PuhuiSystem.clients`.
 */
export async function callService(
  baseUrl: string,
  method: string,
  pathAndQuery: string,
  options: CallOptions = {},
): Promise<ApiResponse> {
  const response = await fetch(`${baseUrl}${pathAndQuery}`, {
    method,
    headers: {
      ...(options.token === undefined ? {} : { authorization: `Bearer ${renewingToken(options.token)()}` }),
      ...(options.body === undefined ? {} : { 'content-type': 'application/json' }),
      ...(options.idempotencyKey === undefined ? {} : { 'idempotency-key': options.idempotencyKey }),
    },
    ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
    signal: AbortSignal.timeout(options.timeoutMs ?? REQUEST_TIMEOUT_MS),
  });
  const text = await response.text();
  const contentType = response.headers.get('content-type');
  expectDocumentedAnswer(baseUrl, method, pathAndQuery, { status: response.status, contentType, text });
  let body: Record<string, unknown>;
  try {
    body = text === '' ? {} : (JSON.parse(text) as Record<string, unknown>);
  } catch {
    body = { text };
  }
  return { status: response.status, body, contentType, headers: response.headers };
}

export interface SystemOptions {
  /** Extra environment for every service (e.g. `OUTBOX_POLL_INTERVAL_MS`). */
  environment?: Record<string, string>;
  /** Extra environment per service. */
  services?: Partial<Record<ServiceName, Record<string, string>>>;
  /** Every line every service prints, as it arrives (e.g. to scan the whole output). */
  onOutput?: (name: ServiceName, line: string) => void;
}

/**
 * A fresh operator bearer token (5 minutes), signed with the development key the console publishes
 * in its JWKS, as `npm run token` signs it; `subject` is the person's account id (a uuid).
 */
export function operatorToken(
  roles: OperatorRole[],
  subject = testSubject(`e2e-${roles.join('-')}`),
): string {
  return signedOperatorToken(roles, { subject });
}

/**
 * The services of one isolated run. `start()` gives every service a fresh database, one
 * shared topic prefix and Redis key prefix, and its own free port (settlement knows discount-rules'
 * URL); `stop()` stops the processes and removes the databases, keys and topics again.
 */
export class PuhuiSystem {
  /** A fresh token on every read: one lasts 5 minutes, a run may last longer. */
  get admin(): string {
    return operatorToken(['admin'], testSubject('e2e-admin'));
  }

  get finance(): string {
    return operatorToken(['finance'], testSubject('e2e-finance'));
  }

  private stopped = false;

  private constructor(
    readonly runId: string,
    readonly topicPrefix: string,
    readonly redisPrefix: string,
    readonly databases: Readonly<Record<ServiceName, TestDatabase>>,
    readonly services: Readonly<Record<ServiceName, ServiceProcess>>,
    /** The brokers the services use (the environment's unless `environment.KAFKA_BROKERS` says others). */
    readonly kafkaBrokers: readonly string[] = testKafkaBrokers(),
  ) {}

  static async start(options: SystemOptions = {}): Promise<PuhuiSystem> {
    const runId = uniqueSuffix();
    const topicPrefix = `e2e.${runId}.`;
    const redisPrefix = `e2e:${runId}:`;
    const databases = {} as Record<ServiceName, TestDatabase>;
    for (const name of SERVICE_NAMES)
      databases[name] = await createTestDatabase(`e2e_${name.replace(/-/gu, '_')}`);
    const ports = new Set<number>();
    while (ports.size < SERVICE_NAMES.length) ports.add(await freePort());
    const portOf = Object.fromEntries(
      SERVICE_NAMES.map((name, index) => [name, [...ports][index]]),
    ) as Record<ServiceName, number>;
    // Each service is told where every other answers (settlement reads DISCOUNT_RULES_URL).
    const serviceUrls = Object.fromEntries(
      SERVICE_NAMES.map((name) => [urlVariable(name), `http://127.0.0.1:${portOf[name]}`]),
    );
    const shared: Record<string, string> = {
      ...(Object.fromEntries(
        Object.entries(process.env).filter((entry): entry is [string, string] => entry[1] !== undefined),
      ) as Record<string, string>),
      // Said, not assumed: an unset NODE_ENV is production, which refuses the development secrets
      // the runs use (decision 0020). A test may still say production in `options.environment`.
      NODE_ENV: 'test',
      POSTGRES_URL: testPostgresUrl(),
      REDIS_URL: testRedisUrl(),
      KAFKA_BROKERS: testKafkaBrokers().join(','),
      HOST: '127.0.0.1',
      LOG_LEVEL: process.env.PUHUI_E2E_LOG_LEVEL ?? 'info',
      KAFKA_TOPIC_PREFIX: topicPrefix,
      REDIS_KEY_PREFIX: redisPrefix,
      SHUTDOWN_GRACE_MS: '2000',
      OUTBOX_POLL_INTERVAL_MS: '50',
      // The crash and outage loads send hundreds of subsidised checkouts per test card within a
      // minute; the per-card hourly limit (10) is tested in settlement's own suite.
      UNION_FUNDED_CAPTURES_PER_CARD_HOUR_MAX: '1000000',
      ...options.environment,
    };
    // The console issues operator tokens: the services fetch its JWKS (the real path, as under
    // `npm start`), and the console knows the origin a browser sees it at (its CSRF check).
    const consoleUrl = `http://127.0.0.1:${portOf.console}`;
    const environmentOf = (name: ServiceName) => ({
      ...shared,
      PORT: String(portOf[name]),
      DATABASE_NAME: databases[name].name,
      ...serviceUrls,
      ...(name === 'console'
        ? { CONSOLE_PUBLIC_ORIGIN: consoleUrl }
        : { OPERATOR_JWKS_URL: `${consoleUrl}/.well-known/jwks.json` }),
      ...options.services?.[name],
    });
    const services = Object.fromEntries(
      SERVICE_NAMES.map((name) => [
        name,
        new ServiceProcess(name, portOf[name], environmentOf(name), options.onOutput),
      ]),
    ) as Record<ServiceName, ServiceProcess>;
    const system = new PuhuiSystem(
      runId,
      topicPrefix,
      redisPrefix,
      databases,
      services,
      shared.KAFKA_BROKERS?.split(',') ?? testKafkaBrokers(),
    );
    try {
      for (const service of Object.values(services)) service.start();
      const readyIn = await Promise.all(Object.values(services).map((service) => service.waitReady()));
      await Promise.all(Object.values(services).map((service) => learnDocument(service.url)));
      process.stderr.write(
        `e2e run ${runId}: ${SERVICE_NAMES.map((name, index) => `${name} ${services[name].url} ready in ${readyIn[index]} ms`).join('; ')}\n`,
      );
    } catch (error) {
      system.printLogs(`start-up failed: ${String(error)}`);
      await system.stop();
      throw error;
    }
    return system;
  }

  /** The run's physical topic name, e.g. `e2e.<run>.puhui.checkouts.v1`. */
  topic(name: keyof typeof TOPICS): string {
    return `${this.topicPrefix}${TOPICS[name]}`;
  }

  url(name: ServiceName): string {
    return this.services[name].url;
  }

  /**
   * The services' typed clients sending `token`; every answer is checked against its document.
   * An operator token is signed afresh for each request (same person and roles, renewingToken):
   * the clients may outlive the 5 minutes one token lasts.
   */
  clients(token?: string | TokenProvider): PuhuiClients {
    const urls = Object.fromEntries(SERVICE_NAMES.map((name) => [name, this.url(name)]));
    return puhuiClients(urls as Record<ServiceName, string>, {
      ...(token === undefined ? {} : { token: renewingToken(token) }),
      fetch: documentedFetch,
      timeoutMs: REQUEST_TIMEOUT_MS,
    });
  }

  call(
    name: ServiceName,
    method: string,
    pathAndQuery: string,
    options: CallOptions = {},
  ): Promise<ApiResponse> {
    return callService(this.url(name), method, pathAndQuery, options);
  }

  /** The run's database of a service, for what the API does not show (e.g. outbox rows). */
  databaseUrl(name: ServiceName): string {
    return this.databases[name].url;
  }

  printLogs(reason: string, linesPerService = 200): void {
    const sections = SERVICE_NAMES.map(
      (name) =>
        `----- ${name} (${this.services[name].url}, database ${this.databases[name].name}) -----\n${this.services[name].logs(linesPerService)}`,
    );
    process.stderr.write(
      `\n===== e2e run ${this.runId}: ${reason} =====\n${sections.join('\n')}\n===== end of logs =====\n`,
    );
  }

  /** Runs `body`; when it throws, prints every service's recent output before rethrowing. */
  async withLogsOnFailure<T>(body: () => Promise<T>): Promise<T> {
    try {
      return await body();
    } catch (error) {
      this.printLogs(
        `a test failed: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`,
      );
      throw error;
    }
  }

  /** Stops every process (SIGTERM, then SIGKILL), drops the databases, deletes the run's keys and topics. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    const problems: string[] = [];
    const attempt = async (what: string, step: () => Promise<unknown>) => {
      try {
        await step();
      } catch (error) {
        problems.push(`${what}: ${String(error)}`);
      }
    };
    await Promise.all(
      Object.values(this.services).map((service) => attempt(`stop ${service.name}`, () => service.stop())),
    );
    for (const database of Object.values(this.databases))
      await attempt(`drop ${database.name}`, () => database.drop());
    await attempt('delete Redis keys', () => deleteRedisKeys(this.redisPrefix));
    await attempt('delete topics', () => deleteTopics(this.topicPrefix, this.kafkaBrokers));
    if (problems.length > 0) process.stderr.write(`e2e run ${this.runId} clean-up: ${problems.join('; ')}\n`);
  }
}

async function deleteRedisKeys(prefix: string): Promise<void> {
  const redis = createRedis({ url: testRedisUrl() });
  try {
    if (redis.status !== 'ready') await new Promise((resolve) => redis.once('ready', resolve));
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      if (keys.length > 0) await redis.del(...keys);
      cursor = next;
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}

async function deleteTopics(prefix: string, brokers: readonly string[]): Promise<void> {
  const admin = new Kafka({
    clientId: 'e2e-clean-up',
    brokers: [...brokers],
    logLevel: logLevel.NOTHING,
  }).admin();
  await admin.connect();
  try {
    const topics = (await admin.listTopics()).filter((topic) => topic.startsWith(prefix));
    if (topics.length > 0) await admin.deleteTopics({ topics, timeout: 10_000 });
  } finally {
    await admin.disconnect();
  }
}
