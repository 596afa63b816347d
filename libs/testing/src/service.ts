/**
 * Starting a service for a test on its own database and topic prefix, and the boot check
 * every service's suite runs.
 */
import { Client } from 'pg';
import { testPostgresUrl, uniqueSuffix, waitFor } from './basics';

export interface BootableService {
  url: string;
  shutdown: (reason?: string) => Promise<void>;
}

export interface TestService<Service extends BootableService> {
  service: Service;
  url: string;
  environment: Record<string, string | undefined>;
  topicPrefix: string;
  /** Shuts the service down and drops its database. */
  close: () => Promise<void>;
}

export async function startTestService<Service extends BootableService>(
  start: (environment: Record<string, string | undefined>) => Promise<Service>,
  overrides: Record<string, string> = {},
): Promise<TestService<Service>> {
  const databaseName = `test_svc_${uniqueSuffix()}`;
  const topicPrefix = `test.${uniqueSuffix()}.`;
  const environment = {
    ...process.env,
    PORT: '0',
    DATABASE_NAME: databaseName,
    KAFKA_TOPIC_PREFIX: topicPrefix,
    REDIS_KEY_PREFIX: `test:${uniqueSuffix()}:`,
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
    SHUTDOWN_GRACE_MS: '1000',
    OUTBOX_POLL_INTERVAL_MS: '20',
    ...overrides,
  };
  const service = await start(environment);
  return {
    service,
    url: service.url,
    environment,
    topicPrefix,
    close: async () => {
      await service.shutdown('test over');
      const admin = new Client({ connectionString: `${testPostgresUrl()}/postgres` });
      await admin.connect();
      try {
        await admin.query(`DROP DATABASE IF EXISTS "${databaseName}" WITH (FORCE)`);
      } finally {
        await admin.end();
      }
    },
  };
}

export async function expectServiceBootsAndStops(
  start: (environment: Record<string, string | undefined>) => Promise<BootableService>,
  /** What /readyz checks: Postgres, and Redis and Kafka when the service declares them. */
  checks: Readonly<Record<string, 'ok'>> = { postgres: 'ok', redis: 'ok', kafka: 'ok' },
): Promise<void> {
  const running = await startTestService(start);
  try {
    expect((await fetch(`${running.url}/healthz`)).status).toBe(200);
    const ready = await waitFor(
      async () => {
        const response = await fetch(`${running.url}/readyz`);
        return response.status === 200 ? ((await response.json()) as { checks: unknown }) : undefined;
      },
      { description: 'service ready' },
    );
    expect(ready.checks).toEqual(checks);
  } finally {
    await running.close();
  }
  await expect(fetch(`${running.url}/healthz`)).rejects.toThrow();
}
