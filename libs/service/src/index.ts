/**
 * Boots a Puhui service the same way every time: config → logger → its own database
 * (created on demand) and migrations → pools and clients → HTTP with health and readiness
 * → outbox relay and consumers. Kafka may be away at start-up: the service starts, reports
 * not-ready, and topic creation, relay and consumers catch up when it is back.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Router } from 'express';
import { closeRedis, createRedis, pingRedis } from '@puhui/cache';
import type { Redis } from '@puhui/cache';
import { platformEnvironment, port } from '@puhui/config';
import type { PlatformConfig } from '@puhui/config';
import { z } from 'zod';
import {
  DEVELOPMENT_CARD_TOKEN_KEY,
  DEVELOPMENT_FIELD_KEY,
  DEVELOPMENT_IDENTITY_HASH_KEY,
  DEVELOPMENT_TOKEN_SECRET,
} from '@puhui/security';
import {
  EVENTS_MIGRATIONS_DIRECTORY,
  EVENTS_MIGRATIONS_TABLE,
  OutboxRelay,
  createKafka,
  ensureTopics,
  kafkaReadiness,
} from '@puhui/events';
import type { EventConsumer, Kafka } from '@puhui/events';
import { asyncApiDocument } from '@puhui/catalogue';
import { createApp, openApiDocument, startHttpServer } from '@puhui/http';
import type { ApiInfo, Closer, Operation, RunningServer } from '@puhui/http';
import { createLogger } from '@puhui/logging';
import type { Logger } from '@puhui/logging';
import { createPool, databaseUrl, ensureDatabase, migrate, pingPostgres } from '@puhui/postgres';
import type { Pool } from '@puhui/postgres';
import { merchantKeyRateLimit } from './rate-limit';
import { scheduleEventRetention } from './retention';

export interface ServiceConfig extends PlatformConfig {
  PORT: number;
  DATABASE_NAME: string;
  OPERATOR_TOKEN_SECRET: string;
  FIELD_ENCRYPTION_KEY: string;
  IDENTITY_HASH_KEY: string;
  CARD_TOKEN_KEY: string;
  MERCHANT_RATE_LIMIT_PER_SECOND: number;
}

/** The platform settings plus the two every service sets its own default for. */
export function serviceEnvironment(defaults: { port: number; databaseName: string }) {
  return platformEnvironment.extend({
    PORT: port.default(defaults.port),
    DATABASE_NAME: z
      .string()
      .regex(/^[a-z_][a-z0-9_]{0,62}$/u)
      .default(defaults.databaseName),
    /** HS256 secret of operator bearer tokens (`npm run token -- admin`). */
    OPERATOR_TOKEN_SECRET: z.string().min(32).default(DEVELOPMENT_TOKEN_SECRET),
    /** AES-256-GCM key (32 bytes, base64) sealing account numbers; shared with settlement. */
    FIELD_ENCRYPTION_KEY: z.base64().default(DEVELOPMENT_FIELD_KEY),
    /** HMAC key for matching hashes of ID and account numbers. */
    IDENTITY_HASH_KEY: z.string().min(32).default(DEVELOPMENT_IDENTITY_HASH_KEY),
    /** HMAC key turning card numbers into card tokens; discount-rules and settlement share it. */
    CARD_TOKEN_KEY: z.string().min(32).default(DEVELOPMENT_CARD_TOKEN_KEY),
    /** Requests per second each merchant secret key may make (then 429 with Retry-After). */
    MERCHANT_RATE_LIMIT_PER_SECOND: z.coerce.number().int().positive().default(500),
  });
}

/** Development defaults must never protect production data. */
function refuseDevelopmentSecrets(config: ServiceConfig): void {
  if (config.NODE_ENV !== 'production') return;
  const defaulted = [
    config.OPERATOR_TOKEN_SECRET === DEVELOPMENT_TOKEN_SECRET && 'OPERATOR_TOKEN_SECRET',
    config.FIELD_ENCRYPTION_KEY === DEVELOPMENT_FIELD_KEY && 'FIELD_ENCRYPTION_KEY',
    config.IDENTITY_HASH_KEY === DEVELOPMENT_IDENTITY_HASH_KEY && 'IDENTITY_HASH_KEY',
    config.CARD_TOKEN_KEY === DEVELOPMENT_CARD_TOKEN_KEY && 'CARD_TOKEN_KEY',
  ].filter(Boolean);
  if (defaulted.length > 0)
    throw new Error(`Set ${defaulted.join(', ')}: development defaults are refused in production.`);
}

export interface ServiceDependencies<Config extends ServiceConfig = ServiceConfig> {
  config: Config;
  logger: Logger;
  pool: Pool;
  redis: Redis;
  kafka: Kafka;
  /** Registers something to close at shutdown, after HTTP drained and before the pools. */
  closeOnShutdown: (closer: Closer) => void;
}

/** What a service documents of its HTTP API: served as /openapi.json and /docs. */
export interface ServiceApi extends Omit<ApiInfo, 'serverUrl'> {
  operations: readonly Operation[];
}

export interface ServiceDefinition<Config extends ServiceConfig = ServiceConfig> {
  /** e.g. `merchant-onboarding`; also the CloudEvents `source` and the Kafka client id. */
  name: string;
  config: Config;
  /** The service's own numbered SQL migrations. */
  migrationsDirectory: string;
  /** Topics the service publishes to; created (with `.dlq` twins) when Kafka answers. */
  publishes: readonly string[];
  routes?: (router: Router, dependencies: ServiceDependencies<Config>) => void;
  /** Every route `routes` mounts must be one of these operations (checked at start). */
  api?: ServiceApi;
  consumers?: (dependencies: ServiceDependencies<Config>) => EventConsumer[];
}

