/**
 * runIdempotently against the real Postgres: one effect per key, the stored answer replayed,
 * 422 for the key reused with another request, 409 while the first request is in flight.
 */
import { DomainError } from '@puhui/errors';
import { IDEMPOTENCY_MIGRATIONS, requestHash, runIdempotently } from '@puhui/idempotency';
import type { IdempotencyContext } from '@puhui/idempotency';
import { createPool, migrate } from '@puhui/postgres';
import type { Pool, PoolClient } from '@puhui/postgres';
import { createTestDatabase } from '@puhui/testing';
import type { TestDatabase } from '@puhui/testing';

let database: TestDatabase;
let pool: Pool;
let context: IdempotencyContext;
let serial = 0;

beforeAll(async () => {
  database = await createTestDatabase('idempotency');
  await migrate({ connectionString: database.url, ...IDEMPOTENCY_MIGRATIONS });
  // The migration is safe where the table exists already (transaction-settlement's own, from before).
  await migrate({ connectionString: database.url, ...IDEMPOTENCY_MIGRATIONS, table: 'pgmigrations_again' });
  pool = createPool({
    connectionString: database.url,
    connectionsMax: 5,
    applicationName: 'idempotency-test',
  });
  await pool.query('CREATE TABLE effects (effect_id serial PRIMARY KEY, note text NOT NULL)');
  context = { pool, requestHashKey: 'test-request-hash-key', inFlightWaitMs: 300 };
});

afterAll(async () => {
  await pool.end();
  await database.drop();
});

const newKey = () => `key-${(serial += 1)}`;

/** The effect: a row, and an answer whose key order a jsonb column would not keep. */
async function recordEffect(client: PoolClient, note: string) {
  const { rows } = await client.query<{ effect_id: number }>(
    'INSERT INTO effects (note) VALUES ($1) RETURNING effect_id',
    [note],
  );
  return { zeta: note, alpha: rows[0]?.effect_id };
}

async function effectCount(note: string): Promise<number> {
  const { rows } = await pool.query<{ count: number }>(
    'SELECT count(*)::integer AS count FROM effects WHERE note = $1',
    [note],
  );
  return rows[0]?.count ?? -1;
}

function run(key: string, note: string, effect = (client: PoolClient) => recordEffect(client, note)) {
  return runIdempotently(
    context,
    { scope: 'merchant-1', key, fingerprint: { path: 'POST /x', note } },
    201,
    effect,
  );
}

async function problemOf(promise: Promise<unknown>): Promise<DomainError> {
  const error = await promise.then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  expect(error).toBeInstanceOf(DomainError);
  return error as DomainError;
}

describe('runIdempotently', () => {
  it('runs the effect once and answers a retry with the stored answer, keys in their first order', async () => {
    const key = newKey();
    const first = await run(key, 'once');
    const retry = await run(key, 'once');
    expect(first).toMatchObject({ status: 201, replayed: false });
    expect(retry).toMatchObject({ status: 201, replayed: true });
    expect(JSON.stringify(retry.body)).toBe(JSON.stringify(first.body));
    expect(Object.keys(retry.body)).toEqual(['zeta', 'alpha']);
    expect(await effectCount('once')).toBe(1);
  });

  it('keeps key spaces apart: the same key in another scope is another request', async () => {
    const key = newKey();
    await run(key, 'scoped');
    const other = await runIdempotently(
      context,
      { scope: 'merchant-2', key, fingerprint: { path: 'POST /x', note: 'scoped' } },
      201,
      (client) => recordEffect(client, 'scoped'),
    );
    expect(other.replayed).toBe(false);
    expect(await effectCount('scoped')).toBe(2);
  });

  it('rejects a reused idempotency key with a different body with 422 idempotency_key_reused', async () => {
    const key = newKey();
    await run(key, 'first body');
    const problem = await problemOf(run(key, 'another body'));
    expect(problem).toMatchObject({ kind: 'unprocessable', code: 'idempotency_key_reused' });
    expect(await effectCount('another body')).toBe(0);
  });

  it('answers 409 idempotency_key_in_flight while the first request with the key is still running', async () => {
    const key = newKey();
    let finishFirst: () => void = () => undefined;
    const firstMayFinish = new Promise<void>((resolve) => {
      finishFirst = resolve;
    });
    const first = run(key, 'in flight', async (client) => {
      const body = await recordEffect(client, 'in flight');
      await firstMayFinish;
      return body;
    });
    // The first holds the key's row lock until it commits; the retry waits inFlightWaitMs for it.
    await new Promise((resolve) => setTimeout(resolve, 50));
    const problem = await problemOf(run(key, 'in flight'));
    expect(problem).toMatchObject({ kind: 'conflict', code: 'idempotency_key_in_flight' });
    finishFirst();
    expect((await first).replayed).toBe(false);
    expect((await run(key, 'in flight')).replayed).toBe(true);
    expect(await effectCount('in flight')).toBe(1);
  });

  it('lets a retry that waited for a first request that failed run the effect itself', async () => {
    const key = newKey();
    const first = run(key, 'rolled back', async (client) => {
      await recordEffect(client, 'rolled back');
      await new Promise((resolve) => setTimeout(resolve, 100));
      throw new Error('the first request failed');
    });
    await new Promise((resolve) => setTimeout(resolve, 20));
    const retry = run(key, 'rolled back');
    await expect(first).rejects.toThrow('the first request failed');
    expect((await retry).replayed).toBe(false);
    expect(await effectCount('rolled back')).toBe(1);
  });
});

describe('requestHash', () => {
  it('hashes a request the same whatever the order of its keys, and keyed', () => {
    const hash = requestHash('key-a', { b: [1, { d: 'x', c: null }], a: 'y', skipped: undefined });
    expect(requestHash('key-a', { a: 'y', b: [1, { c: null, d: 'x' }] })).toBe(hash);
    expect(requestHash('key-b', { a: 'y', b: [1, { c: null, d: 'x' }] })).not.toBe(hash);
    expect(hash).toMatch(/^[0-9a-f]{64}$/u);
  });
});
