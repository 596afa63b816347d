import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { z } from 'zod';
import { ConfigError } from '@puhui/config';
import { defineOperation, documented, respond, route } from '@puhui/http';
import { Counter, parseMetricsText, sampleValue } from '@puhui/metrics';
import type { Sample } from '@puhui/metrics';
import { dropDatabase } from '@puhui/postgres';
import { startService } from '@puhui/service';
import type { RunningService, ServiceConfig, ServiceDefinition } from '@puhui/service';
import { testPostgresUrl, uniqueSuffix } from '@puhui/testing';
import { configOf, testEnvironment } from './widget-service';

const countWidgets = defineOperation({
  method: 'get',
  path: '/v1/widgets/count',
  operationId: 'countWidgets',
  summary: 'How many widgets',
  tags: ['widgets'],
  callers: [],
  responses: { 200: { description: 'The count.', schema: z.strictObject({ count: z.number() }) } },
});

function metricsConfig(overrides: Record<string, string> = {}): ServiceConfig {
  return configOf(testEnvironment({ DATABASE_NAME: `puhui_t_a_${uniqueSuffix()}`, ...overrides }));
}

/** The widget service on Postgres alone, with one documented route and a collector of its own. */
function widgets(config: ServiceConfig): ServiceDefinition<ServiceConfig, never> {
  return {
    name: 'widget-service',
    config,
    migrationsDirectory: path.join(__dirname, 'migrations'),
    routes: (router, { pool }) =>
      route(router, countWidgets.path, {
        get: documented(countWidgets, async (_request, response) => {
          const { rows } = await pool.query<{ count: number }>('SELECT count(*)::int AS count FROM widgets');
          respond(response, countWidgets, 200, { count: rows[0]?.count ?? 0 });
        }),
      }),
    metrics: (dependencies, registry) => {
      const counter = new Counter({
        name: 'widget_hook_calls_total',
        help: 'Set once by the hook.',
        registers: [registry],
      });
      counter.inc(dependencies.pool.options.max ?? 0);
    },
  };
}

async function withService(
  definition: ServiceDefinition<ServiceConfig, never>,
  use: (service: RunningService<ServiceConfig, never>) => Promise<void>,
): Promise<void> {
  const service = await startService(definition);
  try {
    await use(service);
  } finally {
    await service.shutdown('test over');
    await dropDatabase(testPostgresUrl(), definition.config.DATABASE_NAME);
  }
}

async function scrape(url: string, headers: Record<string, string> = {}): Promise<Sample[]> {
  const response = await fetch(`${url}/metrics`, { headers });
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/u);
  const samples = parseMetricsText(await response.text());
  expect(samples.length).toBeGreaterThan(0);
  return samples;
}

