/**
 * Creating, editing, publishing and retiring rules. Each command is one transaction holding
 * the rule's row lock. A publish or retire also bumps the ruleset version, writes the
 * immutable version row and appends the event carrying the full rule; only after the commit
 * is Redis's ruleset version moved forward, which switches every card's rate sheet at once.
 */
import { isDeepStrictEqual } from 'node:util';
import { newId } from '@puhui/contracts';
import { discountRuleSchema, rulePublished, ruleRetired } from '@puhui/discount';
import type { DiscountRule } from '@puhui/discount';
import type { ApprovalRequestView } from '@puhui/dual-control';
import { Forbidden, NotFound, ValidationFailed } from '@puhui/errors';
import { appendEvent } from '@puhui/events';
import { withTransaction } from '@puhui/postgres';
import type { PoolClient } from '@puhui/postgres';
import {
  ApprovalPending,
  DraftChanged,
  RULE_PUBLISH_ACTION,
  assertRetirable,
  draftToPublish,
  editedDraft,
  publishNeedsSecondPerson,
  ruleOf,
} from '../domain/rule';
import type { RuleFields, RuleRecord } from '../domain/rule';
import { ruleView } from '../views/rule';
import type { RuleView } from '../views/rule';
import { appendAudit } from '../store/audit';
import { insertRuleVersion } from '../store/rule-versions';
import { findRule, insertRule, lockRule, saveRule } from '../store/rules';
import { advanceRuleset } from '../store/rulesets';
import { EVENT_SOURCE } from './context';
import type { CommandContext } from './context';
import { assertDraftValid, assertPublishable } from './rule-checks';

export type Actor = Pick<CommandContext, 'actor' | 'requestId'>;

async function lockOrNotFound(client: PoolClient, ruleId: string): Promise<RuleRecord> {
  const record = await lockRule(client, ruleId);
  if (record === undefined) throw new NotFound(`Rule ${ruleId}`);
  return record;
}

async function audit(
  client: PoolClient,
  actor: Actor,
  action: string,
  before: RuleRecord | null,
  after: RuleRecord,
) {
  await appendAudit(client, {
    rule_id: after.rule_id,
    action,
    actor: actor.actor,
    request_id: actor.requestId,
    before: before === null ? null : ruleView(before),
    after: ruleView(after),
  });
}

export async function createRule(context: CommandContext, fields: RuleFields): Promise<RuleView> {
  const ruleId = newId('rul');
  const draft = ruleOf(ruleId, 1, fields);
  return withTransaction(context.pool, async (client) => {
    await assertDraftValid(client, draft);
    await insertRule(client, { rule_id: ruleId, draft, created_by: context.actor });
    const record = await findRule(client, ruleId);
    if (record === undefined) throw new Error(`rule ${ruleId} vanished`);
    await audit(client, context, 'rule_created', null, record);
    return ruleView(record);
  });
}

/**
 * Edits the draft; on a published rule the edit is the next version's draft and the live
 * version stays as it is. Top-level fields are replaced whole. An edit cancels a scheduled
 * publish: what goes live must be what an admin published, not a later edit of it.
 */
export async function updateRule(
  context: CommandContext,
  ruleId: string,
  changes: Partial<RuleFields>,
): Promise<RuleView> {
  return withTransaction(context.pool, async (client) => {
    const before = await lockOrNotFound(client, ruleId);
    // What the checker approves must be what goes live: no edit while they look at it.
    if (before.pending_approval !== null) throw new ApprovalPending(before.pending_approval);
    const draft = editedDraft(before, changes);
    await assertDraftValid(client, draft);
    const after: RuleRecord = {
      ...before,
      draft,
      scheduled_publish_at: null,
      scheduled_by: null,
      updated_at: new Date().toISOString(),
    };
    await saveRule(client, after);
    await audit(client, context, 'rule_updated', before, after);
    return ruleView(after);
  });
}

/** Makes `draft` the live version: ruleset bump, version row, rule row, audit and event. */
async function goLive(
  client: PoolClient,
  actor: Actor,
  before: RuleRecord,
  draft: DiscountRule,
  action: string,
) {
  const now = new Date().toISOString();
  const rulesetVersion = await advanceRuleset(client, {
    rule_id: draft.rule_id,
    rule_version: draft.version,
    change: 'published',
    changed_by: actor.actor,
  });
  await insertRuleVersion(client, {
    rule: draft,
    ruleset_version: rulesetVersion,
    published_by: actor.actor,
    published_at: now,
  });
  const after: RuleRecord = {
    ...before,
    status: 'published',
    published_version: draft.version,
    live: draft,
    draft: null,
    scheduled_publish_at: null,
    scheduled_by: null,
    updated_at: now,
    published_at: now,
    pending_approval: null,
  };
  await saveRule(client, after);
  await audit(client, actor, action, before, after);
  await appendEvent(client, EVENT_SOURCE, {
    definition: rulePublished,
    subject: draft.rule_id,
    data: { rule: draft, ruleset_version: rulesetVersion, published_at: now },
  });
  return { view: ruleView(after), rulesetVersion };
}

