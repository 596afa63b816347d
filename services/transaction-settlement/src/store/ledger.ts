/** Ledger accounts and transfers. One statement per function; callers pass the transaction. */
import { pageOf, pageRowsLimit } from '@puhui/postgres';
import type { Page, PageRequest, PoolClient, Queryable } from '@puhui/postgres';
import { normalBalance } from '../domain/ledger';
import type { AccountBalance, AccountSpec, LedgerEntry, PlannedTransfer } from '../domain/ledger';

/** Creates the accounts that do not exist yet (idempotent). */
export async function ensureAccounts(client: Queryable, accounts: readonly AccountSpec[]): Promise<void> {
  await client.query(
    `INSERT INTO ledger_accounts (account_code, name, currency, normal_side, normal_balance_min_minor)
     SELECT code, name, 'CNY', side, minimum
     FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[]) AS a(code, name, side, minimum)
     ON CONFLICT (account_code) DO NOTHING`,
    [
      accounts.map((account) => account.account_code),
      accounts.map((account) => account.name),
      accounts.map((account) => account.normal_side),
      accounts.map((account) => account.normal_balance_min_minor),
    ],
  );
}

interface AccountRow {
  account_code: string;
  name: string;
  currency: string;
  normal_side: 'debit' | 'credit';
  debits_minor: string;
  credits_minor: string;
  normal_balance_min_minor: string | null;
}

function toBalance(row: AccountRow): AccountBalance {
  const debits = Number(row.debits_minor);
  const credits = Number(row.credits_minor);
  return {
    account_code: row.account_code,
    name: row.name,
    currency: row.currency,
    normal_side: row.normal_side,
    debits_minor: debits,
    credits_minor: credits,
    balance_minor: normalBalance(row.normal_side, debits, credits),
    normal_balance_min_minor:
      row.normal_balance_min_minor === null ? null : Number(row.normal_balance_min_minor),
  };
}

const ACCOUNT_COLUMNS =
  'account_code, name, currency, normal_side, debits_minor, credits_minor, normal_balance_min_minor';

/**
 * Locks accounts in code order, the one order every money transaction uses, so that two
 * transactions touching the same accounts queue instead of deadlocking.
 */
export async function lockAccounts(
  client: PoolClient,
  codes: readonly string[],
): Promise<Map<string, AccountBalance>> {
  const { rows } = await client.query<AccountRow>({
    name: 'settlement-lock-accounts',
    text: `SELECT ${ACCOUNT_COLUMNS} FROM ledger_accounts WHERE account_code = ANY($1::text[])
     ORDER BY account_code FOR UPDATE`,
    values: [[...new Set(codes)]],
  });
  return new Map(rows.map((row) => [row.account_code, toBalance(row)]));
}

/** The accounts as they stand, without locking them (quotes). */
export async function readAccounts(
  client: Queryable,
  codes: readonly string[],
): Promise<Map<string, AccountBalance>> {
  const { rows } = await client.query<AccountRow>(
    `SELECT ${ACCOUNT_COLUMNS} FROM ledger_accounts WHERE account_code = ANY($1::text[])`,
    [[...new Set(codes)]],
  );
  return new Map(rows.map((row) => [row.account_code, toBalance(row)]));
}

export async function findAccount(client: Queryable, code: string): Promise<AccountBalance | undefined> {
  const { rows } = await client.query<AccountRow>(
    `SELECT ${ACCOUNT_COLUMNS} FROM ledger_accounts WHERE account_code = $1`,
    [code],
  );
  return rows[0] === undefined ? undefined : toBalance(rows[0]);
}

