import path from 'node:path';
import {
  mapPage,
  pageOf,
  pageRowsLimit,
  createPool,
  dropDatabase,
  ensureDatabase,
  migrate,
  sqlState,
  withTransaction,
} from '@puhui/postgres';
import type { Pool, PoolClient } from '@puhui/postgres';
import { createTestDatabase, testPostgresUrl, uniqueSuffix } from '@puhui/testing';
import type { TestDatabase } from '@puhui/testing';

let database: TestDatabase;
let pool: Pool;

beforeAll(async () => {
  database = await createTestDatabase('postgres_lib');
  await migrate({
    connectionString: database.url,
    directory: path.join(__dirname, 'migrations'),
    table: 'pgmigrations',
  });
  pool = createPool({ connectionString: database.url, connectionsMax: 6, applicationName: 'postgres-test' });
});

afterAll(async () => {
  await pool.end();
  await database.drop();
});

beforeEach(async () => {
  await pool.query('TRUNCATE accounts, holds');
  await pool.query("INSERT INTO accounts (code, balance_minor) VALUES ('a', 100), ('b', 100)");
});

/** Resolves when `parties` callers have arrived: makes two transactions overlap on purpose. */
function barrier(parties: number): () => Promise<void> {
  let arrived = 0;
  let release: () => void = () => undefined;
  const allThere = new Promise<void>((resolve) => {
    release = resolve;
  });
  return async () => {
    arrived += 1;
    if (arrived === parties) release();
    await allThere;
  };
}

describe('withTransaction', () => {
  it('commits the work and returns its result', async () => {
    const result = await withTransaction(pool, async (client) => {
      await client.query('INSERT INTO holds (amount_minor) VALUES (5)');
      return 'done';
    });
    expect(result).toBe('done');
    expect((await pool.query('SELECT count(*)::int AS count FROM holds')).rows[0].count).toBe(1);
  });

  it('rolls everything back when the work throws', async () => {
    await expect(
      withTransaction(pool, async (client) => {
        await client.query('INSERT INTO holds (amount_minor) VALUES (5)');
        await client.query("UPDATE accounts SET balance_minor = balance_minor - 500 WHERE code = 'a'");
      }),
    ).rejects.toMatchObject({ code: '23514' });
    expect((await pool.query('SELECT count(*)::int AS count FROM holds')).rows[0].count).toBe(0);
  });

  it('runs a transaction again after a serialization failure, and both overlapping writers land', async () => {
    // Write skew under SERIALIZABLE: each reads the sum, then inserts; one must be retried.
    const bothRead = barrier(2);
    let attempts = 0;
    const writer = (amount: number) =>
      withTransaction(
        pool,
        async (client) => {
          attempts += 1;
          await client.query('SELECT sum(amount_minor) FROM holds');
          if (attempts <= 2) await bothRead();
          await client.query('INSERT INTO holds (amount_minor) VALUES ($1)', [amount]);
        },
        { isolation: 'serializable' },
      );
    await Promise.all([writer(1), writer(2)]);
    expect(attempts).toBeGreaterThanOrEqual(3);
    const { rows } = await pool.query('SELECT amount_minor FROM holds ORDER BY amount_minor');
    expect(rows.map((row) => Number(row.amount_minor))).toEqual([1, 2]);
  });

  it('runs a transaction again after a deadlock', async () => {
    // Locks taken in opposite orders: Postgres kills one with 40P01, the helper retries it.
    const bothLockedFirst = barrier(2);
    let attempts = 0;
    const transfer = (first: string, second: string) =>
      withTransaction(pool, async (client: PoolClient) => {
        attempts += 1;
        await client.query('UPDATE accounts SET balance_minor = balance_minor - 1 WHERE code = $1', [first]);
        if (attempts <= 2) await bothLockedFirst();
        await client.query('UPDATE accounts SET balance_minor = balance_minor + 1 WHERE code = $1', [second]);
      });
    await Promise.all([transfer('a', 'b'), transfer('b', 'a')]);
    expect(attempts).toBe(3);
    const { rows } = await pool.query('SELECT code, balance_minor FROM accounts ORDER BY code');
    expect(rows.map((row) => Number(row.balance_minor))).toEqual([100, 100]);
  });

  it('gives up after the bounded number of attempts', async () => {
    let attempts = 0;
    await expect(
      withTransaction(
        pool,
        async (client) => {
          attempts += 1;
          await client.query("DO $$ BEGIN RAISE EXCEPTION 'conflict' USING ERRCODE = '40001'; END $$");
        },
        { attemptsMax: 3 },
      ),
    ).rejects.toMatchObject({ code: '40001' });
    expect(attempts).toBe(3);
  });

  it('does not retry errors that cannot succeed on retry', async () => {
    let attempts = 0;
    const error = await withTransaction(pool, async (client) => {
      attempts += 1;
      await client.query("INSERT INTO accounts (code, balance_minor) VALUES ('a', 1)");
    }).catch((caught: unknown) => caught);
    expect(sqlState(error)).toBe('23505');
    expect(attempts).toBe(1);
  });
});

