/**
 * Held subsidies (DESIGN §6): deciding where a capture's union part goes once the acquirer's
 * statement confirmed it (or finance resolved its exception), and what a batch holds.
 * One statement per function; callers pass the transaction.
 *
 * A decision is set-based: the sales decided in a transaction are rows of `subsidy_decisions`
 * named by their reconciliation run (a statement's confirmations) or by the run and item (a
 * resolution), and the batches' amounts and the transfers follow from that set in one statement
 * each, so that a statement confirming a hundred thousand subsidised sales holds none of them
 * in memory. The account codes built in SQL here are those of domain/ledger.ts `accountCodes`.
 */
import { pageOf, pageRowsLimit } from '@puhui/postgres';
import type { Page, PageRequest, PoolClient, Queryable } from '@puhui/postgres';
import type { HeldSubsidyItem, SubsidyDecision } from '../domain/subsidy';

/** The decisions of one transaction: a run's confirmations, or the resolution of one of its items. */
export interface DecisionSet {
  run_id: string;
  /** The resolved item; null for the confirmations the run's matched lines made. */
  resolved_item_id: string | null;
}

/** `subsidy_decisions d` rows of the set in $1 (run) and $2 (resolved item). */
const IN_SET = `d.run_id = $1 AND CASE WHEN $2::bigint IS NULL THEN d.decision = 'confirmed'
  ELSE d.item_id = $2 AND d.decision <> 'confirmed' END`;

const setValues = (set: DecisionSet) => [set.run_id, set.resolved_item_id];

/**
 * Settlement runs, statement uploads and resolutions take this lock before they read or move
 * where subsidies are, so that a batch's split (held, cancelled, payable) is always summed from
 * states no other transaction is changing.
 */
export async function lockSubsidyDecisions(client: PoolClient): Promise<void> {
  await client.query("SELECT pg_advisory_xact_lock(hashtext('puhui:subsidy_decisions'))");
}

/** The matched sales whose subsidy the run can confirm: captures of its day, not voided, held. */
const MATCHED_HELD = `c.business_date = $2 AND c.subsidy_state = 'held' AND c.union_funded_minor > 0
  AND c.status <> 'voided' AND i.run_id = $1 AND i.ledger_id = c.checkout_id AND i.category = 'matched'
  AND i.ledger_kind = 'capture'`;

/**
 * Locks the sales the run's matched lines confirm, before anything is read from them: a refund
 * in flight finishes first, and no other starts, so what they still hold cannot change.
 */
export async function lockMatchedHeldCaptures(
  client: PoolClient,
  runId: string,
  settlementDate: string,
): Promise<void> {
  await client.query(
    `SELECT count(*) FROM (
       SELECT 1 FROM checkouts c JOIN reconciliation_items i ON i.ledger_id = c.checkout_id
       WHERE ${MATCHED_HELD} FOR UPDATE OF c) AS locked`,
    [runId, settlementDate],
  );
}

/** What a decided sale still holds: its union part less what its refunds took back. */
const STILL_HELD = `d.union_funded_minor - coalesce((SELECT sum(r.union_reversed_minor) FROM refunds r
  WHERE r.checkout_id = d.checkout_id), 0)`;

/**
 * Confirms the held subsidies of the sales the run matched (locked before). Held only once, a
 * sale is never confirmed twice, whichever run matches it again.
 */
export async function confirmMatchedCaptures(
  client: PoolClient,
  run: { run_id: string; settlement_date: string; decided_by: string },
): Promise<number> {
  const { rowCount } = await client.query(
    `WITH d AS (
       UPDATE checkouts c SET subsidy_state = 'payable' FROM reconciliation_items i WHERE ${MATCHED_HELD}
       RETURNING c.checkout_id, c.merchant_id, c.union_funded_minor, i.item_id)
     INSERT INTO subsidy_decisions (checkout_id, merchant_id, decision, amount_minor, run_id, item_id, decided_by)
     SELECT d.checkout_id, d.merchant_id, 'confirmed', ${STILL_HELD}, $1, d.item_id, $3 FROM d`,
    [run.run_id, run.settlement_date, run.decided_by],
  );
  return rowCount ?? 0;
}

/**
 * Finance's decision on one sale's held subsidy (its checkout locked by the caller); false when
 * it is not held (or holds nothing).
 */
