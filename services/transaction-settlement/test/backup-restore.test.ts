/**
 * The backup and restore of decision 0029, run as an operator runs them: a settlement database
 * with a settled, reconciled and paid business day is dumped by scripts/backup-database.sh,
 * restored into a new database by scripts/restore-database.sh, and the restored ledger is read
 * back: trial balance zero, every account equal to its entries and to the original's, the same
 * rows in every table, its guards still there, and the service boots on it. The scripts' refusals
 * (a missing database or file, an existing target, an altered dump, counts or a ledger that do
 * not add up) are checked by their exit codes and messages.
 */
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm, truncate, writeFile, copyFile, access } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { startService } from '@puhui/service';
import { captureLogger, startTestService, testPostgresUrl, uniqueSuffix, waitFor } from '@puhui/testing';
import { loadTransactionSettlementConfig } from '../src/config';
import { transactionSettlementService } from '../src/service';
import { confirmCapturesOf } from './acquirer-confirmation';
import { SettlementHarness, percentOffRule, unionFundedRule, useHarness } from './support';
import type { TestCard, TestMerchant } from './support';

const SCRIPTS = path.resolve(__dirname, '../../../scripts');
/** pg_dump and pg_restore of a database this size take ~1 s; the bound is for a loaded machine. */
const SCRIPT_TIMEOUT_MS = 60_000;
/** Captures sent while a backup runs, at most (one at a time, ~10 ms each here). */
const LIVE_CAPTURES_MAX = 2_000;

interface ScriptRun {
  code: number;
  stdout: string;
  stderr: string;
}

