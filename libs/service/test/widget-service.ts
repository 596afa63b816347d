/**
 * The test's small service: widgets migrations, one topic, and a merchant-keyed /v1/ping for
 * the rate limit. Shared by service.test.ts and the second instance it runs in another process
 * (fixtures/widget-instance.ts), so that both are the same service on the same environment.
 */
import path from 'node:path';
import { loadConfig } from '@puhui/config';
import type { Router } from 'express';
import { route } from '@puhui/http';
import { serviceEnvironment } from '@puhui/service';
import type { ServiceConfig, ServiceDefinition } from '@puhui/service';
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

export const definition = (config: ServiceConfig): ServiceDefinition<ServiceConfig> => ({
  name: 'widget-service',
  config,
  migrationsDirectory: path.join(__dirname, 'migrations'),
  redis: true,
  kafka: { publishes: ['puhui.widgets.v1'] },
});

const ping = (router: Router) =>
  route(router, '/v1/ping', { get: (_request, response) => void response.json({ ok: true }) });

/** The service with one route a merchant key calls, held back by the merchant key rate limit. */
export const limited = (config: ServiceConfig): ServiceDefinition<ServiceConfig> => ({
  ...definition(config),
  routes: ping,
});

/** The widget service declaring Postgres alone: no Redis, no Kafka, no event tables. */
export const postgresOnly = (config: ServiceConfig): ServiceDefinition<ServiceConfig, never> => ({
  name: 'widget-service',
  config,
  migrationsDirectory: path.join(__dirname, 'migrations'),
  routes: ping,
});
