/**
 * The staging a reconciliation run is computed in, and the matching rules as SQL over it
 * (domain/reconciliation.ts states them). One statement per function; callers pass the transaction.
 *
 * A run is computed in three temporary tables that live as long as its transaction
 * (`ON COMMIT DROP`, and gone on rollback too): the statement's lines, the ledger items of its
 * settlement date, and the pairs found so far. Temporary tables write no WAL and stay in the
 * session, so a rejected file costs the database nothing to forget. Their text keys are
 * `COLLATE "C"`: matching only groups and joins them by equality, which is the same under every
 * deterministic collation, and byte-order sorts are the cheapest the windows can get.
 */
import type { PoolClient } from 'pg';
import type { StatementLine } from '../domain/reconciliation-statement';
import type { ToleranceEntry } from '../domain/reconciliation-tolerance';

/**
 * Longest any one statement of a run may take. The pool's 30 s default fits requests; a run
 * over millions of lines sorts and joins them in single statements (storing the items of a
 * million lines takes about 20 s in the benchmark), so it gets ten minutes. Raising work_mem
 * from 4 MB to 64 MB made those statements no faster there, so it is left alone.
 */
const RUN_STATEMENT_TIMEOUT = '10min';

export async function setRunLimits(client: PoolClient): Promise<void> {
  await client.query("SELECT set_config('statement_timeout', $1, true)", [RUN_STATEMENT_TIMEOUT]);
}

export async function createStagedLines(client: PoolClient): Promise<void> {
  await client.query(
    `CREATE TEMPORARY TABLE staged_lines (
       line_number integer NOT NULL,
       merchant_id text COLLATE "C" NOT NULL,
       card_last4 text COLLATE "C" NOT NULL,
       transaction_time timestamptz NOT NULL,
       amount_minor bigint NOT NULL,
       reference text COLLATE "C" NOT NULL,
       auth_code text COLLATE "C" NOT NULL
     ) ON COMMIT DROP`,
  );
}

export async function insertStagedLines(client: PoolClient, lines: readonly StatementLine[]): Promise<void> {
  await client.query(
    `INSERT INTO staged_lines (line_number, merchant_id, card_last4, transaction_time, amount_minor, reference, auth_code)
     SELECT * FROM unnest($1::integer[], $2::text[], $3::text[], $4::timestamptz[], $5::bigint[], $6::text[], $7::text[])`,
    [
      lines.map((line) => line.line_number),
      lines.map((line) => line.merchant_id),
      lines.map((line) => line.card_last4),
      lines.map((line) => line.transaction_time),
      lines.map((line) => line.amount_minor),
      lines.map((line) => line.reference),
      lines.map((line) => line.auth_code),
    ],
  );
}

export async function createStagedLedger(client: PoolClient): Promise<void> {
  await client.query(
    `CREATE TEMPORARY TABLE staged_ledger (
       kind text NOT NULL,
       ledger_id text COLLATE "C" NOT NULL,
       checkout_id text NOT NULL,
       merchant_id text COLLATE "C" NOT NULL,
       card_last4 text COLLATE "C" NOT NULL,
       reference text COLLATE "C" NOT NULL,
       amount_minor bigint NOT NULL,
       occurred_at timestamptz NOT NULL
     ) ON COMMIT DROP`,
  );
}

/**
 * The ledger items the statement of `settlementDate` should list (see domain/reconciliation.ts):
 * captures of that business day that were not voided, at their net and at the time the merchant
 * says they happened; refunds of that day, at the member's part, negative, at the time they were
 * recorded. Nothing of zero fen: no card was charged.
 */
export async function stageLedgerItems(client: PoolClient, settlementDate: string): Promise<void> {
  await client.query(
    `INSERT INTO staged_ledger (kind, ledger_id, checkout_id, merchant_id, card_last4, reference, amount_minor, occurred_at)
     SELECT 'capture', checkout_id, checkout_id, merchant_id, card_last4, reference, net_minor, occurred_at
     FROM checkouts
     WHERE business_date = $1 AND status <> 'voided' AND net_minor > 0
     UNION ALL
     SELECT 'refund', r.refund_id, r.checkout_id, c.merchant_id, c.card_last4, c.reference, -r.member_refund_minor, r.created_at
     FROM refunds r JOIN checkouts c ON c.checkout_id = r.checkout_id
     WHERE r.business_date = $1 AND r.member_refund_minor > 0`,
    [settlementDate],
  );
}

export async function createStagedPairs(client: PoolClient): Promise<void> {
  await client.query(
    `CREATE TEMPORARY TABLE staged_pairs (
       line_number integer NOT NULL,
       ledger_id text COLLATE "C",
       category text NOT NULL,
       matched_by text,
       duplicate_of_line integer
     ) ON COMMIT DROP`,
  );
}

/** Temporary tables get no autovacuum: without statistics the planner guesses the joins blind. */
export async function analyzeStaging(client: PoolClient): Promise<void> {
  await client.query('ANALYZE staged_lines, staged_ledger, staged_pairs');
}

/** Rule 1: the second and later copies of a line (same merchant, reference, auth code, amount). */
export async function pairDuplicateLines(client: PoolClient): Promise<void> {
  await client.query(
    `INSERT INTO staged_pairs (line_number, category, duplicate_of_line)
     SELECT line_number, 'duplicate_line', first_line
     FROM (
       SELECT line_number, first_value(line_number) OVER copies AS first_line, row_number() OVER copies AS copy
       FROM staged_lines
       WINDOW copies AS (PARTITION BY merchant_id, reference, auth_code, amount_minor ORDER BY line_number)
     ) AS numbered
     WHERE copy > 1`,
  );
}

