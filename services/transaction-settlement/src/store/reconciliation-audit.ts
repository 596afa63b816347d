/**
 * The reconciliation audit: who reconciled which file and who resolved what, with their note
 * and, for a resolution that decided a sale's held subsidy, which sale, how and how much.
 * Append-only (migrations 0004, 0012).
 */
import type { PoolClient } from 'pg';

export interface AuditEntry {
  run_id: string;
  item_id: string | null;
  action: 'statement_reconciled' | 'item_resolved';
  actor: string;
  note: string | null;
  request_id: string | null;
  /** A resolution that decided its capture's held subsidy: which sale, how, and how much moved. */
  subsidy?: { checkout_id: string; decision: 'released' | 'cancelled'; amount_minor: number } | null;
  /** A resolution that corrected the ledger: how, by how much (statement − ledger), approved by whom. */
  correction?: { kind: 'adjustment' | 'write_off'; amount_minor: number; approved_by: string } | null;
}

export async function appendAudit(client: PoolClient, entry: AuditEntry): Promise<void> {
  await client.query(
    `INSERT INTO reconciliation_audit (run_id, item_id, action, actor, note, request_id, checkout_id, subsidy_decision,
       subsidy_minor, correction, correction_minor, approved_by)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
    [
      entry.run_id,
      entry.item_id,
      entry.action,
      entry.actor,
      entry.note,
      entry.request_id,
      entry.subsidy?.checkout_id ?? null,
      entry.subsidy?.decision ?? null,
      entry.subsidy?.amount_minor ?? null,
      entry.correction?.kind ?? null,
      entry.correction?.amount_minor ?? null,
      entry.correction?.approved_by ?? null,
    ],
  );
}