describe('a connection that drops inside a transaction', () => {
  it('fails that transaction instead of crashing the process, and the pool goes on', async () => {
    const killer = createPool({
      connectionString: database.url,
      connectionsMax: 1,
      applicationName: 'killer',
    });
    try {
      const outcome = withTransaction(pool, async (client) => {
        const { rows } = await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
        await client.query('INSERT INTO holds (amount_minor) VALUES (7)');
        // Between two queries (as when the work awaits something else), the server ends the
        // connection, as a restart does: the client emits 'error' with no query to fail.
        await killer.query('SELECT pg_terminate_backend($1)', [rows[0]?.pid]);
        await new Promise((resolve) => setTimeout(resolve, 200));
        await client.query('INSERT INTO holds (amount_minor) VALUES (8)');
      });
      await expect(outcome).rejects.toThrow();
      expect((await pool.query('SELECT count(*)::int AS count FROM holds')).rows[0].count).toBe(0);
      await withTransaction(pool, (client) => client.query('INSERT INTO holds (amount_minor) VALUES (9)'));
      expect((await pool.query('SELECT count(*)::int AS count FROM holds')).rows[0].count).toBe(1);
    } finally {
      await killer.end();
    }
  });
});

describe('database per service', () => {
  it('creates a database once, even when asked concurrently', async () => {
    const name = `test_ensure_${uniqueSuffix()}`;
    try {
      const created = await Promise.all([1, 2, 3].map(() => ensureDatabase(testPostgresUrl(), name)));
      expect(created.filter(Boolean)).toHaveLength(1);
      expect(await ensureDatabase(testPostgresUrl(), name)).toBe(false);
    } finally {
      await dropDatabase(testPostgresUrl(), name);
    }
  });

  it('refuses a database name that is not a plain identifier', async () => {
    await expect(ensureDatabase(testPostgresUrl(), 'x"; DROP DATABASE postgres; --')).rejects.toThrow(
      /unsafe/,
    );
  });
});

describe('migrations', () => {
  it('applies numbered SQL files once; a second run and concurrent runs apply nothing', async () => {
    const fresh = await createTestDatabase('postgres_migrate');
    try {
      const directory = path.join(__dirname, 'migrations');
      const first = await Promise.all(
        [1, 2].map(() => migrate({ connectionString: fresh.url, directory, table: 'pgmigrations' })),
      );
      expect(first.flat().sort()).toEqual(['0001_accounts', '0002_holds']);
      expect(await migrate({ connectionString: fresh.url, directory, table: 'pgmigrations' })).toEqual([]);
    } finally {
      await fresh.drop();
    }
  });
});

describe('pages', () => {
  it('shows limit rows of the limit + 1 read, and says whether more follow', () => {
    expect(pageRowsLimit({ limit: 2 })).toBe(3);
    expect(pageOf([1, 2, 3], { limit: 2 })).toEqual({ data: [1, 2], has_more: true });
    expect(pageOf([1, 2], { limit: 2 })).toEqual({ data: [1, 2], has_more: false });
    expect(pageOf([], { limit: 2 })).toEqual({ data: [], has_more: false });
    expect(mapPage({ data: [1, 2], has_more: true }, (value) => `#${value}`)).toEqual({
      data: ['#1', '#2'],
      has_more: true,
    });
  });
});
