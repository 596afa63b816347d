/**
 * Postgres: one pool per service database, one transaction helper that owns
 * BEGIN/COMMIT/ROLLBACK with bounded retry, SQL-file migrations (node-pg-migrate), and
 * the service's database created on demand.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { Client, Pool, escapeLiteral } from 'pg';
import type { PoolClient, QueryResult } from 'pg';
import { runner } from 'node-pg-migrate';
import type { Logger } from '@puhui/logging';

export type { Pool, PoolClient, QueryResult } from 'pg';

/** A pool for single statements, or the client of an open transaction: what a store function reads with. */
export type Queryable = Pick<PoolClient, 'query'> | Pool;
export { escapeLiteral };

/** A cursor page's request (DESIGN §10): at most `limit` items, after the one `starting_after` names. */
export interface PageRequest {
  starting_after?: string;
  limit: number;
}

/** One page of a list, as every list operation answers it. */
export interface Page<T> {
  data: T[];
  has_more: boolean;
}

/** The LIMIT of a page's query: one row more than the page shows tells whether another follows. */
export function pageRowsLimit(page: Pick<PageRequest, 'limit'>): number {
  return page.limit + 1;
}

/** The page of `rows`, read with at most pageRowsLimit(page) of them. */
export function pageOf<T>(rows: readonly T[], page: Pick<PageRequest, 'limit'>): Page<T> {
  return { data: rows.slice(0, page.limit), has_more: rows.length > page.limit };
}

/** The page with each item turned into its view. */
export function mapPage<T, View>(page: Page<T>, view: (item: T) => View): Page<View> {
  return { data: page.data.map((item) => view(item)), has_more: page.has_more };
}

export interface PoolSettings {
  connectionString: string;
  connectionsMax: number;
  applicationName: string;
  /** Upper bound for any one statement; a runaway query fails instead of holding locks. */
  statementTimeoutMs?: number;
  logger?: Logger;
  /**
   * Told the seconds each connection took to get (pool.connect, which pool.query uses too),
   * failed attempts included: the pool's wait, for @puhui/metrics.
   */
  acquireObserver?: (seconds: number) => void;
}

const STATEMENT_TIMEOUT_MS_DEFAULT = 30_000;
const CONNECT_TIMEOUT_MS = 5_000;
const IDLE_TIMEOUT_MS = 30_000;

export function createPool(settings: PoolSettings): Pool {
  const pool = new Pool({
    connectionString: settings.connectionString,
    max: settings.connectionsMax,
    application_name: settings.applicationName,
    statement_timeout: settings.statementTimeoutMs ?? STATEMENT_TIMEOUT_MS_DEFAULT,
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    idleTimeoutMillis: IDLE_TIMEOUT_MS,
  });
  if (settings.acquireObserver !== undefined) observeAcquire(pool, settings.acquireObserver);
  // An idle client that loses its connection emits here; unhandled, it would crash the process.
  // Only the message and code: pg's error objects carry the whole client.
  pool.on('error', (error) =>
    settings.logger?.warn(
      { error: error.message, sql_state: sqlState(error) },
      'idle postgres client failed',
    ),
  );
  return pool;
}

type ConnectCallback = (error: Error | undefined, client: PoolClient | undefined, done: unknown) => void;

/**
 * Wraps the pool's connect so that each acquisition's wait is observed. pg-pool's own query()
 * calls `this.connect(callback)`, so both forms are wrapped; two hrtime reads per acquisition.
 */
function observeAcquire(pool: Pool, observe: (seconds: number) => void): void {
  const connect = pool.connect.bind(pool) as (callback?: ConnectCallback) => Promise<PoolClient> | undefined;
  const observed = (callback?: ConnectCallback) => {
    const startedAt = process.hrtime.bigint();
    const elapsed = () => observe(Number(process.hrtime.bigint() - startedAt) / 1e9);
    if (callback !== undefined)
      return connect((error, client, done) => {
        elapsed();
        callback(error, client, done);
      });
    return (connect() as Promise<PoolClient>).then(
      (client) => {
        elapsed();
        return client;
      },
      (error: unknown) => {
        elapsed();
        throw error;
      },
    );
  };
  pool.connect = observed as Pool['connect'];
}

export async function pingPostgres(pool: Pool): Promise<void> {
  await pool.query('SELECT 1');
}

/** SQLSTATEs that can succeed when the whole transaction is run again. */
const RETRYABLE_SQLSTATES = new Set([
  '40001', // serialization_failure
  '40P01', // deadlock_detected
]);

