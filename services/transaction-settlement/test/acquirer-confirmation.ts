/**
 * The acquirer's statement confirming sales, for tests that pay batches: the union pays a
 * subsidy only for sales reconciliation matched (DESIGN §6), so a test that marks a batch paid
 * first reconciles a statement listing its sales.
 */
import { statementCsv, uploadStatement } from './reconciliation-support';
import type { StatementRow } from './reconciliation-support';
import type { SettlementHarness } from './support';

/**
 * Reconciles, per business date, a statement listing every sale of these merchants whose
 * subsidy is still held, exactly as the ledger has it (reference, last 4, net, time).
 */
export async function confirmCapturesOf(
  harness: SettlementHarness,
  merchantIds: readonly string[],
): Promise<void> {
  const rows = await harness.query<StatementRow>(
    `SELECT to_char(business_date, 'YYYY-MM-DD') AS settlement_date, merchant_id, card_last4,
            to_char(occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS transaction_time,
            net_minor::text AS amount_minor, reference, 'A' || left(md5(checkout_id), 6) AS auth_code
     FROM checkouts
     WHERE merchant_id = ANY($1) AND subsidy_state = 'held' AND status <> 'voided' AND net_minor > 0
     ORDER BY business_date, occurred_at`,
    [merchantIds],
  );
  const dates = [...new Set(rows.map((row) => row.settlement_date))];
  for (const date of dates) {
    const statement = statementCsv(rows.filter((row) => row.settlement_date === date));
    const answer = await uploadStatement(harness, statement);
    if (answer.status !== 201) throw new Error(`statement of ${date}: ${answer.status}`);
  }
}
