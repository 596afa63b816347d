/** The helpers every test uses: where the infrastructure is, fresh databases, bounded waits, captured logs. */
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client } from 'pg';
import { createLogger, memoryDestination } from '@puhui/logging';
import type { Logger } from '@puhui/logging';

export function testPostgresUrl(): string {
  return process.env.POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432';
}

export function testRedisUrl(): string {
  return process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
}

export function testKafkaBrokers(): string[] {
  return (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',').map((broker) => broker.trim());
}

/** A short random suffix safe for database, topic and key names. */
export function uniqueSuffix(): string {
  return randomBytes(5).toString('hex');
}

function withDatabase(serverUrl: string, database: string): string {
  const url = new URL(serverUrl);
  url.pathname = `/${database}`;
  return url.toString();
}

export interface TestDatabase {
  name: string;
  url: string;
  drop: () => Promise<void>;
}

/** Creates an empty database `test_<label>_<random>`; `drop()` removes it. */
export async function createTestDatabase(label: string): Promise<TestDatabase> {
  const name = `test_${label.replace(/[^a-z0-9_]/gu, '_')}_${uniqueSuffix()}`;
  const serverUrl = testPostgresUrl();
  const admin = new Client({ connectionString: withDatabase(serverUrl, 'postgres') });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE "${name}"`);
  } finally {
    await admin.end();
  }
  return {
    name,
    url: withDatabase(serverUrl, name),
    drop: async () => {
      const dropper = new Client({ connectionString: withDatabase(serverUrl, 'postgres') });
      await dropper.connect();
      try {
        await dropper.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      } finally {
        await dropper.end();
      }
    },
  };
}

export interface WaitOptions {
  timeoutMs?: number;
  intervalMs?: number;
  description?: string;
}

/** Polls `probe` until it returns a value other than undefined/false, bounded in time. */
export async function waitFor<T>(
  probe: () => Promise<T | undefined | false> | T | undefined | false,
  options: WaitOptions = {},
): Promise<T> {
  const timeoutMs = options.timeoutMs ?? 20_000;
  const intervalMs = options.intervalMs ?? 50;
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value !== undefined && value !== false) return value;
    } catch (error) {
      lastError = error;
    }
    await sleep(intervalMs);
  }
  const cause = lastError === undefined ? '' : ` (last error: ${String(lastError)})`;
  throw new Error(
    `timed out after ${timeoutMs} ms waiting for ${options.description ?? 'condition'}${cause}`,
  );
}

export interface CapturedLogger {
  logger: Logger;
  lines: Record<string, unknown>[];
  /** Every line as written, for scans (no card numbers, no secrets). */
  text: () => string;
}

export function captureLogger(service = 'test', level: 'debug' | 'info' | 'warn' = 'debug'): CapturedLogger {
  const { destination, lines, raw } = memoryDestination();
  return { logger: createLogger({ service, level, destination }), lines, text: () => raw.join('') };
}
