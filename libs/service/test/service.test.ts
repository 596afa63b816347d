import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import type { ChildProcess } from 'node:child_process';
import path from 'node:path';
import readline from 'node:readline';
import { dropDatabase } from '@puhui/postgres';
import { loadConfig } from '@puhui/config';
import { route } from '@puhui/http';
import { operatorTokenVerifierFor, serviceEnvironment, startService } from '@puhui/service';
import { DEVELOPMENT_OPERATOR_SIGNING_KEY, hashServiceCredential, signOperatorToken } from '@puhui/security';
import type { RunningService, ServiceClient, ServiceConfig, ServiceDefinition } from '@puhui/service';
import { captureLogger, testPostgresUrl, uniqueSuffix } from '@puhui/testing';
import { configOf, definition, limited, postgresOnly, testConfig, testEnvironment } from './widget-service';

describe('startService', () => {
  it('creates its database, migrates, and is ready on the real Postgres, Redis and Kafka', async () => {
    const config = testConfig();
    const stopped = await withService(definition(config), async (service) => {
      const health = await fetch(`${service.url}/healthz`);
      expect(health.status).toBe(200);
      const ready = await waitForReady(service.url);
      expect(ready).toEqual({
        status: 'ready',
        service: 'widget-service',
        checks: { postgres: 'ok', redis: 'ok', kafka: 'ok' },
      });
      const tables = await service.dependencies.pool.query<{ table_name: string }>(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY table_name",
      );
      expect(tables.rows.map((row) => row.table_name)).toEqual(
        expect.arrayContaining(['widgets', 'outbox_events', 'outbox_sequences', 'inbox_events']),
      );
    });
    await expect(fetch(`${stopped.url}/healthz`)).rejects.toThrow();
  });

  it('applies the tables of the libraries it lists, each recorded in its own migrations table', async () => {
    const withLibrary: ServiceDefinition<ServiceConfig, never> = {
      ...postgresOnly(testConfig()),
      libraryMigrations: [
        { directory: path.join(__dirname, 'library-migrations'), table: 'pgmigrations_gadgets' },
      ],
    };
    await withService(withLibrary, async (service) => {
      const tables = await service.dependencies.pool.query<{ table_name: string }>(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY table_name",
      );
      expect(tables.rows.map((row) => row.table_name)).toEqual(
        expect.arrayContaining(['widgets', 'gadgets', 'pgmigrations', 'pgmigrations_gadgets']),
      );
    });
  });

  it('starts without Kafka and reports not ready, naming it', async () => {
    const config = testConfig({ KAFKA_BROKERS: '127.0.0.1:1' });
    await withService(definition(config), async (service) => {
      expect((await fetch(`${service.url}/healthz`)).status).toBe(200);
      const ready = await fetch(`${service.url}/readyz`);
      expect(ready.status).toBe(503);
      expect(ready.headers.get('content-type')).toMatch(/application\/problem\+json/);
      const problem = (await ready.json()) as { code: string; checks: Record<string, string> };
      expect(problem.code).toBe('not_ready');
      expect(problem.checks.postgres).toBe('ok');
      expect(problem.checks.kafka).toMatch(/failing/);
    });
  });
});

describe('what a service declares', () => {
  it('gets no Redis, no Kafka and no event tables when it declares Postgres alone', async () => {
    const config = testConfig();
    await withService(postgresOnly(config), async (service) => {
      expect(await waitForReady(service.url)).toEqual({
        status: 'ready',
        service: 'widget-service',
        checks: { postgres: 'ok' },
      });
      expect(Object.keys(service.dependencies).sort()).toEqual([
        'closeOnShutdown',
        'config',
        'logger',
        'pool',
      ]);
      const tables = await service.dependencies.pool.query<{ table_name: string }>(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_name LIKE '%box%'",
      );
      expect(tables.rows).toEqual([]);
      expect((await fetch(`${service.url}/v1/ping`)).status).toBe(200);
    });
  });

  it('parses only the secrets it declares, and refuses their development defaults in production', async () => {
    const environment = serviceEnvironment({
      port: 0,
      databaseName: 'unused',
      secrets: ['SERVICE_CREDENTIAL', 'CARD_TOKEN_KEY'],
    });
    const production = loadConfig(environment, {
      NODE_ENV: 'production',
      CARD_TOKEN_KEY: randomBytes(32).toString('base64'),
    });
    expect(
      Object.keys(production)
        .filter((key) => /SECRET|_KEY$|CREDENTIAL/u.test(key))
        .sort(),
    ).toEqual(['CARD_TOKEN_KEY', 'SERVICE_CREDENTIAL']);
    await expect(startService(postgresOnly(production))).rejects.toThrow(
      /^Set SERVICE_CREDENTIAL: development defaults are refused in production /u,
    );
    const bothDefaulted = loadConfig(environment, { NODE_ENV: 'production' });
    await expect(startService(postgresOnly(bothDefaulted))).rejects.toThrow(
      /^Set CARD_TOKEN_KEY, SERVICE_CREDENTIAL: development/u,
    );
  });

  it('takes service credentials of their shape only, and refuses the development list in production', async () => {
    const environment = serviceEnvironment({
      port: 0,
      databaseName: 'unused',
      secrets: ['SERVICE_CREDENTIALS'],
    });
    expect(() =>
      loadConfig(environment, { SERVICE_CREDENTIALS: 'transaction-settlement:admin:abc' }),
    ).toThrow(/SERVICE_CREDENTIALS/u);
    const credential = `svc_${randomBytes(30).toString('base64url')}`;
    expect(() =>
      loadConfig(serviceEnvironment({ port: 0, databaseName: 'unused', secrets: ['SERVICE_CREDENTIAL'] }), {
        SERVICE_CREDENTIAL: 'svc_short',
      }),
    ).toThrow(/SERVICE_CREDENTIAL/u);
    const own = `transaction-settlement:rate_sheet_reader:${hashServiceCredential(credential)}`;
    expect(loadConfig(environment, { SERVICE_CREDENTIALS: own }).SERVICE_CREDENTIALS).toBe(own);
    await expect(
      startService(postgresOnly(loadConfig(environment, { NODE_ENV: 'production' }))),
    ).rejects.toThrow(/^Set SERVICE_CREDENTIALS: development defaults are refused in production /u);
  });
});