/**
 * Rule 2, first half (`matchByReference`): within one merchant, reference and amount, the
 * k-th unpaired line in time order pairs with the k-th ledger item in time order.
 */
export async function pairByReferenceAndAmount(client: PoolClient): Promise<void> {
  await client.query(
    `INSERT INTO staged_pairs (line_number, ledger_id, category, matched_by)
     SELECT l.line_number, i.ledger_id, 'matched', 'reference'
     FROM (
       SELECT line_number, merchant_id, reference, amount_minor,
              row_number() OVER (PARTITION BY merchant_id, reference, amount_minor
                                 ORDER BY transaction_time, line_number) AS rank
       FROM staged_lines s
       WHERE NOT EXISTS (SELECT 1 FROM staged_pairs p WHERE p.line_number = s.line_number)
     ) AS l
     JOIN (
       SELECT ledger_id, merchant_id, reference, amount_minor,
              row_number() OVER (PARTITION BY merchant_id, reference, amount_minor
                                 ORDER BY occurred_at, ledger_id COLLATE "C") AS rank
       FROM staged_ledger
     ) AS i USING (merchant_id, reference, amount_minor, rank)`,
  );
}

/**
 * Rule 2, second half: what is left with the same merchant, reference and direction (sale or
 * refund) pairs up the same way, as an amount mismatch.
 */
export async function pairByReferenceOnly(client: PoolClient): Promise<void> {
  await client.query(
    `INSERT INTO staged_pairs (line_number, ledger_id, category, matched_by)
     SELECT l.line_number, i.ledger_id, 'amount_mismatch', 'reference'
     FROM (
       SELECT line_number, merchant_id, reference, sign(amount_minor) AS direction,
              row_number() OVER (PARTITION BY merchant_id, reference, sign(amount_minor)
                                 ORDER BY transaction_time, line_number) AS rank
       FROM staged_lines s
       WHERE NOT EXISTS (SELECT 1 FROM staged_pairs p WHERE p.line_number = s.line_number)
     ) AS l
     JOIN (
       SELECT ledger_id, merchant_id, reference, sign(amount_minor) AS direction,
              row_number() OVER (PARTITION BY merchant_id, reference, sign(amount_minor)
                                 ORDER BY occurred_at, ledger_id COLLATE "C") AS rank
       FROM staged_ledger g
       WHERE NOT EXISTS (SELECT 1 FROM staged_pairs p WHERE p.ledger_id = g.ledger_id)
     ) AS i USING (merchant_id, reference, direction, rank)`,
  );
}

/**
 * Everything still unpaired, in the order `ToleranceMatcher` reads it. A cursor, so that a
 * statement whose references all failed is read a page at a time. Times are whole
 * milliseconds, as the matcher compares them.
 */
export async function openLeftovers(client: PoolClient): Promise<void> {
  await client.query(
    `DECLARE leftovers NO SCROLL CURSOR FOR
     SELECT side, line_number, ledger_id, merchant_id, card_last4, amount_minor::text AS amount_minor,
            at_ms::text AS at_ms
     FROM (
       SELECT 'line' AS side, 0 AS side_rank, line_number, NULL::text AS ledger_id, merchant_id, card_last4,
              amount_minor, floor(extract(epoch FROM transaction_time) * 1000)::bigint AS at_ms
       FROM staged_lines s
       WHERE NOT EXISTS (SELECT 1 FROM staged_pairs p WHERE p.line_number = s.line_number)
       UNION ALL
       SELECT 'ledger', 1, NULL, ledger_id, merchant_id, card_last4,
              amount_minor, floor(extract(epoch FROM occurred_at) * 1000)::bigint
       FROM staged_ledger g
       WHERE NOT EXISTS (SELECT 1 FROM staged_pairs p WHERE p.ledger_id = g.ledger_id)
     ) AS leftover
     ORDER BY merchant_id COLLATE "C", card_last4 COLLATE "C", amount_minor, at_ms, side_rank, line_number,
              ledger_id COLLATE "C"`,
  );
}

export async function fetchLeftovers(client: PoolClient, count: number): Promise<ToleranceEntry[]> {
  const { rows } = await client.query<
    Omit<ToleranceEntry, 'amount_minor' | 'at_ms'> & { amount_minor: string; at_ms: string }
  >(`FETCH FORWARD ${Math.trunc(count)} FROM leftovers`);
  return rows.map((row) => ({ ...row, amount_minor: Number(row.amount_minor), at_ms: Number(row.at_ms) }));
}

/** Rule 3's pairs. */
export async function insertTolerancePairs(
  client: PoolClient,
  pairs: ReadonlyArray<{ line_number: number; ledger_id: string }>,
): Promise<void> {
  await client.query(
    `INSERT INTO staged_pairs (line_number, ledger_id, category, matched_by)
     SELECT line_number, ledger_id, 'matched', 'card_amount_time'
     FROM unnest($1::integer[], $2::text[]) AS t(line_number, ledger_id)`,
    [pairs.map((pair) => pair.line_number), pairs.map((pair) => pair.ledger_id)],
  );
}
