/**
 * A discount rule's life, as plain data and functions (no I/O).
 *
 *   draft ─publish→ published ─retire→ retired
 *     │                 │ ↑
 *     └─retire→ retired  edit → pending draft (version n+1) ─publish┘
 *
 * Each publish freezes the draft as an immutable version. Editing a published rule does not
 * touch the live version: the edit is a new draft version that takes effect only when it is
 * published (now, or at `effective_at`). A retired rule never comes back.
 */
import { validateRule } from '@puhui/discount';
import type { DiscountRule } from '@puhui/discount';
import { Conflict } from '@puhui/errors';
import type { InvalidParam } from '@puhui/errors';

export const RULE_STATUSES = ['draft', 'published', 'retired'] as const;
export type RuleStatus = (typeof RULE_STATUSES)[number];

/** What an admin writes: the rule without its id and version, which the service gives. */
export type RuleFields = Omit<DiscountRule, 'rule_id' | 'version'>;

/** The maker–checker action (libs/dual-control) a union-funded publish waits in. */
export const RULE_PUBLISH_ACTION = 'rule_publish';

/** A publish request waiting for a second admin, as the rule shows it. */
export interface PendingApproval {
  approval_request_id: string;
  action: typeof RULE_PUBLISH_ACTION;
  /** The requester's account id (token subject): they cannot approve it. */
  requested_by: string;
  requested_at: string;
}

export interface RuleRecord {
  rule_id: string;
  status: RuleStatus;
  published_version: number | null;
  /** The live version, when there is one. */
  live: DiscountRule | null;
  /** The next version while it is being edited. */
  draft: DiscountRule | null;
  scheduled_publish_at: string | null;
  scheduled_by: string | null;
  created_by: string;
  created_at: string;
  updated_at: string;
  published_at: string | null;
  retired_at: string | null;
  /** Read with the rule from the approval requests, never written with it. */
  pending_approval: PendingApproval | null;
}

export interface RuleVersion {
  rule: DiscountRule;
  ruleset_version: number;
  published_by: string;
  published_at: string;
}

export function ruleOf(ruleId: string, version: number, fields: RuleFields): DiscountRule {
  return {
    rule_id: ruleId,
    version,
    name: fields.name,
    scope: fields.scope,
    item_categories: fields.item_categories,
    eligibility: fields.eligibility,
    benefit: fields.benefit,
    caps: fields.caps,
    union_share_bps: fields.union_share_bps,
    budget_id: fields.budget_id,
    schedule: fields.schedule,
    priority: fields.priority,
    stacking: fields.stacking,
  };
}

export function fieldsOf(rule: DiscountRule): RuleFields {
  const { rule_id: _ruleId, version: _version, ...fields } = rule;
  return fields;
}

/** validateRule's checks plus the ones an admin would call nonsense. */
export function ruleProblems(rule: DiscountRule): InvalidParam[] {
  const problems = validateRule(rule);
  const days = rule.schedule.days_of_week;
  if (days !== null && new Set(days).size !== days.length) {
    problems.push({ name: 'schedule.days_of_week', reason: 'must not repeat a day' });
  }
  return problems;
}

/** At publish time a rule must still be able to apply: a window that already ended cannot. */
export function publishProblems(rule: DiscountRule, now: Date): InvalidParam[] {
  const problems = ruleProblems(rule);
  const validTo = rule.schedule.valid_to;
  if (validTo !== null && Date.parse(validTo) <= now.getTime()) {
    problems.push({ name: 'schedule.valid_to', reason: 'has already passed: the rule could never apply' });
  }
  return problems;
}

function refuseRetired(record: RuleRecord): void {
  if (record.status === 'retired') {
    throw new Conflict('rule_retired', `Rule ${record.rule_id} is retired and cannot change.`, {
      current_status: record.status,
    });
  }
}

/**
 * The draft after an edit: a draft changes in place; a published rule gets (or extends) a
 * pending draft of its next version, starting from the live version.
 */
export function editedDraft(record: RuleRecord, changes: Partial<RuleFields>): DiscountRule {
  refuseRetired(record);
  const base = record.draft ?? record.live;
  if (base === null) throw new Error(`rule ${record.rule_id} has neither a draft nor a live version`);
  return ruleOf(record.rule_id, (record.published_version ?? 0) + 1, { ...fieldsOf(base), ...changes });
}

/** The draft that a publish would make live. */
export function draftToPublish(record: RuleRecord): DiscountRule {
  refuseRetired(record);
  if (record.draft === null) {
    throw new Conflict('nothing_to_publish', `Rule ${record.rule_id} has no draft: edit it first.`, {
      current_status: record.status,
    });
  }
  return record.draft;
}

/**
 * Publishing a rule the union pays part of spends union budget on every matching checkout:
 * it needs a second admin (DESIGN §8). A rule the merchants fund alone publishes at once.
 */
export function publishNeedsSecondPerson(draft: DiscountRule): boolean {
  return draft.union_share_bps > 0;
}

/** Asked while the rule's publish waits for a second person. */
export class ApprovalPending extends Conflict {
  constructor(pending: PendingApproval) {
    super(
      'approval_pending',
      'Publishing this rule waits for a second admin: approve or reject that request first.',
      { approval_request_id: pending.approval_request_id, pending_action: pending.action },
    );
  }
}

/** The draft a publish request was recorded for differs from the rule's draft now. */
export class DraftChanged extends Conflict {
  constructor(ruleId: string) {
    super('draft_changed', `Rule ${ruleId}'s draft is no longer the one this request was for.`);
  }
}

export function assertRetirable(record: RuleRecord): void {
  refuseRetired(record);
}
