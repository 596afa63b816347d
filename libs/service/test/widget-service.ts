/**
 * The test's small service: widgets migrations, one topic, and a merchant-keyed /v1/ping for
 * the rate limit. Shared by service.test.ts and the second instance it runs in another process
 * (fixtures/widget-instance.ts), so that both are the same service on the same environment.
 */
import path from 'node:path';
import { loadConfig } from '@puhui/config';
import { route } from '@puhui/http';
import { serviceEnvironment } from '@puhui/service';
import type { ServiceConfig } from '@puhui/service';
import { uniqueSuffix } from '@puhui/testing';

/** The environment of one test's service: its own database and topic prefix unless overridden. */
export function testEnvironment(overrides: Record<string, string> = {}): Record<string, string | undefined> {
  return {
    ...process.env,
    PORT: '0',
    DATABASE_NAME: `test_service_${uniqueSuffix()}`,
    KAFKA_TOPIC_PREFIX: `test.${uniqueSuffix()}.`,
    SHUTDOWN_GRACE_MS: '1000',
    ...overrides,
  };
}

export function configOf(environment: Record<string, string | undefined>): ServiceConfig {
  return loadConfig(serviceEnvironment({ port: 0, databaseName: 'unused' }), environment);
}

export function testConfig(overrides: Record<string, string> = {}): ServiceConfig {
  return configOf(testEnvironment(overrides));
}

export const definition = (config: ServiceConfig) => ({
  name: 'widget-service',
  config,
  migrationsDirectory: path.join(__dirname, 'migrations'),
  publishes: ['puhui.widgets.v1'],
});

/** The service with one route a merchant key calls, held back by the merchant key rate limit. */
export const limited = (config: ServiceConfig) => ({
  ...definition(config),
  routes: (router: Parameters<typeof route>[0]) =>
    route(router, '/v1/ping', { get: (_request, response) => void response.json({ ok: true }) }),
});