/** What a publish answers: the rule (live or scheduled), or the request it waits in (202). */
export type PublishAnswer =
  | { status: 200; rule: RuleView & { ruleset_version: number | null } }
  | { status: 202; approval_request: ApprovalRequestView };

/** What a publish request records: exactly the draft asked for, and when it is to go live. */
export interface PublishRequest {
  rule_id: string;
  draft: DiscountRule;
  effective_at: string | null;
}

/**
 * Publishes the rule's draft now, or schedules it for `effectiveAt` (the background job
 * publishes it when due, within BACKGROUND_INTERVAL_MS). Publishing a retired rule is 409. A
 * draft the union funds part of is not published by one admin: the publish is recorded as a
 * request (202) and happens when a second admin approves it (publishApproved).
 */
export async function publishRule(
  context: CommandContext,
  ruleId: string,
  effectiveAt: Date | null,
): Promise<PublishAnswer> {
  const outcome = await withTransaction(context.pool, async (client) => {
    const before = await lockOrNotFound(client, ruleId);
    const draft = draftToPublish(before);
    const now = new Date();
    if (effectiveAt !== null && effectiveAt.getTime() <= now.getTime()) {
      throw new ValidationFailed([
        { name: 'effective_at', reason: 'must be in the future; omit it to publish now' },
      ]);
    }
    await assertPublishable(client, draft, effectiveAt ?? now);
    if (before.pending_approval !== null) throw new ApprovalPending(before.pending_approval);
    if (publishNeedsSecondPerson(draft)) {
      return { approvalRequest: await requestPublish(client, context, before, draft, effectiveAt) };
    }
    return publishLocked(client, context, before, draft, effectiveAt);
  });
  if ('approvalRequest' in outcome) return { status: 202, approval_request: outcome.approvalRequest };
  if (outcome.rulesetVersion !== null) await context.sheets.announceRulesetVersion(outcome.rulesetVersion);
  return { status: 200, rule: { ...outcome.view, ruleset_version: outcome.rulesetVersion } };
}

/** Now (goLive) or at `effectiveAt` (scheduled), on the locked rule. */
async function publishLocked(
  client: PoolClient,
  actor: Actor,
  before: RuleRecord,
  draft: DiscountRule,
  effectiveAt: Date | null,
) {
  if (effectiveAt === null) return goLive(client, actor, before, draft, 'rule_published');
  const after: RuleRecord = {
    ...before,
    scheduled_publish_at: effectiveAt.toISOString(),
    scheduled_by: actor.actor,
    updated_at: new Date().toISOString(),
    pending_approval: null,
  };
  await saveRule(client, after);
  await audit(client, actor, 'publish_scheduled', before, after);
  return { view: ruleView(after), rulesetVersion: null };
}

async function requestPublish(
  client: PoolClient,
  context: CommandContext,
  before: RuleRecord,
  draft: DiscountRule,
  effectiveAt: Date | null,
): Promise<ApprovalRequestView> {
  if (context.operator === null) throw new Forbidden('Only an admin asks for a publish.');
  const payload: PublishRequest = {
    rule_id: draft.rule_id,
    draft,
    effective_at: effectiveAt?.toISOString() ?? null,
  };
  const share = `${(draft.union_share_bps / 100).toFixed(2).replace(/\.?0+$/u, '')}%`;
  return context.dualControl.requestApproval(client, {
    action: RULE_PUBLISH_ACTION,
    target_type: 'rule',
    target_id: draft.rule_id,
    summary: `Publish “${draft.name}” v${draft.version}: the union funds ${share} of its discounts from budget ${draft.budget_id ?? '—'}${effectiveAt === null ? '' : ` from ${effectiveAt.toISOString()}`}`,
    payload,
    before: before.live === null ? null : { ...before.live },
    after: { ...draft, effective_at: payload.effective_at },
    requested_by: context.operator.subject,
  });
}

/**
 * A publish request approved by a second admin, in the approving transaction: the draft asked
 * for goes live (or is scheduled) as if its checker had published it, refused (409, the request
 * stays pending) when the draft changed or can no longer be published. Redis learns the new
 * ruleset version after the commit (approvals.ts), like a publish.
 */
