import path from 'node:path';
import { loadConfig } from '@puhui/config';
import { dropDatabase } from '@puhui/postgres';
import { route } from '@puhui/http';
import { serviceEnvironment, startService } from '@puhui/service';
import type { ServiceConfig } from '@puhui/service';
import { captureLogger, testPostgresUrl, uniqueSuffix } from '@puhui/testing';

function testConfig(overrides: Record<string, string> = {}): ServiceConfig {
  return loadConfig(serviceEnvironment({ port: 0, databaseName: 'unused' }), {
    ...process.env,
    PORT: '0',
    DATABASE_NAME: `test_service_${uniqueSuffix()}`,
    KAFKA_TOPIC_PREFIX: `test.${uniqueSuffix()}.`,
    SHUTDOWN_GRACE_MS: '1000',
    ...overrides,
  });
}

const definition = (config: ServiceConfig) => ({
  name: 'widget-service',
  config,
  migrationsDirectory: path.join(__dirname, 'migrations'),
  publishes: ['puhui.widgets.v1'],
});

describe('startService', () => {
  it('creates its database, migrates, and is ready on the real Postgres, Redis and Kafka', async () => {
    const config = testConfig();
    const { logger } = captureLogger('widget-service', 'warn');
    const service = await startService(definition(config), { logger });
    try {
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
    } finally {
      await service.shutdown('test over');
      await dropDatabase(testPostgresUrl(), config.DATABASE_NAME);
    }
    await expect(fetch(`${service.url}/healthz`)).rejects.toThrow();
  });

  it('starts without Kafka and reports not ready, naming it', async () => {
    const config = testConfig({ KAFKA_BROKERS: '127.0.0.1:1' });
    const { logger } = captureLogger('widget-service', 'warn');
    const service = await startService(definition(config), { logger });
    try {
      expect((await fetch(`${service.url}/healthz`)).status).toBe(200);
      const ready = await fetch(`${service.url}/readyz`);
      expect(ready.status).toBe(503);
      expect(ready.headers.get('content-type')).toMatch(/application\/problem\+json/);
      const problem = (await ready.json()) as { code: string; checks: Record<string, string> };
      expect(problem.code).toBe('not_ready');
      expect(problem.checks.postgres).toBe('ok');
      expect(problem.checks.kafka).toMatch(/failing/);
    } finally {
      await service.shutdown('test over');
      await dropDatabase(testPostgresUrl(), config.DATABASE_NAME);
    }
  });
});

describe('merchant key rate limit', () => {
  const limited = (config: ServiceConfig) => ({
    ...definition(config),
    routes: (router: Parameters<typeof route>[0]) =>
      route(router, '/v1/ping', { get: (_request, response) => void response.json({ ok: true }) }),
  });
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
    const { logger } = captureLogger('widget-service', 'warn');
    const service = await startService(limited(config), { logger });
    try {
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
    } finally {
      await service.shutdown('test over');
      await dropDatabase(testPostgresUrl(), config.DATABASE_NAME);
    }
  });
});

async function waitForReady(url: string): Promise<unknown> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const response = await fetch(`${url}/readyz`);
    if (response.status === 200 || Date.now() > deadline) return response.json();
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