describe('operator tokens', () => {
  const environment = serviceEnvironment({ port: 0, databaseName: 'unused' });
  const verifying = (config: ServiceConfig): ServiceDefinition<ServiceConfig, never> => ({
    ...postgresOnly(config),
    routes: (router, { config: own }) => {
      const verify = operatorTokenVerifierFor(own, 'widget-service');
      route(router, '/v1/whoami', {
        get: async (request, response) => {
          const token = (request.header('authorization') ?? '').replace(/^Bearer /u, '');
          response.json(await verify(token));
        },
      });
    },
  });

  it('are verified against the development key when OPERATOR_JWKS_URL is unset, for this service only', async () => {
    expect(() => loadConfig(environment, { OPERATOR_JWKS_URL: 'not a url' })).toThrow(/OPERATOR_JWKS_URL/u);
    await withService(verifying(testConfig()), async (service) => {
      const sign = (audience: string) =>
        signOperatorToken({ subject: 'a1', roles: ['admin'], audience }, DEVELOPMENT_OPERATOR_SIGNING_KEY);
      const mine = await fetch(`${service.url}/v1/whoami`, {
        headers: { authorization: `Bearer ${sign('widget-service')}` },
      });
      expect(mine.status).toBe(200);
      expect(await mine.json()).toMatchObject({ subject: 'a1', roles: ['admin'] });
      const another = await fetch(`${service.url}/v1/whoami`, {
        headers: { authorization: `Bearer ${sign('discount-rules')}` },
      });
      expect(another.status).toBe(401);
    });
  });

  it("answers 503 when the console's keys cannot be fetched, and refuses production without OPERATOR_JWKS_URL", async () => {
    const unreachable = testConfig({ OPERATOR_JWKS_URL: 'http://127.0.0.1:1/.well-known/jwks.json' });
    await withService(verifying(unreachable), async (service) => {
      const token = signOperatorToken(
        { subject: 'a1', roles: ['admin'], audience: 'widget-service' },
        DEVELOPMENT_OPERATOR_SIGNING_KEY,
      );
      const answer = await fetch(`${service.url}/v1/whoami`, {
        headers: { authorization: `Bearer ${token}` },
      });
      expect(answer.status).toBe(503);
      expect(((await answer.json()) as { code: string }).code).toBe('operator_keys_unavailable');
    });
    // Built while the routes are mounted, so the service does not start.
    expect(() => operatorTokenVerifierFor({ NODE_ENV: 'production' }, 'widget-service')).toThrow(
      /^Set OPERATOR_JWKS_URL/u,
    );
    expect(
      operatorTokenVerifierFor(
        { NODE_ENV: 'production', OPERATOR_JWKS_URL: 'https://console.example/.well-known/jwks.json' },
        'widget-service',
      ),
    ).toEqual(expect.any(Function));
  });
});

