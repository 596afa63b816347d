/**
 * Redis for caching (DESIGN §7): a client with bounded connect and command timeouts, so
 * that a slow or absent Redis costs a bounded wait and a cache miss, never a hung request.
 */
import Redis from 'ioredis';
import type { Logger } from '@puhui/logging';

export type { Redis } from 'ioredis';

export interface RedisSettings {
  /** redis:// or rediss:// (TLS). */
  url: string;
  /** An ACL user; unset, AUTH with the password alone. */
  username?: string;
  /** Sent with AUTH on each connection; never logged. */
  password?: string;
  /**
   * TLS options for a rediss:// URL: `ca` (PEM) is what Redis's certificate must chain to;
   * unset, Node's trusted CAs. The certificate is always verified (decision 0021).
   */
  tls?: { ca?: string };
  logger?: Logger;
  connectTimeoutMs?: number;
  /** Upper bound for one command, queueing included. */
  commandTimeoutMs?: number;
  /** Prepended to every key (tests share one Redis). */
  keyPrefix?: string;
}

const CONNECT_TIMEOUT_MS_DEFAULT = 2000;
const COMMAND_TIMEOUT_MS_DEFAULT = 500;
const RECONNECT_DELAY_MS_MAX = 2000;

/**
 * What a Redis error may say in a log line: its type, message and the command's name, never the
 * command's arguments. A refused AUTH (or HELLO) carries the password among them, and pino
 * would write the whole error object.
 */
export function loggableRedisError(error: Error): { type: string; message: string; command?: string } {
  const command = (error as Error & { command?: { name?: unknown } }).command;
  return {
    type: error.name,
    message: error.message,
    ...(typeof command?.name === 'string' ? { command: command.name } : {}),
  };
}

export function createRedis(settings: RedisSettings): Redis {
  const logger = settings.logger?.child({ component: 'redis' });
  const redis = new Redis(settings.url, {
    connectTimeout: settings.connectTimeoutMs ?? CONNECT_TIMEOUT_MS_DEFAULT,
    commandTimeout: settings.commandTimeoutMs ?? COMMAND_TIMEOUT_MS_DEFAULT,
    maxRetriesPerRequest: 1,
    // commandTimeout only starts once a command is written: without an offline queue a
    // command issued while Redis is unreachable (or not yet ready) fails at once instead.
    enableOfflineQueue: false,
    keyPrefix: settings.keyPrefix ?? '',
    ...(settings.username === undefined ? {} : { username: settings.username }),
    ...(settings.password === undefined ? {} : { password: settings.password }),
    ...(settings.tls === undefined ? {} : { tls: { rejectUnauthorized: true, ...settings.tls } }),
    retryStrategy: (attempt) => Math.min(attempt * 100, RECONNECT_DELAY_MS_MAX),
  });
  let reportedDown = false;
  redis.on('error', (error) => {
    // Report once per outage: ioredis emits on every reconnect attempt.
    if (!reportedDown) logger?.warn({ err: loggableRedisError(error) }, 'redis unavailable');
    reportedDown = true;
  });
  redis.on('ready', () => {
    if (reportedDown) logger?.info('redis back');
    reportedDown = false;
  });
  return redis;
}

/** Readiness: Redis answers PING within the command timeout. */
export async function pingRedis(redis: Redis): Promise<void> {
  if (redis.status !== 'ready') throw new Error(`redis is ${redis.status}`);
  const answer = await redis.ping();
  if (answer !== 'PONG') throw new Error(`unexpected PING answer: ${answer}`);
}

/** Closes gracefully (QUIT), or drops the connection if Redis does not answer. */
export async function closeRedis(redis: Redis): Promise<void> {
  try {
    await redis.quit();
  } catch {
    redis.disconnect();
  }
}

export { createRateLimiter } from './rate-limit';
export type { RateLimiter, RateLimitOutcome, RateLimitSettings } from './rate-limit';
export { SIGNED_VALUE_FORMAT, openCacheValue, signCacheValue } from './signed-value';
export type { OpenedValue, SignedValueRefusal } from './signed-value';
