/**
 * A service's Kafka side: its topics, the outbox relay and its consumers. Kafka may be away at
 * start-up: the service starts, reports not-ready, and topic creation, relay and consumers
 * catch up when it is back.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { OutboxRelay, ensureTopics, kafkaReadiness } from '@puhui/events';
import type { EventConsumer, Kafka } from '@puhui/events';
import type { Closer } from '@puhui/http';
import type { Logger } from '@puhui/logging';
import type { PoolMetrics } from '@puhui/metrics';
import type { EventPipelineMetrics } from './metrics';
import { createPool } from '@puhui/postgres';
import type { ServiceConfig } from './environment';

const KAFKA_SETUP_BACKOFF_MS_MAX = 5000;

/**
 * Retries `attempt` with capped backoff until it succeeds or `stopped()`; used for the
 * Kafka-side setup that must not block start-up.
 */
async function keepTrying(
  what: string,
  attempt: () => Promise<void>,
  stopped: () => boolean,
  logger: Logger,
): Promise<void> {
  for (let failures = 0; !stopped(); failures += 1) {
    try {
      await attempt();
      if (failures > 0) logger.info({ what, failures }, 'kafka setup recovered');
      return;
    } catch (error) {
      if (failures === 0 || failures % 10 === 0)
        logger.warn({ err: error, what }, 'kafka setup failed; retrying');
      await sleep(Math.min(KAFKA_SETUP_BACKOFF_MS_MAX, 200 * 2 ** Math.min(failures, 5)));
    }
  }
}

export interface EventsSettings {
  name: string;
  config: ServiceConfig;
  connectionString: string;
  kafka: Kafka;
  logger: Logger;
  pools: PoolMetrics;
  /** The relay's observer and the readings' admin client (metrics.ts). */
  metrics: EventPipelineMetrics;
  publishes: readonly string[];
  consumers: readonly EventConsumer[];
}

export interface RunningEvents {
  readiness: { name: string; check: () => Promise<void> };
  /** In shutdown order: the setup, the consumers, the relay, then the relay's pool. */
  closers: Closer[];
  /** Closed after everything else that may still use Kafka. */
  readinessCloser: Closer;
}

/** Starts the relay and consumers once the topics exist, retrying in the background. */
export function startEvents(settings: EventsSettings): RunningEvents {
  const { config, kafka, logger, consumers } = settings;
  // The relay's own connection: under load it would otherwise queue for the request pool
  // behind the very transactions whose events it is late to publish.
  const relayPool = createPool({
    connectionString: settings.connectionString,
    connectionsMax: 1,
    applicationName: `${settings.name}:outbox-relay`,
    logger,
    acquireObserver: settings.pools.observer('outbox-relay'),
  });
  settings.pools.track('outbox-relay', relayPool);
  const relaySettings = {
    pool: relayPool,
    kafka,
    logger,
    batchSizeMax: config.OUTBOX_BATCH_SIZE_MAX,
    pollIntervalMs: config.OUTBOX_POLL_INTERVAL_MS,
    topicPrefix: config.KAFKA_TOPIC_PREFIX,
    // puhui_outbox_relay_leader and puhui_outbox_published_events_total (libs/events RelayObserver):
    // a variable rather than a literal, so that this compiles before and after the relay reads it.
    observer: settings.metrics.events,
  };
  const relay = new OutboxRelay(relaySettings);
  // Consumed topics too: services may start in any order, and creation is idempotent.
  const topics = [
    ...new Set([...settings.publishes, ...consumers.flatMap((consumer) => consumer.subscribedTopics)]),
  ];
  let stopping = false;
  const stopped = () => stopping;
  const setup = (async () => {
    await keepTrying(
      'ensure topics',
      () =>
        ensureTopics(kafka, topics, {
          partitions: config.KAFKA_TOPIC_PARTITIONS,
          replicationFactor: config.KAFKA_REPLICATION_FACTOR,
          prefix: config.KAFKA_TOPIC_PREFIX,
        }),
      stopped,
      logger,
    );
    if (!stopping) relay.start();
    for (const consumer of consumers)
      await keepTrying('start consumer', () => consumer.start(), stopped, logger);
  })();
  const readiness = kafkaReadiness(kafka);
  return {
    readiness: { name: 'kafka', check: () => readiness.check() },
    closers: [
      {
        name: 'kafka setup',
        close: async () => {
          stopping = true;
          await setup;
        },
      },
      ...consumers.map((consumer, index) => ({
        name: `consumer ${index + 1}`,
        close: () => consumer.stop(),
      })),
      settings.metrics.closer,
      { name: 'outbox relay', close: () => relay.stop() },
      { name: 'outbox relay postgres pool', close: () => relayPool.end() },
    ],
    readinessCloser: { name: 'kafka readiness', close: () => readiness.close() },
  };
}
