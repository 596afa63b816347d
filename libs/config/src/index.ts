/**
 * Configuration: the environment parsed once with zod into a frozen object, with defaults
 * that work on a developer machine (Postgres, Redis and Kafka on 127.0.0.1), and the
 * registry of services those defaults come from (services.ts).
 */
import { z } from 'zod';
import { KAFKA_CONNECTION_SETTINGS, REDIS_CONNECTION_SETTINGS } from './connections';
import { ConfigError } from './errors';
import { HTTP_SETTINGS } from './http';
import { METRICS_SETTINGS } from './metrics';

export * from './secret-strength';
export { HTTP_SETTINGS } from './http';
export { METRICS_SCRAPE_TOKEN_LENGTH_MIN, METRICS_SETTINGS } from './metrics';
export * from './services';
export * from './connections';

export const SECOND_MS = 1000;
export const MINUTE_MS = 60 * SECOND_MS;
export const HOUR_MS = 60 * MINUTE_MS;
export const DAY_MS = 24 * HOUR_MS;

export { ConfigError } from './errors';

/** A comma-separated list, e.g. `KAFKA_BROKERS=a:9092,b:9092`. */
export const commaSeparated = z
  .string()
  .transform((value) =>
    value
      .split(',')
      .map((item) => item.trim())
      .filter((item) => item.length > 0),
  )
  .pipe(z.array(z.string()).min(1));

/** `true/false/1/0/yes/no`, as people write them in .env files. */
export const booleanFlag = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((value) => value === 'true' || value === '1' || value === 'yes');

export const port = z.coerce.number().int().min(0).max(65535);
export const positiveInteger = z.coerce.number().int().positive();
export const logLevel = z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']);

/**
 * Settings every service shares. A service extends it with its own (`PORT` and the like):
 * `platformEnvironment.extend({ PORT: port.default(defaultPort('discount-rules')) })`.
 */
export const platformEnvironment = z.object({
  /**
   * Unset means production (decision 0020): a deployment that forgets to say what it is gets
   * the strict checks — its secrets must be set, none at a development default — instead of
   * booting on the development keys in this repository. Developer machines, `npm start` and the
   * tests say `development` or `test` explicitly.
   */
  NODE_ENV: z.enum(['development', 'test', 'production']).default('production'),
  LOG_LEVEL: logLevel.default('info'),
  HOST: z.string().default('127.0.0.1'),
  /** Server URL without a database; each service appends its own database name. */
  POSTGRES_URL: z.url().default('postgres://postgres@127.0.0.1:5432'),
  POSTGRES_POOL_SIZE_MAX: positiveInteger.default(10),
  /** REDIS_URL and how to authenticate and encrypt (connections.ts, decision 0021). */
  ...REDIS_CONNECTION_SETTINGS,
  /** Prepended to every Redis key (tests share one Redis); services that share keys share it. */
  REDIS_KEY_PREFIX: z.string().default(''),
  KAFKA_BROKERS: commaSeparated.default(['127.0.0.1:9092']),
  /** TLS and SASL/SCRAM towards the brokers (connections.ts, decision 0021). */
  ...KAFKA_CONNECTION_SETTINGS,
  KAFKA_TOPIC_PARTITIONS: positiveInteger.default(3),
  KAFKA_REPLICATION_FACTOR: positiveInteger.default(1),
  /** Prefix for every topic name, so that tests and tenants can share a broker. */
  KAFKA_TOPIC_PREFIX: z.string().default(''),
  /** The HTTP server's limits (http.ts, decision 0018). */
  ...HTTP_SETTINGS,
  /** GET /metrics (metrics.ts, decision 0024). */
  ...METRICS_SETTINGS,
  /** How long SIGTERM waits for in-flight requests before closing pools. */
  SHUTDOWN_GRACE_MS: positiveInteger.default(10 * SECOND_MS),
  OUTBOX_POLL_INTERVAL_MS: positiveInteger.default(100),
  OUTBOX_BATCH_SIZE_MAX: positiveInteger.default(500),
  /** Published outbox rows are deleted after this long (7 days). */
  OUTBOX_RETENTION_HOURS: positiveInteger.default(7 * 24),
  /**
   * Inbox rows (applied event ids) are deleted after this long (30 days): it must exceed
   * Kafka's retention, or an old event coming back could apply twice.
   */
  INBOX_RETENTION_HOURS: positiveInteger.default(30 * 24),
  EVENT_RETENTION_INTERVAL_MS: positiveInteger.default(3600 * SECOND_MS),
});
export type PlatformConfig = z.infer<typeof platformEnvironment>;

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}

/**
 * Parses `environment` (default: process.env) once. Empty strings count as unset, so a
 * blank line in `.env` falls back to the default instead of failing.
 */
export function loadConfig<Schema extends z.ZodType>(
  schema: Schema,
  environment: Record<string, string | undefined> = process.env,
): Readonly<z.infer<Schema>> {
  const present = Object.fromEntries(
    Object.entries(environment).filter(([, value]) => value !== undefined && value !== ''),
  );
  const result = schema.safeParse(present);
  if (!result.success) {
    throw new ConfigError(result.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`));
  }
  return deepFreeze(result.data);
}