export interface RunningService<Config extends ServiceConfig = ServiceConfig> {
  url: string;
  port: number;
  dependencies: ServiceDependencies<Config>;
  relay: OutboxRelay;
  server: RunningServer;
  shutdown: (reason?: string) => Promise<void>;
}

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

export async function startService<Config extends ServiceConfig>(
  definition: ServiceDefinition<Config>,
  options: { handleSignals?: boolean; logger?: Logger } = {},
): Promise<RunningService<Config>> {
  const { config, name } = definition;
  refuseDevelopmentSecrets(config);
  const logger = options.logger ?? createLogger({ service: name, level: config.LOG_LEVEL });
  await ensureDatabase(config.POSTGRES_URL, config.DATABASE_NAME, logger);
  const connectionString = databaseUrl(config.POSTGRES_URL, config.DATABASE_NAME);
  await migrate({
    connectionString,
    directory: EVENTS_MIGRATIONS_DIRECTORY,
    table: EVENTS_MIGRATIONS_TABLE,
    logger,
  });
  await migrate({
    connectionString,
    directory: definition.migrationsDirectory,
    table: 'pgmigrations',
    logger,
  });

  const pool = createPool({
    connectionString,
    connectionsMax: config.POSTGRES_POOL_SIZE_MAX,
    applicationName: name,
    logger,
  });
  const redis = createRedis({ url: config.REDIS_URL, logger, keyPrefix: config.REDIS_KEY_PREFIX });
  const kafka = createKafka({ brokers: config.KAFKA_BROKERS, clientId: name, logger });
  const extraClosers: Closer[] = [];
  const dependencies: ServiceDependencies<Config> = {
    config,
    logger,
    pool,
    redis,
    kafka,
    closeOnShutdown: (closer) => extraClosers.push(closer),
  };
  const topicPrefix = config.KAFKA_TOPIC_PREFIX;

  // The relay's own connection: under load it would otherwise queue for the request pool
  // behind the very transactions whose events it is late to publish.
  const relayPool = createPool({
    connectionString,
    connectionsMax: 1,
    applicationName: `${name}:outbox-relay`,
    logger,
  });
  const relay = new OutboxRelay({
    pool: relayPool,
    kafka,
    logger,
    batchSizeMax: config.OUTBOX_BATCH_SIZE_MAX,
    pollIntervalMs: config.OUTBOX_POLL_INTERVAL_MS,
    topicPrefix,
  });
  const consumers = definition.consumers?.(dependencies) ?? [];
  const retention = scheduleEventRetention(pool, config, logger);
  let stopping = false;
  const kafkaSetup = (async () => {
    await keepTrying(
      'ensure topics',
      () =>
        // Consumed topics too: services may start in any order, and creation is idempotent.
        ensureTopics(
          kafka,
          [
            ...new Set([
              ...definition.publishes,
              ...consumers.flatMap((consumer) => consumer.subscribedTopics),
            ]),
          ],
          {
            partitions: config.KAFKA_TOPIC_PARTITIONS,
            replicationFactor: config.KAFKA_REPLICATION_FACTOR,
            prefix: topicPrefix,
          },
        ),
      () => stopping,
      logger,
    );
    if (!stopping) relay.start();
    for (const consumer of consumers) {
      await keepTrying(
        'start consumer',
        () => consumer.start(),
        () => stopping,
        logger,
      );
    }
  })();

  const kafkaCheck = kafkaReadiness(kafka);
  const { api } = definition;
  // The documents name the server's own address, known once it listens (tests use port 0).
  let serverUrl = `http://${config.HOST}:${config.PORT}`;
  const handle = createApp({
    service: name,
    logger,
    bodyLimitBytes: config.HTTP_BODY_LIMIT_BYTES,
    readinessChecks: [
      { name: 'postgres', check: () => pingPostgres(pool) },
      { name: 'redis', check: () => pingRedis(redis) },
      { name: 'kafka', check: () => kafkaCheck.check() },
    ],
    routes: (router) => {
      router.use(merchantKeyRateLimit(redis, config.MERCHANT_RATE_LIMIT_PER_SECOND));
      definition.routes?.(router, dependencies);
    },
    ...(api === undefined
      ? {}
      : {
          docs: {
            operations: api.operations,
            openapi: () => openApiDocument({ ...api, serverUrl }, api.operations),
            asyncapi: () => asyncApiDocument(),
          },
        }),
  });
  const closers: Closer[] = [
    {
      name: 'kafka setup',
      close: async () => {
        stopping = true;
        await kafkaSetup;
      },
    },
    ...consumers.map((consumer, index) => ({ name: `consumer ${index + 1}`, close: () => consumer.stop() })),
    { name: 'outbox relay', close: () => relay.stop() },
    { name: 'event retention', close: () => retention.stop() },
    ...extraClosers,
    { name: 'kafka readiness', close: () => kafkaCheck.close() },
    { name: 'redis', close: () => closeRedis(redis) },
    { name: 'postgres pool', close: () => pool.end() },
    { name: 'outbox relay postgres pool', close: () => relayPool.end() },
  ];
  const server = await startHttpServer({
    handle,
    port: config.PORT,
    host: config.HOST,
    logger,
    shutdownGraceMs: config.SHUTDOWN_GRACE_MS,
    requestTimeoutMs: config.HTTP_REQUEST_TIMEOUT_MS,
    closers,
    handleSignals: options.handleSignals ?? false,
  });
  serverUrl = server.url;
  return { url: server.url, port: server.port, dependencies, relay, server, shutdown: server.shutdown };
}
