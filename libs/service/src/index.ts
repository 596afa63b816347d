/**
 * Boots a Puhui service the same way every time: config → logger → its own database
 * (created on demand) and migrations → pools and the clients it declared → outbox relay and
 * consumers (when it declared Kafka) → background jobs → HTTP with health and readiness.
 * Shutdown drains HTTP, stops the jobs, the Kafka side and what the service registered, and
 * closes the clients and pools last (decision 0010).
 */
import { closeRedis, createRedis, pingRedis } from '@puhui/cache';
import { asyncApiDocument } from '@puhui/catalogue';
import { kafkaConnectionOf, redisConnectionOf } from '@puhui/config';
import { EVENTS_MIGRATIONS_DIRECTORY, EVENTS_MIGRATIONS_TABLE, createKafka } from '@puhui/events';
import { createApp, openApiDocument, startHttpServer } from '@puhui/http';
import type { AppHandle, Closer } from '@puhui/http';
import { createLogger } from '@puhui/logging';
import type { Logger } from '@puhui/logging';
import { HttpMetrics, JobMetrics, PoolMetrics, createMetricsRegistry, scrape } from '@puhui/metrics';
import type { Registry } from '@puhui/metrics';
import { createPool, databaseUrl, ensureDatabase, migrate, pingPostgres } from '@puhui/postgres';
import type {
  DeclaredDefinition,
  DeclaredDependencies,
  RunningService,
  ServiceClient,
  ServiceDefinition,
  ServiceDependencies,
} from './definition';
import { refuseUnsafeSecrets } from './environment';
import type { ServiceConfig } from './environment';
import { startEvents } from './events';
import type { RunningEvents } from './events';
import { JobRunner } from './jobs';
import { eventPipelineMetrics } from './metrics';
import { merchantKeyRateLimit } from './rate-limit';
import { eventRetentionJob } from './retention';

export type {
  KafkaUse,
  RunningService,
  ServiceApi,
  ServiceClient,
  ServiceDefinition,
  ServiceDependencies,
} from './definition';
export { serviceEnvironment } from './environment';
export type { SecretName, ServiceConfig } from './environment';
export { JobRunner } from './jobs';
export { operatorTokenVerifierFor } from './operator-tokens';
export type { Job, JobRunnerSettings } from './jobs';

/** Creates the service's database if needed and applies its migrations (and the event and library tables'). */
async function prepareDatabase<Config extends ServiceConfig>(
  definition: DeclaredDefinition<Config>,
  logger: Logger,
): Promise<string> {
  const { config } = definition;
  await ensureDatabase(config.POSTGRES_URL, config.DATABASE_NAME, logger);
  const connectionString = databaseUrl(config.POSTGRES_URL, config.DATABASE_NAME);
  if (definition.kafka !== undefined) {
    await migrate({
      connectionString,
      directory: EVENTS_MIGRATIONS_DIRECTORY,
      table: EVENTS_MIGRATIONS_TABLE,
      logger,
    });
  }
  await migrate({
    connectionString,
    directory: definition.migrationsDirectory,
    table: 'pgmigrations',
    logger,
  });
  for (const library of definition.libraryMigrations ?? [])
    await migrate({ connectionString, ...library, logger });
  return connectionString;
}

/** The request pool and the declared clients, with their readiness checks and closers (last first). */
function createClients<Config extends ServiceConfig>(
  definition: DeclaredDefinition<Config>,
  connectionString: string,
  logger: Logger,
  pools: PoolMetrics,
) {
  const { config, name } = definition;
  // Read (and checked) before anything is opened: a bad CA file or half a SASL setting stops the
  // boot with a ConfigError and leaves no pool behind.
  const redisConnection = definition.redis === true ? redisConnectionOf(config) : undefined;
  const kafkaConnection = definition.kafka === undefined ? undefined : kafkaConnectionOf(config);
  const pool = createPool({
    connectionString,
    connectionsMax: config.POSTGRES_POOL_SIZE_MAX,
    applicationName: name,
    logger,
    acquireObserver: pools.observer('requests'),
  });
  pools.track('requests', pool);
  const registered: Closer[] = [];
  const dependencies: DeclaredDependencies<Config> = {
    config,
    logger,
    pool,
    closeOnShutdown: (closer) => registered.push(closer),
  };
  const readinessChecks = [{ name: 'postgres', check: () => pingPostgres(pool) }];
  const closers: Closer[] = [{ name: 'postgres pool', close: () => pool.end() }];
  if (redisConnection !== undefined) {
    const redis = createRedis({ ...redisConnection, logger, keyPrefix: config.REDIS_KEY_PREFIX });
    dependencies.redis = redis;
    readinessChecks.push({ name: 'redis', check: () => pingRedis(redis) });
    closers.unshift({ name: 'redis', close: () => closeRedis(redis) });
  }
  if (kafkaConnection !== undefined) {
    dependencies.kafka = createKafka({
      ...kafkaConnection,
      brokers: config.KAFKA_BROKERS,
      clientId: name,
      logger,
    });
  }
  return { dependencies, readinessChecks, clientClosers: closers, registered };
}