export async function publishApproved(
  client: PoolClient,
  actor: Actor,
  request: PublishRequest,
): Promise<{ view: RuleView; rulesetVersion: number | null }> {
  const before = await lockOrNotFound(client, request.rule_id);
  const draft = draftToPublish(before);
  // Both through the schema, so that only a real difference counts (not field order or absence).
  if (!isDeepStrictEqual(draft, discountRuleSchema.parse(request.draft)))
    throw new DraftChanged(request.rule_id);
  const now = new Date();
  const due = request.effective_at === null ? null : new Date(request.effective_at);
  const effectiveAt = due !== null && due.getTime() > now.getTime() ? due : null;
  await assertPublishable(client, draft, effectiveAt ?? now);
  return publishLocked(client, actor, { ...before, pending_approval: null }, draft, effectiveAt);
}

/**
 * Retires a rule for good. A published rule leaves every rate sheet (ruleset bump and
 * `rule.retired`); a never-published draft was never live, so nothing is announced.
 */
export async function retireRule(context: CommandContext, ruleId: string): Promise<RuleView> {
  const outcome = await withTransaction(context.pool, async (client) => {
    const before = await lockOrNotFound(client, ruleId);
    assertRetirable(before);
    const now = new Date().toISOString();
    const after: RuleRecord = {
      ...before,
      pending_approval: null,
      status: 'retired',
      draft: before.live === null ? before.draft : null,
      scheduled_publish_at: null,
      scheduled_by: null,
      updated_at: now,
      retired_at: now,
    };
    await saveRule(client, after);
    await audit(client, context, 'rule_retired', before, after);
    // A publish waiting for a second admin can never run now.
    if (before.pending_approval !== null) {
      await context.dualControl.cancelPending(
        client,
        { target_type: 'rule', target_id: ruleId },
        {
          reason: 'The rule was retired.',
          ...(context.operator === null ? {} : { by: context.operator.subject }),
        },
      );
    }
    if (before.live === null) return { view: ruleView(after), rulesetVersion: null };
    const rulesetVersion = await advanceRuleset(client, {
      rule_id: ruleId,
      rule_version: before.live.version,
      change: 'retired',
      changed_by: context.actor,
    });
    await appendEvent(client, EVENT_SOURCE, {
      definition: ruleRetired,
      subject: ruleId,
      data: { rule: before.live, ruleset_version: rulesetVersion, retired_at: now },
    });
    return { view: ruleView(after), rulesetVersion };
  });
  if (outcome.rulesetVersion !== null) await context.sheets.announceRulesetVersion(outcome.rulesetVersion);
  return outcome.view;
}

/** A scheduled draft that can no longer be published goes back to being a plain draft. */
async function unschedule(client: PoolClient, actor: Actor, before: RuleRecord, failure: ValidationFailed) {
  const after: RuleRecord = {
    ...before,
    scheduled_publish_at: null,
    scheduled_by: null,
    updated_at: new Date().toISOString(),
  };
  await saveRule(client, after);
  await appendAudit(client, {
    rule_id: before.rule_id,
    action: 'scheduled_publish_failed',
    actor: actor.actor,
    request_id: null,
    before: ruleView(before),
    after: { ...ruleView(after), problems: failure.invalidParams },
  });
}

/**
 * Publishes one scheduled rule if it is (still) due. Under the row lock, so two instances
 * running the job publish it once. A draft that can no longer be published (a merchant it
 * names was terminated since) is unscheduled, and the audit trail says why. The actor is
 * whoever scheduled it: they decided, the clock only carried it out.
 */
export async function publishIfDue(context: CommandContext, ruleId: string): Promise<number | null> {
  const outcome = await withTransaction(context.pool, async (client) => {
    const before = await lockRule(client, ruleId);
    const dueAt = before?.scheduled_publish_at ?? null;
    if (before === undefined || before.draft === null || dueAt === null || Date.parse(dueAt) > Date.now()) {
      return null;
    }
    const actor = { actor: before.scheduled_by ?? context.actor, requestId: null };
    try {
      await assertPublishable(client, before.draft, new Date());
    } catch (error) {
      if (!(error instanceof ValidationFailed)) throw error;
      await unschedule(client, actor, before, error);
      context.logger.warn({ rule_id: ruleId, problems: error.invalidParams }, 'scheduled publish failed');
      return null;
    }
    return (await goLive(client, actor, before, before.draft, 'scheduled_publish')).rulesetVersion;
  });
  if (outcome !== null) await context.sheets.announceRulesetVersion(outcome);
  return outcome;
}
