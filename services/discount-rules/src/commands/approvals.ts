/**
 * Dual control (maker–checker, issue 16; libs/dual-control): publishing a rule the union funds
 * part of needs a second admin. The first admin's publish records a request (rules.ts); this
 * action publishes when someone else approves it, in the transaction that records the approval.
 */
import { defineApprovalAction, dualControl } from '@puhui/dual-control';
import type { DualControl } from '@puhui/dual-control';
import { RULE_PUBLISH_ACTION } from '../domain/rule';
import { appendAudit } from '../store/audit';
import { publishApproved } from './rules';
import type { PublishRequest } from './rules';
import { EVENT_SOURCE, actorOfChecker } from './context';
import type { RateSheets } from './rate-sheets';

const rulePublish = defineApprovalAction<PublishRequest>({
  name: RULE_PUBLISH_ACTION,
  requiredRole: 'admin',
  execute: async (client, request, checker) => {
    const { view, rulesetVersion } = await publishApproved(client, actorOfChecker(checker), request.payload);
    return {
      rule_id: view.rule_id,
      status: view.status,
      version: view.version,
      ruleset_version: rulesetVersion,
      scheduled_publish_at: view.scheduled_publish_at,
    };
  },
});

/** discount-rules' requests; each step is written to the rule's audit trail. */
export function ruleDualControl(): DualControl {
  return dualControl({
    service: EVENT_SOURCE,
    actions: [rulePublish],
    audit: async (client, entry) => {
      await appendAudit(client, {
        rule_id: entry.request.target_id,
        action: entry.event,
        actor: `operator:${entry.subject}`,
        request_id: null,
        before: null,
        after: entry.request,
      });
    },
  });
}

/**
 * The requests as the routes decide them: an approved publish moves Redis's ruleset version
 * after its commit, as a one-person publish does (were this lost, the background job's
 * reconciliation would still move it).
 */
export function announcingApprovals(control: DualControl, sheets: RateSheets): DualControl {
  return {
    ...control,
    approve: async (pool, id, checker, reason) => {
      const decided = await control.approve(pool, id, checker, reason);
      const rulesetVersion = decided.outcome?.ruleset_version;
      if (decided.action === RULE_PUBLISH_ACTION && typeof rulesetVersion === 'number') {
        await sheets.announceRulesetVersion(rulesetVersion);
      }
      return decided;
    },
  };
}