export function sqlState(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

export function isRetryableTransactionError(error: unknown): boolean {
  const state = sqlState(error);
  return state !== undefined && RETRYABLE_SQLSTATES.has(state);
}

export type IsolationLevel = 'read committed' | 'repeatable read' | 'serializable';

export interface TransactionOptions {
  isolation?: IsolationLevel;
  /**
   * Statements sent with BEGIN in the same round trip (the simple protocol: no parameters,
   * so any value in them must be an escaped literal, `escapeLiteral`). Their results, in
   * order, are `work`'s second argument. For hot paths whose first statement is known before
   * the transaction starts.
   */
  beginWith?: string;
  /** Total attempts, the first included. */
  attemptsMax?: number;
  logger?: Logger;
}

export const TRANSACTION_ATTEMPTS_MAX_DEFAULT = 5;
const RETRY_BACKOFF_BASE_MS = 5;
const RETRY_BACKOFF_CAP_MS = 200;

/**
 * Runs `work` in a transaction on one pooled client. On serialization failure or deadlock
 * the transaction is rolled back and run again, at most `attemptsMax` times in all, with
 * jittered exponential backoff. `work` must therefore not have effects outside the database.
 */
export async function withTransaction<T>(
  pool: Pool,
  work: (client: PoolClient, begun: QueryResult[]) => Promise<T>,
  options: TransactionOptions = {},
): Promise<T> {
  const attemptsMax = options.attemptsMax ?? TRANSACTION_ATTEMPTS_MAX_DEFAULT;
  const isolation = options.isolation ?? 'read committed';
  for (let attempt = 1; ; attempt += 1) {
    const client = await pool.connect();
    let clientBroken = false;
    // A checked-out client whose connection drops between two queries (the server restarted,
    // a network cut) emits 'error'; the pool listens only while a client is idle, and an
    // unheard 'error' would crash the process. The transaction fails instead, and the client
    // is discarded.
    let connectionError: Error | undefined;
    const onConnectionError = (error: Error) => {
      connectionError = error;
      clientBroken = true;
    };
    client.on('error', onConnectionError);
    try {
      const begin = `BEGIN ISOLATION LEVEL ${isolation.toUpperCase()}`;
      let begun: QueryResult[] = [];
      if (options.beginWith === undefined) {
        await client.query(begin);
      } else {
        const results = (await client.query(`${begin}; ${options.beginWith}`)) as unknown as QueryResult[];
        begun = results.slice(1);
      }
      const result = await work(client, begun);
      if (connectionError !== undefined) throw connectionError;
      await client.query('COMMIT');
      return result;
    } catch (error) {
      try {
        await client.query('ROLLBACK');
      } catch {
        clientBroken = true;
      }
      if (!isRetryableTransactionError(error) || attempt >= attemptsMax) throw error;
      const backoffMs = Math.min(RETRY_BACKOFF_CAP_MS, RETRY_BACKOFF_BASE_MS * 2 ** attempt);
      options.logger?.debug({ attempt, sql_state: sqlState(error) }, 'transaction retried');
      await sleep(Math.round(backoffMs / 2 + Math.random() * (backoffMs / 2)));
    } finally {
      client.off('error', onConnectionError);
      client.release(clientBroken);
    }
  }
}

const DATABASE_NAME_SHAPE = /^[a-z_][a-z0-9_]{0,62}$/u;

/** The server URL with its path replaced by `databaseName`. */
export function databaseUrl(serverUrl: string, databaseName: string): string {
  const url = new URL(serverUrl);
  url.pathname = `/${databaseName}`;
  return url.toString();
}

/** Creates `databaseName` on the server unless it exists; safe when run concurrently. */
export async function ensureDatabase(
  serverUrl: string,
  databaseName: string,
  logger?: Logger,
): Promise<boolean> {
  if (!DATABASE_NAME_SHAPE.test(databaseName)) throw new Error(`unsafe database name: ${databaseName}`);
  const client = new Client({ connectionString: databaseUrl(serverUrl, 'postgres') });
  await client.connect();
  try {
    const existing = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [databaseName]);
    if (existing.rowCount === 1) return false;
    try {
      await client.query(`CREATE DATABASE "${databaseName}"`);
    } catch (error) {
      // 42P04 duplicate_database; 23505 when two CREATEs race on pg_database's unique index.
      if (sqlState(error) === '42P04' || sqlState(error) === '23505') return false;
      throw error;
    }
    logger?.info({ database: databaseName }, 'database created');
    return true;
  } finally {
    await client.end();
  }
}

export async function dropDatabase(serverUrl: string, databaseName: string): Promise<void> {
  if (!DATABASE_NAME_SHAPE.test(databaseName)) throw new Error(`unsafe database name: ${databaseName}`);
  const client = new Client({ connectionString: databaseUrl(serverUrl, 'postgres') });
  await client.connect();
  try {
    await client.query(`DROP DATABASE IF EXISTS "${databaseName}" WITH (FORCE)`);
  } finally {
    await client.end();
  }
}

/** A folder of migrations and the table that records which of them ran. */
export interface MigrationSource {
  /** Folder of numbered SQL files (`0001_outbox.sql`), each with `-- Up Migration`. */
  directory: string;
  /** Separate tables let platform and service migrations number their files independently. */
  table: string;
}

export interface MigrationSettings extends MigrationSource {
  connectionString: string;
  logger?: Logger;
}

/**
 * Applies pending migrations in one transaction and returns the names applied. Replicas
 * starting together wait for each other on an advisory lock (node-pg-migrate's own lock
 * fails instead of waiting), so exactly one migrates and the others find nothing to do.
 */
export async function migrate(settings: MigrationSettings): Promise<string[]> {
  const client = new Client({ connectionString: settings.connectionString });
  await client.connect();
  try {
    await client.query('SELECT pg_advisory_lock(hashtext($1))', [`migrate:${settings.table}`]);
    const applied = await runner({
      dbClient: client,
      dir: settings.directory,
      migrationsTable: settings.table,
      direction: 'up',
      count: Infinity,
      checkOrder: true,
      singleTransaction: true,
      log: (message: string) => settings.logger?.debug({ migration_table: settings.table }, message),
    });
    const names = applied.map((migration) => migration.name);
    if (names.length > 0) settings.logger?.info({ migrations: names, table: settings.table }, 'migrated');
    return names;
  } finally {
    await client.end();
  }
}
