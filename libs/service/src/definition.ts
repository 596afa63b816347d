/**
 * What a service declares (decision 0010): its name, config and migrations, the clients it needs
 * besides its Postgres database, its routes, API, consumers and background jobs.
 */
import type { Router } from 'express';
import type { Redis } from '@puhui/cache';
import type { EventConsumer, Kafka } from '@puhui/events';
import type { ApiInfo, Closer, Operation } from '@puhui/http';
import type { Logger } from '@puhui/logging';
import type { Registry } from '@puhui/metrics';
import type { MigrationSource, Pool } from '@puhui/postgres';
import type { ServiceConfig } from './environment';
import type { Job } from './jobs';

/** The clients a service may declare besides its own Postgres database, which every service has. */
export type ServiceClient = 'redis' | 'kafka';

interface Clients {
  redis: Redis;
  kafka: Kafka;
}

/** What routes, consumers and jobs are built from: only the clients the service declared. */
export type ServiceDependencies<
  Config extends ServiceConfig = ServiceConfig,
  Uses extends ServiceClient = ServiceClient,
> = {
  config: Config;
  logger: Logger;
  pool: Pool;
  /** Registers something to close at shutdown, after HTTP drained and before the pools. */
  closeOnShutdown: (closer: Closer) => void;
} & Pick<Clients, Uses>;

/** What a service documents of its HTTP API: served as /openapi.json and /docs. */
export interface ServiceApi extends Omit<ApiInfo, 'serverUrl'> {
  operations: readonly Operation[];
}

export interface KafkaUse<Dependencies> {
  /** Topics the service publishes to; created (with `.dlq` twins) when Kafka answers. */
  publishes: readonly string[];
  consumers?: (dependencies: Dependencies) => EventConsumer[];
}

interface DefinitionBase<Dependencies, Config> {
  /** e.g. `merchant-onboarding`; also the CloudEvents `source` and the Kafka client id. */
  name: string;
  config: Config;
  /** The service's own numbered SQL migrations. */
  migrationsDirectory: string;
  /**
   * Tables of libraries the service uses (e.g. @puhui/idempotency's IDEMPOTENCY_MIGRATIONS),
   * applied after the service's own migrations, each recorded in its own table.
   */
  libraryMigrations?: readonly MigrationSource[];
  routes?: (router: Router, dependencies: Dependencies) => void;
  /** Routes ahead of the JSON body parser that read or forward the body stream themselves (app.ts). */
  streamingRoutes?: (router: Router, dependencies: Dependencies) => void;
  /** Every route `routes` mounts must be one of these operations (checked at start). */
  api?: ServiceApi;
  /** Background work (jobs.ts): run from start to shutdown, each on its own interval. */
  jobs?: (dependencies: Dependencies) => Job[];
  /**
   * The service's own metrics (decision 0024): called once, after its clients exist, with the
   * process's registry, on which it registers its collectors. Served at GET /metrics with the
   * platform's (HTTP, pools, outbox, consumers, jobs, Node's).
   */
  metrics?: (dependencies: Dependencies, registry: Registry) => void;
}

/**
 * A service: its name, config and migrations, what it needs besides Postgres, and what it runs.
 * `redis: true` gives it a Redis client, a readiness check and the merchant key rate limit;
 * `kafka` its topics, the outbox relay, consumers and the pruning of the event tables. The
 * type's second argument names them, so that code cannot reach a client the service did not
 * declare: `ServiceDefinition<Config, 'redis'>` for Redis alone, `never` for neither.
 */
export type ServiceDefinition<
  Config extends ServiceConfig = ServiceConfig,
  Uses extends ServiceClient = ServiceClient,
> = DefinitionBase<ServiceDependencies<Config, Uses>, Config> &
  ('redis' extends Uses ? { redis: true } : { redis?: never }) &
  ('kafka' extends Uses ? { kafka: KafkaUse<ServiceDependencies<Config, Uses>> } : { kafka?: never });

/** The dependencies as startService holds them: whichever clients the service declared. */
export type DeclaredDependencies<Config extends ServiceConfig> = ServiceDependencies<Config, never> &
  Partial<Clients>;

/** The definition as startService reads it: whichever clients it declared. */
export type DeclaredDefinition<Config extends ServiceConfig> = DefinitionBase<
  DeclaredDependencies<Config>,
  Config
> & {
  redis?: true;
  kafka?: KafkaUse<DeclaredDependencies<Config>>;
};

export interface RunningService<
  Config extends ServiceConfig = ServiceConfig,
  Uses extends ServiceClient = ServiceClient,
> {
  url: string;
  port: number;
  dependencies: ServiceDependencies<Config, Uses>;
  /** The process's metrics registry (what /metrics serves). */
  metrics: Registry;
  shutdown: (reason?: string) => Promise<void>;
}
