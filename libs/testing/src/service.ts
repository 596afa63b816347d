/**
 * The boot check every service's test suite runs: start the service on a fresh database
 * and topic prefix, see it healthy and ready on the real infrastructure, shut it down.
 */
import { Client } from 'pg';
import { uniqueSuffix, waitFor } from './index';

export interface BootableService {
  url: string;
  shutdown: (reason?: string) => Promise<void>;
}

export async function expectServiceBootsAndStops(
  start: (environment: Record<string, string | undefined>) => Promise<BootableService>,
): Promise<void> {
  const databaseName = `test_boot_${uniqueSuffix()}`;
  const service = await start({
    ...process.env,
    PORT: '0',
    DATABASE_NAME: databaseName,
    KAFKA_TOPIC_PREFIX: `test.${uniqueSuffix()}.`,
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
    SHUTDOWN_GRACE_MS: '1000',
  });
  try {
    expect((await fetch(`${service.url}/healthz`)).status).toBe(200);
    const ready = await waitFor(
      async () => {
        const response = await fetch(`${service.url}/readyz`);
        return response.status === 200 ? ((await response.json()) as { checks: unknown }) : undefined;
      },
      { description: 'service ready' },
    );
    expect(ready.checks).toEqual({ postgres: 'ok', redis: 'ok', kafka: 'ok' });
  } finally {
    await service.shutdown('boot check over');
    const admin = new Client({
      connectionString: `${process.env.POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432'}/postgres`,
    });
    await admin.connect();
    await admin.query(`DROP DATABASE IF EXISTS "${databaseName}" WITH (FORCE)`);
    await admin.end();
  }
  await expect(fetch(`${service.url}/healthz`)).rejects.toThrow();
}