describe('/metrics', () => {
  it('counts requests per operation, times them, reads the pools and calls the service hook', async () => {
    const config = metricsConfig({ POSTGRES_POOL_SIZE_MAX: '7' });
    await withService(widgets(config), async (service) => {
      for (let request = 0; request < 3; request += 1)
        expect((await fetch(`${service.url}/v1/widgets/count`)).status).toBe(200);
      expect((await fetch(`${service.url}/v1/nothing-here`)).status).toBe(404);
      expect((await fetch(`${service.url}/healthz`)).status).toBe(200);
      const samples = await scrape(service.url);
      const labels = { service: 'widget-service', operation: 'countWidgets', method: 'GET' };
      expect(sampleValue(samples, 'puhui_http_requests_total', { ...labels, status_class: '2xx' })).toBe(3);
      expect(
        sampleValue(samples, 'puhui_http_request_duration_seconds_count', { ...labels, status_class: '2xx' }),
      ).toBe(3);
      expect(
        sampleValue(samples, 'puhui_http_request_duration_seconds_bucket', {
          ...labels,
          status_class: '2xx',
          le: '+Inf',
        }),
      ).toBe(3);
      expect(
        sampleValue(samples, 'puhui_http_requests_total', { operation: 'unmatched', status_class: '4xx' }),
      ).toBe(1);
      expect(
        sampleValue(samples, 'puhui_http_requests_total', { operation: 'healthz', status_class: '2xx' }),
      ).toBe(1);
      // The scrape itself is in flight while it is written.
      expect(sampleValue(samples, 'puhui_http_requests_in_flight')).toBe(1);
      expect(sampleValue(samples, 'puhui_pg_pool_connections_max', { pool: 'requests' })).toBe(7);
      expect(sampleValue(samples, 'puhui_pg_pool_connections_max', { pool: 'jobs' })).toBe(1);
      expect(sampleValue(samples, 'puhui_pg_pool_waiting_clients', { pool: 'requests' })).toBe(0);
      const idle = sampleValue(samples, 'puhui_pg_pool_connections', { pool: 'requests', state: 'idle' });
      expect(idle).toBeGreaterThanOrEqual(1);
      expect(sampleValue(samples, 'puhui_pg_pool_connections', { pool: 'requests', state: 'busy' })).toBe(0);
      expect(sampleValue(samples, 'puhui_pg_pool_acquire_seconds_count', { pool: 'requests' })).toBe(3);
      expect(sampleValue(samples, 'widget_hook_calls_total', { service: 'widget-service' })).toBe(7);
      expect(sampleValue(samples, 'nodejs_eventloop_lag_seconds')).toBeGreaterThanOrEqual(0);
      expect(sampleValue(samples, 'process_resident_memory_bytes')).toBeGreaterThan(0);
      expect(samples.every((sample) => sample.labels.service === 'widget-service')).toBe(true);

      const next = await scrape(service.url);
      expect(
        sampleValue(next, 'puhui_http_requests_total', { operation: 'metrics', status_class: '2xx' }),
      ).toBe(1);
    });
  });

  it('asks for the scrape token when one is set, compared whole', async () => {
    const token = randomBytes(32).toString('hex');
    await withService(widgets(metricsConfig({ METRICS_SCRAPE_TOKEN: token })), async (service) => {
      const without = await fetch(`${service.url}/metrics`);
      expect(without.status).toBe(401);
      expect(without.headers.get('content-type')).toMatch(/^application\/problem\+json/u);
      expect(((await without.json()) as { code: string }).code).toBe('unauthenticated');
      for (const wrong of [
        token.slice(0, -1),
        `${token}0`,
        randomBytes(32).toString('hex'),
        token.toUpperCase(),
      ]) {
        const refused = await fetch(`${service.url}/metrics`, {
          headers: { authorization: `Bearer ${wrong}` },
        });
        expect(refused.status).toBe(401);
        expect(await refused.text()).not.toContain('puhui_');
      }
      const samples = await scrape(service.url, { authorization: `Bearer ${token}` });
      expect(
        sampleValue(samples, 'puhui_http_requests_total', { operation: 'metrics', status_class: '4xx' }),
      ).toBe(5);
      // Still open to the probes: the token guards /metrics only.
      expect((await fetch(`${service.url}/healthz`)).status).toBe(200);
    });
  });

  it('admits the previous token beside the new one while it is rotated, and not without a new one', async () => {
    const [next, previous] = [randomBytes(32).toString('hex'), randomBytes(32).toString('hex')];
    const config = metricsConfig({ METRICS_SCRAPE_TOKEN: next, METRICS_SCRAPE_TOKEN_PREVIOUS: previous });
    await withService(widgets(config), async (service) => {
      for (const token of [next, previous]) await scrape(service.url, { authorization: `Bearer ${token}` });
      const other = await fetch(`${service.url}/metrics`, {
        headers: { authorization: `Bearer ${randomBytes(32).toString('hex')}` },
      });
      expect(other.status).toBe(401);
    });
    const previousAlone = metricsConfig({ METRICS_SCRAPE_TOKEN_PREVIOUS: previous });
    await expect(startService(widgets(previousAlone))).rejects.toThrow(
      /PREVIOUS is set without METRICS_SCRAPE_TOKEN/u,
    );
  });

  it('never labels a series with a card number, a merchant key or a request id it was sent', async () => {
    const card = '6222021234567890123';
    const merchantKey = `sk_test_${randomBytes(24).toString('hex')}`;
    const requestId = `req-${randomBytes(8).toString('hex')}`;
    await withService(widgets(metricsConfig()), async (service) => {
      const sent = [
        fetch(`${service.url}/v1/cards/${card}`, { headers: { 'x-request-id': requestId } }),
        fetch(`${service.url}/v1/widgets/count?card=${card}`, {
          headers: { authorization: `Bearer ${merchantKey}`, 'x-request-id': `${requestId}-2` },
        }),
        fetch(`${service.url}/${merchantKey}`, {
          method: 'POST',
          headers: { 'x-request-id': `${requestId}-3` },
        }),
      ];
      expect((await Promise.all(sent)).map((response) => response.status)).toEqual([404, 200, 404]);
      const response = await fetch(`${service.url}/metrics`);
      const text = await response.text();
      const samples = parseMetricsText(text);
      expect(
        sampleValue(samples, 'puhui_http_requests_total', { operation: 'unmatched', method: 'GET' }),
      ).toBe(1);
      expect(
        sampleValue(samples, 'puhui_http_requests_total', { operation: 'unmatched', method: 'POST' }),
      ).toBe(1);
      for (const secret of [card, card.slice(-4).padStart(8, '*'), merchantKey, requestId])
        expect(text).not.toContain(secret);
      // No label value anywhere is card-shaped (12-19 digits) or key-shaped.
      const values = samples.flatMap((sample) => Object.values(sample.labels));
      expect(values.length).toBeGreaterThan(0);
      expect(values.filter((value) => /\d{12,19}|sk_|svc_|req-/u.test(value))).toEqual([]);
    });
  });

  it('refuses a short or trivial scrape token at configuration', () => {
    for (const weak of ['short', 'a'.repeat(64), 'abcd'.repeat(16)])
      expect(() => metricsConfig({ METRICS_SCRAPE_TOKEN: weak })).toThrow(ConfigError);
    expect(() => metricsConfig({ METRICS_SCRAPE_TOKEN: `${randomBytes(20).toString('hex')} x` })).toThrow(
      /whitespace/u,
    );
  });
});