/** The jobs the service declared, and the pruning of the event tables when it has them. */
function createJobs<Config extends ServiceConfig>(
  definition: DeclaredDefinition<Config>,
  dependencies: DeclaredDependencies<Config>,
  connectionString: string,
  metrics: { registry: Registry; pools: PoolMetrics },
) {
  const { config, name } = definition;
  const { pools } = metrics;
  const jobs = definition.jobs?.(dependencies) ?? [];
  if (definition.kafka !== undefined)
    jobs.push(eventRetentionJob(dependencies.pool, config, dependencies.logger));
  // Leader jobs hold a connection for their lock through each pass: their own pool, one each,
  // so that a pass never waits for the request pool (or a request for a pass).
  const lockPool = createPool({
    connectionString,
    connectionsMax: Math.max(1, jobs.filter((job) => job.leader === true).length),
    applicationName: `${name}:jobs`,
    logger: dependencies.logger,
    acquireObserver: pools.observer('jobs'),
  });
  pools.track('jobs', lockPool);
  const observer = new JobMetrics(metrics.registry);
  observer.expect(jobs);
  return { runner: new JobRunner({ jobs, lockPool, logger: dependencies.logger, observer }), lockPool };
}

/** The Kafka side, when the service declared Kafka. */
function startDeclaredEvents<Config extends ServiceConfig>(
  definition: DeclaredDefinition<Config>,
  dependencies: DeclaredDependencies<Config>,
  connectionString: string,
  metrics: { registry: Registry; pools: PoolMetrics },
): RunningEvents | undefined {
  const { kafka: use, config, name } = definition;
  const { kafka, logger } = dependencies;
  if (use === undefined || kafka === undefined) return undefined;
  const consumers = use.consumers?.(dependencies) ?? [];
  const pipeline = eventPipelineMetrics({
    registry: metrics.registry,
    pool: dependencies.pool,
    kafka,
    consumers,
    publishes: use.publishes,
    collectMaxAgeMs: config.METRICS_COLLECT_MAX_AGE_MS,
  });
  return startEvents({
    name,
    config,
    connectionString,
    kafka,
    logger,
    pools: metrics.pools,
    metrics: pipeline,
    publishes: use.publishes,
    consumers,
  });
}

/**
 * Shutdown, after HTTP drained: jobs first (a pass under way may still use every client and
 * write events the relay publishes), then the Kafka side, what the service registered, and the
 * clients and pools last.
 */
function shutdownOrder(parts: {
  jobs: ReturnType<typeof createJobs<ServiceConfig>>;
  events: RunningEvents | undefined;
  registered: readonly Closer[];
  clientClosers: readonly Closer[];
}): Closer[] {
  const { jobs, events } = parts;
  return [
    { name: 'jobs', close: () => jobs.runner.stop() },
    ...(events?.closers ?? []),
    ...parts.registered,
    ...(events === undefined ? [] : [events.readinessCloser]),
    ...parts.clientClosers,
    { name: 'jobs postgres pool', close: () => jobs.lockPool.end() },
  ];
}

/**
 * The Express app: readiness, the HTTP limits of decision 0018, the merchant key rate limit
 * (with Redis), routes and their documents.
 */