export async function decideHeldSubsidy(
  client: PoolClient,
  decision: {
    checkout_id: string;
    decision: Exclude<SubsidyDecision, 'confirmed'>;
    run_id: string;
    item_id: string;
    decided_by: string;
  },
): Promise<boolean> {
  const { rowCount } = await client.query(
    `WITH d AS (
       UPDATE checkouts SET subsidy_state = CASE WHEN $2 = 'released' THEN 'payable' ELSE 'cancelled' END
       WHERE checkout_id = $1 AND subsidy_state = 'held' AND union_funded_minor > 0 AND status <> 'voided'
       RETURNING checkout_id, merchant_id, union_funded_minor)
     INSERT INTO subsidy_decisions (checkout_id, merchant_id, decision, amount_minor, run_id, item_id, decided_by)
     SELECT d.checkout_id, d.merchant_id, $2, ${STILL_HELD}, $3, $4, $5 FROM d`,
    [decision.checkout_id, decision.decision, decision.run_id, decision.item_id, decision.decided_by],
  );
  return rowCount === 1;
}

/**
 * Moves the decided subsidies out of `held` on the batches that count them: a sale's batch
 * holds its union part, a refund's batch minus what it reversed. A cancellation adds the same
 * to cancelled. Items not settled yet are summed by their run, from the states as they are then.
 */
export async function moveBatchSubsidies(client: PoolClient, set: DecisionSet): Promise<void> {
  await client.query(
    `WITH parts AS (
       SELECT c.settlement_batch_id AS batch_id, c.union_funded_minor AS amount, d.decision
       FROM subsidy_decisions d JOIN checkouts c ON c.checkout_id = d.checkout_id
       WHERE ${IN_SET} AND c.settlement_batch_id IS NOT NULL
       UNION ALL
       SELECT r.settlement_batch_id, -r.union_reversed_minor, d.decision
       FROM subsidy_decisions d JOIN refunds r ON r.checkout_id = d.checkout_id
       WHERE ${IN_SET} AND r.settlement_batch_id IS NOT NULL),
     by_batch AS (
       SELECT batch_id, sum(amount) AS leaving, coalesce(sum(amount) FILTER (WHERE decision = 'cancelled'), 0) AS cancelled
       FROM parts GROUP BY batch_id)
     UPDATE settlement_batches b SET subsidy_held_minor = b.subsidy_held_minor - x.leaving,
       subsidy_cancelled_minor = b.subsidy_cancelled_minor + x.cancelled
     FROM by_batch x WHERE b.batch_id = x.batch_id`,
    setValues(set),
  );
}

/**
 * Locks, in code order (the order every money transaction uses), the accounts the decided
 * subsidies move: each merchant's held and payable accounts, and the budgets a cancellation
 * returns to.
 */
export async function lockDecidedAccounts(client: PoolClient, set: DecisionSet): Promise<void> {
  await client.query(
    `SELECT account_code FROM ledger_accounts
     WHERE account_code IN (
       SELECT 'merchant:' || merchant_id || ':' || side
       FROM (SELECT DISTINCT d.merchant_id FROM subsidy_decisions d WHERE ${IN_SET}) AS m,
            unnest('{subsidy_held,subsidy_payable}'::text[]) AS side
       UNION
       SELECT DISTINCT 'budget:' || g.budget_id
       FROM subsidy_decisions d JOIN checkouts c ON c.checkout_id = d.checkout_id,
            jsonb_to_recordset(c.grants) AS g(budget_id text)
       WHERE ${IN_SET} AND d.decision = 'cancelled' AND g.budget_id IS NOT NULL)
     ORDER BY account_code FOR UPDATE`,
    setValues(set),
  );
}

/**
 * Posts what the decided sales held, one transfer per merchant and destination, naming the run
 * (and the checkout, when there is one sale). Confirmed and released: held → payable.
 * Cancelled: held → each budget, that budget's grants less their reversals. Nothing of zero fen.
 */
