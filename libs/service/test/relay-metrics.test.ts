/**
 * The service's own outbox relay on /metrics: what it published per topic and whether it leads,
 * with a second relay on the same database (another instance's) taking the lock away.
 */
import path from 'node:path';
import { z } from 'zod';
import { defineEvent } from '@puhui/contracts';
import { appendEvent } from '@puhui/events';
import { parseMetricsText, sampleValue } from '@puhui/metrics';
import type { Sample } from '@puhui/metrics';
import { dropDatabase, withTransaction } from '@puhui/postgres';
import { startService } from '@puhui/service';
import type { RunningService, ServiceConfig } from '@puhui/service';
import { captureLogger, testPostgresUrl, uniqueSuffix, waitFor } from '@puhui/testing';
import { configOf, testEnvironment } from './widget-service';

const TOPIC = 'puhui.widgets.v1';
const widgetMade = defineEvent('puhui.widget.made.v1', TOPIC, z.strictObject({ widget_id: z.string() }));
const { logger } = captureLogger('relay-metrics', 'warn');
/** The relay of decision 0001 takes this advisory lock (relay.ts RELAY_LOCK_KEY) for each pass. */
const RELAY_LOCK_KEY = 7_208_315_001;

async function scrape(url: string): Promise<Sample[]> {
  const response = await fetch(`${url}/metrics`);
  expect(response.status).toBe(200);
  const samples = parseMetricsText(await response.text());
  expect(samples.length).toBeGreaterThan(0);
  return samples;
}

let config: ServiceConfig;
let service: RunningService<ServiceConfig, 'kafka'>;

beforeAll(async () => {
  config = configOf(
    testEnvironment({
      DATABASE_NAME: `puhui_t_a_${uniqueSuffix()}`,
      OUTBOX_POLL_INTERVAL_MS: '20',
      METRICS_COLLECT_MAX_AGE_MS: '0',
    }),
  );
  service = await startService(
    {
      name: 'widget-service',
      config,
      migrationsDirectory: path.join(__dirname, 'migrations'),
      kafka: { publishes: [TOPIC] },
    },
    { logger },
  );
});

afterAll(async () => {
  await service?.shutdown('test over');
  await dropDatabase(testPostgresUrl(), config.DATABASE_NAME);
});

it('counts what the relay published per topic, says it leads, and not while another holds the lock', async () => {
  const first = await waitFor(async () => {
    const samples = await scrape(service.url);
    return sampleValue(samples, 'puhui_outbox_relay_leader') === 1 && samples;
  });
  expect(sampleValue(first, 'puhui_outbox_published_events_total', { topic: TOPIC })).toBe(0);
  await withTransaction(service.dependencies.pool, async (client) => {
    for (let index = 0; index < 4; index += 1)
      await appendEvent(client, 'widget-service', {
        definition: widgetMade,
        subject: `widget-${index}`,
        data: { widget_id: `widget-${index}` },
      });
  });
  const published = await waitFor(async () => {
    const samples = await scrape(service.url);
    return sampleValue(samples, 'puhui_outbox_published_events_total', { topic: TOPIC }) === 4 && samples;
  });
  expect(sampleValue(published, 'puhui_outbox_backlog_events')).toBe(0);

  // Another instance's relay holding the lock: this one's passes do not lead.
  const holder = await service.dependencies.pool.connect();
  try {
    await holder.query('SELECT pg_advisory_lock($1)', [RELAY_LOCK_KEY]);
    await waitFor(async () => sampleValue(await scrape(service.url), 'puhui_outbox_relay_leader') === 0);
    await holder.query('SELECT pg_advisory_unlock($1)', [RELAY_LOCK_KEY]);
    await waitFor(async () => sampleValue(await scrape(service.url), 'puhui_outbox_relay_leader') === 1);
  } finally {
    holder.release();
  }
});