function createHttp<Config extends ServiceConfig>(
  definition: DeclaredDefinition<Config>,
  dependencies: DeclaredDependencies<Config>,
  readinessChecks: { name: string; check: () => Promise<void> }[],
  serverUrl: () => string,
  registry: Registry,
): AppHandle {
  const { api, config, name } = definition;
  return createApp({
    service: name,
    logger: dependencies.logger,
    requestObserver: new HttpMetrics(registry),
    metrics: {
      scrape: () => scrape(registry),
      scrapeTokens: [config.METRICS_SCRAPE_TOKEN, config.METRICS_SCRAPE_TOKEN_PREVIOUS].filter(
        (token): token is string => token !== undefined,
      ),
    },
    bodyLimitBytes: config.HTTP_BODY_LIMIT_BYTES,
    requestTimeoutMs: config.HTTP_REQUEST_TIMEOUT_MS,
    bodyRate: {
      bodyRateBytesPerSecondMin: config.HTTP_BODY_RATE_BYTES_PER_SECOND_MIN,
      bodyRateGraceMs: config.HTTP_BODY_RATE_GRACE_MS,
    },
    failedAuthentication: {
      perAddressMax: config.HTTP_FAILED_AUTHENTICATIONS_PER_ADDRESS_MAX,
      windowMs: config.HTTP_FAILED_AUTHENTICATION_WINDOW_MS,
      addressesMax: config.HTTP_FAILED_AUTHENTICATION_ADDRESSES_MAX,
    },
    servedOverTls: config.HTTP_SERVED_OVER_TLS,
    // Every service's routes say how their callers are checked, before any body is read.
    requireCallerCheck: true,
    readinessChecks,
    ...(definition.streamingRoutes === undefined
      ? {}
      : { beforeBodyParser: (router) => definition.streamingRoutes?.(router, dependencies) }),
    routes: (router) => {
      const { redis } = dependencies;
      if (redis !== undefined) router.use(merchantKeyRateLimit(redis, config.MERCHANT_RATE_LIMIT_PER_SECOND));
      definition.routes?.(router, dependencies);
    },
    ...(api === undefined
      ? {}
      : {
          docs: {
            operations: api.operations,
            openapi: () => openApiDocument({ ...api, serverUrl: serverUrl() }, api.operations),
            asyncapi: () => asyncApiDocument(),
          },
        }),
  });
}

export async function startService<Config extends ServiceConfig, Uses extends ServiceClient = ServiceClient>(
  service: ServiceDefinition<Config, Uses>,
  options: { handleSignals?: boolean; logger?: Logger } = {},
): Promise<RunningService<Config, Uses>> {
  // The declaration types what the service's own code may reach; from here on, it says what to create.
  const definition = service as DeclaredDefinition<Config>;
  const { config, name } = definition;
  refuseUnsafeSecrets(config);
  const logger = options.logger ?? createLogger({ service: name, level: config.LOG_LEVEL });
  const connectionString = await prepareDatabase(definition, logger);
  const registry = createMetricsRegistry(name);
  const pools = new PoolMetrics(registry);
  const { dependencies, readinessChecks, clientClosers, registered } = createClients(
    definition,
    connectionString,
    logger,
    pools,
  );
  definition.metrics?.(dependencies, registry);
  const events = startDeclaredEvents(definition, dependencies, connectionString, { registry, pools });
  if (events !== undefined) readinessChecks.push(events.readiness);
  const jobs = createJobs(definition, dependencies, connectionString, { registry, pools });
  // The documents name the server's own address, known once it listens (tests use port 0).
  let serverUrl = `http://${config.HOST}:${config.PORT}`;
  const handle = createHttp(definition, dependencies, readinessChecks, () => serverUrl, registry);
  await jobs.runner.start();
  const server = await startHttpServer({
    handle,
    port: config.PORT,
    host: config.HOST,
    logger,
    shutdownGraceMs: config.SHUTDOWN_GRACE_MS,
    headersTimeoutMs: config.HTTP_HEADERS_TIMEOUT_MS,
    connectionsMax: config.HTTP_CONNECTIONS_MAX,
    closers: shutdownOrder({ jobs, events, registered, clientClosers }),
    handleSignals: options.handleSignals ?? false,
  });
  serverUrl = server.url;
  return {
    url: server.url,
    port: server.port,
    dependencies: dependencies as ServiceDependencies<Config, Uses>,
    metrics: registry,
    shutdown: server.shutdown,
  };
}

/**
 * A service's main.ts: starts it with SIGTERM/SIGINT handling (drain, stop, close, exit 0), or
 * prints why it could not start and exits 1.
 */
export function runService<Config extends ServiceConfig, Uses extends ServiceClient>(
  definition: ServiceDefinition<Config, Uses>,
): void {
  startService(definition, { handleSignals: true }).catch((error: unknown) => {
    process.stderr.write(`${definition.name} failed to start: ${String((error as Error).stack ?? error)}\n`);
    process.exit(1);
  });
}