export async function postDecidedTransfers(client: PoolClient, set: DecisionSet): Promise<number> {
  const { rows } = await client.query<{ amount_minor: string }>(
    `WITH per_destination AS (
       SELECT d.checkout_id, d.merchant_id, d.decision, 'merchant:' || d.merchant_id || ':subsidy_payable' AS credit,
              d.amount_minor AS amount
       FROM subsidy_decisions d WHERE ${IN_SET} AND d.decision <> 'cancelled'
       UNION ALL
       SELECT d.checkout_id, d.merchant_id, d.decision, 'budget:' || g.budget_id,
              g.granted - coalesce((
                SELECT sum(v.union_reversed_minor)
                FROM refunds r, jsonb_to_recordset(r.reversals) AS v(budget_id text, union_reversed_minor bigint)
                WHERE r.checkout_id = d.checkout_id AND v.budget_id = g.budget_id), 0)
       FROM subsidy_decisions d JOIN checkouts c ON c.checkout_id = d.checkout_id,
            LATERAL (SELECT x.budget_id, sum(x.union_funded_minor) AS granted
                     FROM jsonb_to_recordset(c.grants) AS x(budget_id text, union_funded_minor bigint)
                     WHERE x.budget_id IS NOT NULL GROUP BY x.budget_id) AS g
       WHERE ${IN_SET} AND d.decision = 'cancelled'),
     moves AS (
       SELECT 'merchant:' || merchant_id || ':subsidy_held' AS debit, credit, sum(amount) AS amount,
              'subsidy_' || decision AS kind,
              CASE WHEN count(DISTINCT checkout_id) = 1 THEN min(checkout_id) END AS checkout_id
       FROM per_destination GROUP BY merchant_id, decision, credit),
     posted AS (
       INSERT INTO ledger_transfers
         (debit_account, credit_account, amount_minor, currency, kind, checkout_id, reconciliation_run_id, occurred_at)
       SELECT debit, credit, amount, 'CNY', kind, checkout_id, $1, now() FROM moves WHERE amount > 0
       ORDER BY debit, credit
       RETURNING amount_minor)
     SELECT coalesce(sum(amount_minor), 0) AS amount_minor FROM posted`,
    setValues(set),
  );
  return Number(rows[0]?.amount_minor ?? 0);
}

interface HeldRow {
  kind: 'capture' | 'refund';
  id: string;
  checkout_id: string;
  reference: string;
  card_last4: string;
  occurred_at: Date;
  held_minor: string;
  exception_run_id: string | null;
  exception_item_id: string | null;
  exception_category: string | null;
}

/** A batch's items whose sale's subsidy is held, by id (captures, then refunds); one more than asked. */
export async function heldSubsidyItems(
  client: Queryable,
  batchId: string,
  page: PageRequest,
): Promise<Page<HeldSubsidyItem>> {
  const { rows } = await client.query<HeldRow>(
    `SELECT h.*, e.run_id AS exception_run_id, e.item_id AS exception_item_id, e.category AS exception_category
     FROM (
       SELECT 'capture' AS kind, checkout_id AS id, checkout_id, reference, card_last4, occurred_at,
              union_funded_minor AS held_minor
       FROM checkouts
       WHERE settlement_batch_id = $1 AND subsidy_state = 'held' AND status <> 'voided' AND union_funded_minor > 0
       UNION ALL
       SELECT 'refund', r.refund_id, r.checkout_id, c.reference, c.card_last4, r.created_at, -r.union_reversed_minor
       FROM refunds r JOIN checkouts c ON c.checkout_id = r.checkout_id
       WHERE r.settlement_batch_id = $1 AND c.subsidy_state = 'held' AND r.union_reversed_minor > 0
     ) AS h
     LEFT JOIN LATERAL (
       SELECT i.run_id, i.item_id, i.category FROM reconciliation_items i
       WHERE i.ledger_id = h.checkout_id AND i.ledger_kind = 'capture'
         AND i.category IN ('amount_mismatch', 'missing_in_statement') AND i.resolved_at IS NULL
       ORDER BY i.run_id COLLATE "C" DESC, i.item_id DESC LIMIT 1) AS e ON true
     WHERE $2::text IS NULL OR h.id > $2
     ORDER BY h.id LIMIT $3`,
    [batchId, page.starting_after ?? null, pageRowsLimit(page)],
  );
  return pageOf(
    rows.map((row) => ({
      kind: row.kind,
      id: row.id,
      checkout_id: row.checkout_id,
      reference: row.reference,
      card_last4: row.card_last4,
      occurred_at: row.occurred_at.toISOString(),
      held_minor: Number(row.held_minor),
      exception:
        row.exception_run_id === null
          ? null
          : {
              reconciliation_id: row.exception_run_id,
              item_id: String(row.exception_item_id),
              category: row.exception_category ?? '',
            },
    })),
    page,
  );
}
