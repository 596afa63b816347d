import path from 'node:path';
import { loadConfig } from '@puhui/config';
import { dropDatabase } from '@puhui/postgres';
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

async function waitForReady(url: string): Promise<unknown> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const response = await fetch(`${url}/readyz`);
    if (response.status === 200 || Date.now() > deadline) return response.json();
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
