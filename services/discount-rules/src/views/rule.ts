/** How a rule is shown: its live version (or first draft) with the shares and benefit spelled out. */
import { BPS_WHOLE } from '@puhui/money';
import { describeBenefit } from '@puhui/discount';
import type { DiscountRule } from '@puhui/discount';
import type { RuleRecord, RuleVersion } from '../domain/rule';

function shownFields(rule: DiscountRule) {
  return {
    ...rule,
    merchant_share_bps: BPS_WHOLE - rule.union_share_bps,
    benefit_description: describeBenefit(rule.benefit),
  };
}

export type RuleView = ReturnType<typeof ruleView>;

/** The live version (or the draft of a never-published rule), with its pending draft. */
export function ruleView(record: RuleRecord) {
  const shown = record.live ?? record.draft;
  if (shown === null) throw new Error(`rule ${record.rule_id} has neither a draft nor a live version`);
  return {
    ...shownFields(shown),
    status: record.status,
    pending_draft: record.live !== null && record.draft !== null ? shownFields(record.draft) : null,
    scheduled_publish_at: record.scheduled_publish_at,
    pending_approval: record.pending_approval,
    created_at: record.created_at,
    updated_at: record.updated_at,
    published_at: record.published_at,
    retired_at: record.retired_at,
  };
}

export function ruleVersionView(version: RuleVersion) {
  return {
    version: version.rule.version,
    ruleset_version: version.ruleset_version,
    published_at: version.published_at,
    published_by: version.published_by,
    rule: version.rule,
  };
}