/** The balance as it stood at `asOf`, derived from the transfers recorded by then. */
export async function balanceAsOf(
  client: Queryable,
  code: string,
  asOf: string,
): Promise<{ debits_minor: number; credits_minor: number }> {
  const { rows } = await client.query<{ debits: string; credits: string }>(
    `SELECT coalesce(sum(amount_minor) FILTER (WHERE debit_account = $1), 0) AS debits,
            coalesce(sum(amount_minor) FILTER (WHERE credit_account = $1), 0) AS credits
     FROM ledger_transfers
     WHERE (debit_account = $1 OR credit_account = $1) AND recorded_at <= $2`,
    [code, asOf],
  );
  return { debits_minor: Number(rows[0]?.debits ?? 0), credits_minor: Number(rows[0]?.credits ?? 0) };
}

export interface TransferContext {
  checkout_id?: string | null;
  refund_id?: string | null;
  top_up_id?: string | null;
  /** A reconciliation's correction names its run. */
  reconciliation_run_id?: string | null;
  occurred_at: string;
}

/** Posts planned transfers in one statement; the trigger moves the balances and checks limits. */
export async function postTransfers(
  client: PoolClient,
  transfers: readonly PlannedTransfer[],
  context: TransferContext,
): Promise<void> {
  if (transfers.length === 0) return;
  await client.query({
    name: 'settlement-post-transfers',
    text: `INSERT INTO ledger_transfers
       (debit_account, credit_account, amount_minor, currency, kind, checkout_id, refund_id, top_up_id, occurred_at,
        reconciliation_run_id)
     SELECT debit, credit, amount, 'CNY', kind, $5, $6, $7, $8, $9
     FROM unnest($1::text[], $2::text[], $3::bigint[], $4::text[]) WITH ORDINALITY AS t(debit, credit, amount, kind, position)
     ORDER BY position`,
    values: [
      transfers.map((transfer) => transfer.debit_account),
      transfers.map((transfer) => transfer.credit_account),
      transfers.map((transfer) => transfer.amount_minor),
      transfers.map((transfer) => transfer.kind),
      context.checkout_id ?? null,
      context.refund_id ?? null,
      context.top_up_id ?? null,
      context.occurred_at,
      context.reconciliation_run_id ?? null,
    ],
  });
}

export async function accountEntries(
  client: Queryable,
  code: string,
  page: PageRequest,
): Promise<Page<LedgerEntry>> {
  const { rows } = await client.query<
    Omit<LedgerEntry, 'amount_minor' | 'occurred_at' | 'recorded_at'> & {
      amount_minor: string;
      occurred_at: Date;
      recorded_at: Date;
    }
  >(
    `SELECT transfer_id, kind,
            CASE WHEN debit_account = $1 THEN 'debit' ELSE 'credit' END AS side,
            amount_minor,
            CASE WHEN debit_account = $1 THEN credit_account ELSE debit_account END AS counter_account,
            checkout_id, refund_id, top_up_id, occurred_at, recorded_at
     FROM ledger_transfers
     WHERE (debit_account = $1 OR credit_account = $1) AND ($2::bigint IS NULL OR transfer_id > $2)
     ORDER BY transfer_id LIMIT $3`,
    [code, page.starting_after ?? null, pageRowsLimit(page)],
  );
  return pageOf(
    rows.map((row) => ({
      ...row,
      amount_minor: Number(row.amount_minor),
      occurred_at: row.occurred_at.toISOString(),
      recorded_at: row.recorded_at.toISOString(),
    })),
    page,
  );
}

/** Σ debits and Σ credits over every account: equal in a balanced ledger. */
export async function trialBalance(
  client: Queryable,
): Promise<{ accounts: AccountBalance[]; debits_minor: number; credits_minor: number }> {
  const { rows } = await client.query<AccountRow>(
    `SELECT ${ACCOUNT_COLUMNS} FROM ledger_accounts ORDER BY account_code`,
  );
  const accounts = rows.map(toBalance);
  return {
    accounts,
    debits_minor: accounts.reduce((sum, account) => sum + account.debits_minor, 0),
    credits_minor: accounts.reduce((sum, account) => sum + account.credits_minor, 0),
  };
}
