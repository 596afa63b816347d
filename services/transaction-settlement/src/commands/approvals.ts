/** What needs a second person in settlement (libs/dual-control): budget top-ups, batch payouts, reconciliation corrections. */
import { dualControl } from '@puhui/dual-control';
import type { DualControl } from '@puhui/dual-control';
import { EVENT_SOURCE } from './context';
import { reconciliationCorrectionAction } from './corrections';
import { settlementBatchPayoutAction } from './settlement';
import { budgetTopUpAction } from './top-ups';

/**
 * Settlement has no general audit trail (reconciliation_audit records reconciliation alone):
 * approval_requests is the record of who asked and who decided, and each payout names both.
 */
export function settlementApprovals(): DualControl {
  return dualControl({
    service: EVENT_SOURCE,
    actions: [budgetTopUpAction, settlementBatchPayoutAction, reconciliationCorrectionAction],
  });
}
