/**
 * Dual control (maker–checker, issue 16; libs/dual-control): a merchant's approval and a change
 * of a live merchant's reviewed fields (above all its settlement account) each need a second
 * admin. The first admin's step records a request (merchants.ts); these actions run when
 * someone else approves it, in the transaction that records the approval.
 */
import { defineApprovalAction, dualControl } from '@puhui/dual-control';
import type { DualControl } from '@puhui/dual-control';
import { APPROVAL_ACTIONS } from '../domain/merchant';
import { appendAudit } from '../store/audit';
import { applyPendingChange, dropPendingChange } from './merchant-changes';
import { approveApplication } from './merchants';
import { EVENT_SOURCE, actorOfChecker } from './context';

interface ApplicationApproval {
  merchant_id: string;
  /** What the requester wrote with the approval: the merchant's status reason, as before. */
  reason: string | null;
}

interface ChangeApproval {
  merchant_id: string;
  /** Which pending change the request is for (a later one is another request). */
  requested_at: string;
}

const applicationApproval = defineApprovalAction<ApplicationApproval>({
  name: APPROVAL_ACTIONS.application,
  requiredRole: 'admin',
  execute: async (client, request, checker) => {
    const merchant = await approveApplication(
      client,
      actorOfChecker(checker),
      request.payload.merchant_id,
      request.payload.reason,
    );
    return { merchant_id: merchant.id, status: merchant.status };
  },
});

const changeApproval = defineApprovalAction<ChangeApproval>({
  name: APPROVAL_ACTIONS.change,
  requiredRole: 'admin',
  execute: async (client, request, checker) => {
    const { merchant_id: merchantId, requested_at: requestedAt } = request.payload;
    const merchant = await applyPendingChange(client, actorOfChecker(checker), merchantId, requestedAt);
    return {
      merchant_id: merchant.id,
      settlement_account_changed_at: merchant.settlement_account_changed_at,
    };
  },
  // Rejected or withdrawn by `decider`; cancelled by the service (null) only when the merchant was
  // terminated, which dropped the change already.
  released: async (client, request, decider) => {
    const { merchant_id: merchantId, requested_at: requestedAt } = request.payload;
    const actor =
      decider === null ? { actor: `service:${EVENT_SOURCE}`, requestId: null } : actorOfChecker(decider);
    await dropPendingChange(client, actor, merchantId, requestedAt);
  },
});

/** merchant-onboarding's requests; each step is written to the merchant's audit trail. */
export function merchantDualControl(): DualControl {
  return dualControl({
    service: EVENT_SOURCE,
    actions: [applicationApproval, changeApproval],
    audit: async (client, entry) => {
      await appendAudit(client, {
        merchant_id: entry.request.target_id,
        action: entry.event,
        actor: `operator:${entry.subject}`,
        request_id: null,
        before: null,
        after: entry.request,
      });
    },
  });
}