function runScript(script: string, args: string[], environment: NodeJS.ProcessEnv = {}): Promise<ScriptRun> {
  return new Promise((resolve) => {
    execFile(
      'bash',
      [path.join(SCRIPTS, script), ...args],
      {
        env: { ...process.env, POSTGRES_URL: testPostgresUrl(), ...environment },
        timeout: SCRIPT_TIMEOUT_MS,
      },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

function databaseUrl(name: string): string {
  const url = new URL(testPostgresUrl());
  url.pathname = `/${name}`;
  return url.toString();
}

async function withDatabase<T>(name: string, work: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: databaseUrl(name) });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

async function databaseExists(name: string): Promise<boolean> {
  return withDatabase('postgres', async (client) => {
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    return rowCount === 1;
  });
}

async function dropDatabase(name: string): Promise<void> {
  await withDatabase('postgres', (client) => client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`));
}

/** Every table of the public schema and its exact row count, by name. */
async function rowCounts(name: string): Promise<Record<string, number>> {
  return withDatabase(name, async (client) => {
    const { rows: tables } = await client.query<{ table_name: string }>(
      `SELECT table_name FROM information_schema.tables
       WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY table_name`,
    );
    const counts: Record<string, number> = {};
    for (const { table_name: table } of tables) {
      const { rows } = await client.query<{ count: string }>(
        `SELECT count(*)::text AS count FROM public."${table}"`,
      );
      counts[table] = Number(rows[0]?.count);
    }
    return counts;
  });
}

interface AccountTotals {
  account_code: string;
  debits_minor: string;
  credits_minor: string;
  entry_debits: string;
  entry_credits: string;
}

/** Each account's kept totals beside the sums of its entries, and the transfers' total. */
async function ledgerOf(
  name: string,
): Promise<{ accounts: AccountTotals[]; moved: bigint; transfers: number }> {
  return withDatabase(name, async (client) => {
    const { rows: accounts } = await client.query<AccountTotals>(
      `SELECT a.account_code, a.debits_minor::text, a.credits_minor::text,
              coalesce((SELECT sum(amount_minor) FROM ledger_transfers WHERE debit_account = a.account_code), 0)::text AS entry_debits,
              coalesce((SELECT sum(amount_minor) FROM ledger_transfers WHERE credit_account = a.account_code), 0)::text AS entry_credits
       FROM ledger_accounts a ORDER BY a.account_code`,
    );
    const { rows } = await client.query<{ moved: string; transfers: string }>(
      'SELECT coalesce(sum(amount_minor), 0)::text AS moved, count(*)::text AS transfers FROM ledger_transfers',
    );
    return { accounts, moved: BigInt(rows[0]?.moved ?? '0'), transfers: Number(rows[0]?.transfers) };
  });
}

const harness = new SettlementHarness();
const suffix = uniqueSuffix();
const restoredName = `puhui_t_g_restored_${suffix}`;
const createdDatabases = [restoredName];
let sourceName = '';
let directory = '';
let dumpFile = '';
let shop: TestMerchant;

useHarness(harness, async () => {
  sourceName = new URL(harness.databaseUrl).pathname.slice(1);
  directory = await mkdtemp(path.join(tmpdir(), 'puhui-backup-'));
  dumpFile = path.join(directory, `${sourceName}.dump`);
  await settleAndPayADay();
});

afterAll(async () => {
  for (const name of createdDatabases) await dropDatabase(name);
  if (directory !== '') await rm(directory, { recursive: true, force: true });
});

/** Captures (one refunded, one voided), settles the day, reconciles its statement and pays the subsidy. */
async function settleAndPayADay(): Promise<void> {
  shop = await harness.addMerchant('supermarket');
  const budgetId = await harness.fundedBudget('劳模补贴', 2_000_000);
  const card = await harness.addCard(700, [unionFundedRule(budgetId, 1000, 5000)]);
  const checkoutIds: string[] = [];
  for (const amountMinor of [10_000, 4_990, 2_000, 38_800]) {
    const capture = await harness.captureSale(shop, card, amountMinor);
    expect(capture.status).toBe(201);
    checkoutIds.push(capture.body.id);
  }
  const [refunded, , voidedId] = checkoutIds;
  expect((await harness.refundSale(shop, refunded ?? '', 2_500)).status).toBe(201);
  const voided = await harness.call('POST', `/v1/checkouts/${voidedId ?? ''}/void`, {
    token: shop.secret,
    idempotencyKey: randomUUID(),
  });
  expect(voided.status).toBe(200);
  // The day passes: today's activity becomes yesterday's, which a settlement run may settle.
  await harness.query(
    'UPDATE checkouts SET business_date = business_date - 1 WHERE settlement_batch_id IS NULL',
  );
  await harness.query(
    'UPDATE refunds SET business_date = business_date - 1 WHERE settlement_batch_id IS NULL',
  );
  const [day] = await harness.query<{ day: string }>(
    "SELECT to_char(max(business_date), 'YYYY-MM-DD') AS day FROM checkouts",
  );
  const run = await harness.call('POST', '/v1/settlement_runs', {
    token: harness.finance,
    body: { business_date: day?.day },
  });
  expect(run.status).toBe(201);
  expect(run.body.batches_created).toBe(1);
  await confirmCapturesOf(harness, [shop.merchant_id]);
  const paid = await harness.markPaid(run.body.batches[0].id, `ICBC-${suffix}`);
  expect(paid.status).toBe(200);
}

describe('backing up and restoring a settlement database', () => {
  it('restores a settled day into a new database whose ledger balances and equals the original', async () => {
    const original = await rowCounts(sourceName);
    const originalLedger = await ledgerOf(sourceName);
    // What the day wrote, so that equal counts compare something.
    for (const table of [
      'checkouts',
      'refunds',
      'ledger_transfers',
      'settlement_batches',
      'reconciliation_runs',
    ])
      expect(original[table]).toBeGreaterThan(0);
    expect(originalLedger.transfers).toBeGreaterThanOrEqual(8);

    const backup = await runScript('backup-database.sh', [sourceName, dumpFile]);
    expect(backup).toMatchObject({ code: 0, stderr: '' });
    expect(backup.stdout).toContain(`'${sourceName}' → ${dumpFile}`);
    const listed = (await readFile(`${dumpFile}.rows`, 'utf8')).trim().split('\n');
    expect(Object.fromEntries(listed.map((line) => line.split('|')).map(([t, n]) => [t, Number(n)]))).toEqual(
      original,
    );

    const restore = await runScript('restore-database.sh', [dumpFile, restoredName]);
    expect(restore.stderr).toBe('');
    expect(restore.code).toBe(0);
    expect(restore.stdout).toContain('row counts equal the backup');
    expect(restore.stdout).toContain(`ledger balanced: ${originalLedger.accounts.length} accounts`);

    expect(await rowCounts(restoredName)).toEqual(original);
    const restored = await ledgerOf(restoredName);
    expect(restored).toEqual(originalLedger);
    // The trial balance reads zero: Σ debits = Σ credits = Σ transfers, and each account's kept
    // totals are the sums of its entries (the transfer trigger did not run a second time).
    const debits = restored.accounts.reduce((sum, account) => sum + BigInt(account.debits_minor), 0n);
    const credits = restored.accounts.reduce((sum, account) => sum + BigInt(account.credits_minor), 0n);
    expect(debits).toBeGreaterThan(0n);
    expect([debits, credits]).toEqual([restored.moved, restored.moved]);
    for (const account of restored.accounts) {
      expect([account.account_code, account.debits_minor, account.credits_minor]).toEqual([
        account.account_code,
        account.entry_debits,
        account.entry_credits,
      ]);
    }
  });

  it('restores the ledger guards with the data: transfers stay append-only, totals move only by transfers', async () => {
    await withDatabase(restoredName, async (client) => {
      await expect(
        client.query('UPDATE ledger_transfers SET amount_minor = amount_minor + 1'),
      ).rejects.toThrow(/append-only/u);
      await expect(client.query('DELETE FROM ledger_transfers')).rejects.toThrow(/append-only/u);
      await expect(
        client.query('UPDATE ledger_accounts SET debits_minor = debits_minor + 1'),
      ).rejects.toThrow(/only through transfers/u);
    });
  });

  it('boots the service on the restored database, which answers the same trial balance', async () => {
    const original = await harness.call('GET', '/v1/ledger/trial_balance', { token: harness.finance });
    expect(original.body.accounts.length).toBeGreaterThan(0);
    const logs = captureLogger('transaction-settlement', 'warn');
    const running = await startTestService(
      (environment) =>
        startService(transactionSettlementService(loadTransactionSettlementConfig(environment)), {
          logger: logs.logger,
        }),
      { DATABASE_NAME: restoredName, DISCOUNT_RULES_URL: harness.rules.url },
    );
    try {
      await waitFor(async () => (await fetch(`${running.url}/readyz`)).status === 200, {
        description: 'settlement ready on the restored database',
      });
      const answer = await fetch(`${running.url}/v1/ledger/trial_balance`, {
        headers: { authorization: `Bearer ${harness.finance}` },
      });
      expect(answer.status).toBe(200);
      expect(await answer.json()).toEqual(original.body);
    } finally {
      await running.close();
    }
  });

  it('backs up one consistent snapshot while captures are being written', async () => {
    // Not union-funded: a card gets at most 10 union-funded captures an hour.
    const card: TestCard = await harness.addCard(701, [
      percentOffRule({ category: 'supermarket', bps: 500 }),
    ]);
    const before = (await rowCounts(sourceName)).checkouts ?? 0;
    const output = path.join(directory, 'live.dump');
    const target = `puhui_t_g_live_${suffix}`;
    createdDatabases.push(target);
    let backingUp = true;
    let capturedDuring = 0;
    const load = (async () => {
      // Bounded: a backup of this database takes about a second.
      for (let attempt = 0; backingUp && attempt < LIVE_CAPTURES_MAX; attempt += 1)
        if ((await harness.captureSale(shop, card, 1_000 + attempt)).status === 201) capturedDuring += 1;
    })();
    const backup = await runScript('backup-database.sh', [sourceName, output]);
    backingUp = false;
    await load;
    expect(backup.code).toBe(0);
    expect(capturedDuring).toBeGreaterThan(0);
    const after = (await rowCounts(sourceName)).checkouts ?? 0;
    expect(after).toBe(before + capturedDuring);

    const restore = await runScript('restore-database.sh', [output, target]);
    expect(restore.stderr).toBe('');
    expect(restore.code).toBe(0);
    expect(restore.stdout).toContain('row counts equal the backup');
    expect(restore.stdout).toContain('ledger balanced');
    const restored = (await rowCounts(target)).checkouts ?? 0;
    expect(restored).toBeGreaterThanOrEqual(before);
    expect(restored).toBeLessThanOrEqual(after);
  });

  it('fails clearly, writing nothing, on a database that does not exist', async () => {
    const missing = `puhui_t_g_missing_${suffix}`;
    const output = path.join(directory, 'missing.dump');
    const run = await runScript('backup-database.sh', [missing, output]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`no database '${missing}'`);
    await expect(access(output)).rejects.toThrow();
    await expect(access(`${output}.partial`)).rejects.toThrow();
    expect((await runScript('backup-database.sh', ['Robert"; DROP DATABASE x; --'])).code).toBe(1);
    const elsewhere = await runScript('backup-database.sh', [sourceName, output], {
      POSTGRES_URL: 'mysql://127.0.0.1:5432',
    });
    expect(elsewhere.code).toBe(1);
    expect(elsewhere.stderr).toContain('POSTGRES_URL must be a postgres:// URL');
    await expect(access(output)).rejects.toThrow();
  });

  it('refuses a missing dump file, an existing target and an altered dump, creating no database', async () => {
    const target = `puhui_t_g_refused_${suffix}`;
    const missing = await runScript('restore-database.sh', [path.join(directory, 'none.dump'), target]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('no dump file');

    const existing = await runScript('restore-database.sh', [dumpFile, sourceName]);
    expect(existing.code).toBe(1);
    expect(existing.stderr).toContain(`database '${sourceName}' exists`);

    const altered = path.join(directory, 'altered.dump');
    await copyFile(dumpFile, altered);
    await copyFile(`${dumpFile}.sha256`, `${altered}.sha256`);
    await writeFile(
      `${altered}.sha256`,
      (await readFile(`${altered}.sha256`, 'utf8')).replace(path.basename(dumpFile), 'altered.dump'),
    );
    await truncate(altered, 4096);
    const truncated = await runScript('restore-database.sh', [altered, target]);
    expect(truncated.code).toBe(1);
    expect(truncated.stderr).toContain('does not match');
    expect(await databaseExists(target)).toBe(false);
  });

  it('fails its checks, exit 3, when the restored rows are not the ones backed up', async () => {
    const target = `puhui_t_g_counts_${suffix}`;
    createdDatabases.push(target);
    const copy = path.join(directory, 'counts.dump');
    await copyFile(dumpFile, copy);
    const counts = await readFile(`${dumpFile}.rows`, 'utf8');
    expect(counts).toMatch(/^ledger_transfers\|[1-9]/mu);
    await writeFile(
      `${copy}.rows`,
      counts.replace(/^ledger_transfers\|(\d+)/mu, (_, n) => `ledger_transfers|${Number(n) + 1}`),
    );
    const run = await runScript('restore-database.sh', [copy, target]);
    expect(run.code).toBe(3);
    expect(run.stderr).toContain('row counts differ');
    expect(run.stderr).toMatch(/< ledger_transfers\|\d+/u);
  });

  it('fails its checks, exit 3, on a ledger whose trial balance is off', async () => {
    // A database that is not the service's, with a ledger no trigger kept: 100 fen moved, 90 credited.
    const unbalanced = `puhui_t_g_unbalanced_${suffix}`;
    const target = `puhui_t_g_unbalanced_restored_${suffix}`;
    createdDatabases.push(unbalanced, target);
    await withDatabase('postgres', (client) => client.query(`CREATE DATABASE "${unbalanced}"`));
    await withDatabase(unbalanced, (client) =>
      client.query(`CREATE TABLE ledger_accounts (account_code text PRIMARY KEY, debits_minor bigint, credits_minor bigint);
        CREATE TABLE ledger_transfers (debit_account text, credit_account text, amount_minor bigint);
        INSERT INTO ledger_accounts VALUES ('a', 100, 0), ('b', 0, 90);
        INSERT INTO ledger_transfers VALUES ('a', 'b', 100);`),
    );
    const output = path.join(directory, 'unbalanced.dump');
    expect((await runScript('backup-database.sh', [unbalanced, output])).code).toBe(0);
    const run = await runScript('restore-database.sh', [output, target]);
    expect(run.code).toBe(3);
    expect(run.stderr).toContain('trial balance off: debits 100, credits 90, transfers 100');
  });
});