describe('merchant key rate limit', () => {
  const statuses = async (url: string, credential: string, count: number) => {
    const responses = await Promise.all(
      Array.from({ length: count }, () =>
        fetch(`${url}/v1/ping`, { headers: { authorization: `Bearer ${credential}` } }),
      ),
    );
    return responses;
  };

  it.each([
    ['Redis', {}],
    ['a per-process limit when Redis is away', { REDIS_URL: 'redis://127.0.0.1:1' }],
  ])('answers 429 with Retry-After past the limit of one key, counted in %s', async (_name, overrides) => {
    const config = testConfig({
      MERCHANT_RATE_LIMIT_PER_SECOND: '3',
      REDIS_KEY_PREFIX: `test:${uniqueSuffix()}:`,
      ...overrides,
    });
    await withService(limited(config), async (service) => {
      // Counting moves to Redis once its connection is ready; until then the process counts.
      if (!('REDIS_URL' in overrides)) await waitForReady(service.url);
      const key = `sk_live_${uniqueSuffix()}`;
      const burst = await statuses(service.url, key, 6);
      const codes = burst.map((response) => response.status).sort();
      expect(codes).toEqual([200, 200, 200, 429, 429, 429]);
      const refused = burst.find((response) => response.status === 429) as Response;
      expect(refused.headers.get('content-type')).toMatch(/application\/problem\+json/u);
      expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect(((await refused.json()) as { code: string }).code).toBe('rate_limited');
      // Another key, and operator tokens, are not held back by this key's burst.
      expect((await statuses(service.url, `sk_live_${uniqueSuffix()}`, 3)).map((r) => r.status)).toEqual([
        200, 200, 200,
      ]);
      expect((await statuses(service.url, 'operator.jwt.token', 5)).every((r) => r.status === 200)).toBe(
        true,
      );
      // The next window lets the key in again.
      await new Promise((resolve) => setTimeout(resolve, 1100));
      expect((await statuses(service.url, key, 1))[0]?.status).toBe(200);
    });
  });

  it('counts one limit for two instances in separate processes: together they let in the limit, not twice it', async () => {
    const environment = testEnvironment({
      MERCHANT_RATE_LIMIT_PER_SECOND: '3',
      REDIS_KEY_PREFIX: `test:${uniqueSuffix()}:`,
    });
    const config = configOf(environment);
    const { logger } = captureLogger('widget-service', 'warn');
    const service = await startService(limited(config), { logger });
    const other = await startInstance(environment);
    try {
      // Counting moves to Redis once each instance's connection is ready.
      await Promise.all([waitForReady(service.url), waitForReady(other.url)]);
      const key = `sk_live_${uniqueSuffix()}`;
      // One window (a fresh key's starts at its first request): the first instance lets in all
      // three; the second, counting against the same Redis counter, must refuse every one.
      const first = await statuses(service.url, key, 3);
      const second = await statuses(other.url, key, 3);
      expect({
        first: first.map((response) => response.status),
        second: second.map((response) => response.status),
      }).toEqual({ first: [200, 200, 200], second: [429, 429, 429] });
      // Both ways round: a fresh key spent at the second instance is spent at the first.
      const reversed = `sk_live_${uniqueSuffix()}`;
      expect((await statuses(other.url, reversed, 3)).map((response) => response.status)).toEqual([
        200, 200, 200,
      ]);
      expect((await statuses(service.url, reversed, 2)).map((response) => response.status)).toEqual([
        429, 429,
      ]);
      // The refusals were the window's count: the next one lets the key in at the second instance.
      await new Promise((resolve) => setTimeout(resolve, 1100));
      expect((await statuses(other.url, key, 1))[0]?.status).toBe(200);
    } finally {
      await other.stop();
      await service.shutdown('test over');
      await dropDatabase(testPostgresUrl(), config.DATABASE_NAME);
    }
  });
});

const INSTANCE_START_TIMEOUT_MS = 60_000;

/** The widget service again, in its own process on the same environment (fixtures/widget-instance.ts). */
async function startInstance(
  environment: Record<string, string | undefined>,
): Promise<{ url: string; stop: () => Promise<void> }> {
  const child: ChildProcess = spawn(
    process.execPath,
    ['--require', require.resolve('tsx/cjs'), path.join(__dirname, 'fixtures', 'widget-instance.ts')],
    { cwd: path.join(__dirname, '..'), env: environment, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
  };
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error('the second instance did not start in time')),
      INSTANCE_START_TIMEOUT_MS,
    );
    child.once('exit', (code, signal) => reject(new Error(`the second instance exited (${signal ?? code})`)));
    readline.createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
      const match = /^listening (\S+)$/u.exec(line);
      if (match?.[1] === undefined) return;
      clearTimeout(timer);
      resolve(match[1]);
    });
  }).catch(async (error: unknown) => {
    await stop();
    throw error;
  });
  return { url, stop };
}

async function waitForReady(url: string): Promise<unknown> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const response = await fetch(`${url}/readyz`);
    if (response.status === 200 || Date.now() > deadline) return response.json();
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Starts the service on its test database, runs `body`, then shuts it down and drops the database. */
async function withService<Uses extends ServiceClient>(
  service: ServiceDefinition<ServiceConfig, Uses>,
  body: (running: RunningService<ServiceConfig, Uses>) => Promise<void>,
): Promise<RunningService<ServiceConfig, Uses>> {
  const { logger } = captureLogger('widget-service', 'warn');
  const running = await startService(service, { logger });
  try {
    await body(running);
  } finally {
    await running.shutdown('test over');
    await dropDatabase(testPostgresUrl(), service.config.DATABASE_NAME);
  }
  return running;
}
