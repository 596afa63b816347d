/**
 * Rule rows joined with their live version. One SQL statement per function; callers pass
 * the transaction client.
 */
import type { PoolClient } from 'pg';
import { discountRuleSchema } from '@puhui/discount';
import type { DiscountRule, MerchantCategory } from '@puhui/discount';
import { pageOf, pageRowsLimit } from '@puhui/postgres';
import type { Page, PageRequest, Queryable } from '@puhui/postgres';
import type { PendingApproval, RuleRecord, RuleStatus } from '../domain/rule';
import { isoOrNull } from './timestamps';

interface RuleRow {
  rule_id: string;
  status: RuleStatus;
  published_version: number | null;
  live: unknown;
  draft: unknown;
  scheduled_publish_at: Date | null;
  scheduled_by: string | null;
  created_by: string;
  created_at: Date;
  updated_at: Date;
  published_at: Date | null;
  retired_at: Date | null;
  pending_approval: PendingApproval | null;
}

/**
 * The publish request still waiting for a second admin (libs/dual-control's table, in this
 * database), read with every rule so that no answer forgets it. At most one waits: publishRule
 * refuses a second under the rule's row lock.
 */
const PENDING_APPROVAL = `(SELECT jsonb_build_object('approval_request_id', a.id, 'action', a.action,
      'requested_by', a.requested_by, 'requested_at', a.requested_at)
    FROM approval_requests a
    WHERE a.target_type = 'rule' AND a.target_id = rules.rule_id AND a.status = 'pending'
    ORDER BY a.sequence LIMIT 1) AS pending_approval`;

const SELECT_RULES = `SELECT rules.rule_id, rules.status, rules.published_version, live.rule AS live, rules.draft,
    rules.scheduled_publish_at, rules.scheduled_by, rules.created_by, rules.created_at, rules.updated_at,
    live.published_at, rules.retired_at, ${PENDING_APPROVAL}
  FROM rules
  LEFT JOIN rule_versions AS live
    ON live.rule_id = rules.rule_id AND live.version = rules.published_version`;

/** Parsing what was stored re-checks it and puts its fields back in the schema's order. */
const ruleOrNull = (value: unknown): DiscountRule | null =>
  value === null ? null : discountRuleSchema.parse(value);

function toRecord(row: RuleRow): RuleRecord {
  return {
    rule_id: row.rule_id,
    status: row.status,
    published_version: row.published_version,
    live: ruleOrNull(row.live),
    draft: ruleOrNull(row.draft),
    scheduled_publish_at: isoOrNull(row.scheduled_publish_at),
    scheduled_by: row.scheduled_by,
    created_by: row.created_by,
    created_at: row.created_at.toISOString(),
    updated_at: row.updated_at.toISOString(),
    published_at: isoOrNull(row.published_at),
    retired_at: isoOrNull(row.retired_at),
    pending_approval:
      row.pending_approval === null
        ? null
        : {
            ...row.pending_approval,
            requested_at: new Date(row.pending_approval.requested_at).toISOString(),
          },
  };
}

export async function insertRule(
  client: Queryable,
  rule: { rule_id: string; draft: DiscountRule; created_by: string },
): Promise<void> {
  await client.query(`INSERT INTO rules (rule_id, status, draft, created_by) VALUES ($1, 'draft', $2, $3)`, [
    rule.rule_id,
    JSON.stringify(rule.draft),
    rule.created_by,
  ]);
}

export async function findRule(client: Queryable, ruleId: string): Promise<RuleRecord | undefined> {
  const { rows } = await client.query<RuleRow>(`${SELECT_RULES} WHERE rules.rule_id = $1`, [ruleId]);
  return rows[0] === undefined ? undefined : toRecord(rows[0]);
}

/** Locks the rule for the rest of the transaction: edits, publishes and retires of one rule queue here. */
export async function lockRule(client: PoolClient, ruleId: string): Promise<RuleRecord | undefined> {
  const { rows } = await client.query<RuleRow>(
    `${SELECT_RULES} WHERE rules.rule_id = $1 FOR UPDATE OF rules`,
    [ruleId],
  );
  return rows[0] === undefined ? undefined : toRecord(rows[0]);
}

/** Writes the rule's own columns (its versions are inserted, never written over). */
export async function saveRule(client: PoolClient, record: RuleRecord): Promise<void> {
  await client.query(
    `UPDATE rules SET status = $2, published_version = $3, draft = $4, scheduled_publish_at = $5,
       scheduled_by = $6, updated_at = $7, retired_at = $8
     WHERE rule_id = $1`,
    [
      record.rule_id,
      record.status,
      record.published_version,
      record.draft === null ? null : JSON.stringify(record.draft),
      record.scheduled_publish_at,
      record.scheduled_by,
      record.updated_at,
      record.retired_at,
    ],
  );
}

export interface RuleFilter extends PageRequest {
  status?: RuleStatus;
  /** Rules whose scope lists the category, or reaches every merchant. */
  merchant_category?: MerchantCategory;
}

/** One page in id order (ids sort by creation time); one extra row tells has_more. */
export async function listRules(client: Queryable, filter: RuleFilter): Promise<Page<RuleRecord>> {
  const { rows } = await client.query<RuleRow>(
    `WITH shown AS (${SELECT_RULES})
     SELECT shown.* FROM shown
     CROSS JOIN LATERAL (SELECT coalesce(shown.live, shown.draft) -> 'scope' AS scope) AS body
     WHERE ($1::text IS NULL OR shown.status = $1)
       AND ($2::text IS NULL OR body.scope -> 'merchant_categories' ? $2
            OR (body.scope -> 'merchant_categories' = 'null' AND body.scope -> 'merchant_ids' = 'null'))
       AND ($3::text IS NULL OR shown.rule_id > $3)
     ORDER BY shown.rule_id
     LIMIT $4`,
    [
      filter.status ?? null,
      filter.merchant_category ?? null,
      filter.starting_after ?? null,
      pageRowsLimit(filter),
    ],
  );
  return pageOf(rows.map(toRecord), filter);
}

/**
 * The live version of every published rule, and the ruleset version they make up (one
 * statement, so one snapshot): what rate sheets are made of.
 */
export async function liveRuleset(client: Queryable): Promise<{ version: number; rules: DiscountRule[] }> {
  const { rows } = await client.query<{ ruleset_version: string; rules: unknown[] }>(
    `SELECT head.ruleset_version,
            coalesce(jsonb_agg(live.rule ORDER BY rules.rule_id) FILTER (WHERE live.rule IS NOT NULL), '[]') AS rules
     FROM ruleset_head AS head
     LEFT JOIN rules ON rules.status = 'published'
     LEFT JOIN rule_versions AS live ON live.rule_id = rules.rule_id AND live.version = rules.published_version
     GROUP BY head.ruleset_version`,
  );
  const row = rows[0];
  if (row === undefined) throw new Error('ruleset_head has no row');
  return {
    version: Number(row.ruleset_version),
    rules: row.rules.map((rule) => discountRuleSchema.parse(rule)),
  };
}

/** The live rules alone, in rule id order. */
export async function liveRules(client: Queryable): Promise<DiscountRule[]> {
  return (await liveRuleset(client)).rules;
}

/** Rules whose scheduled publish is due, oldest first. */
export async function dueScheduledRules(client: Queryable, limit: number): Promise<string[]> {
  const { rows } = await client.query<{ rule_id: string }>(
    `SELECT rule_id FROM rules WHERE scheduled_publish_at <= now() ORDER BY scheduled_publish_at LIMIT $1`,
    [limit],
  );
  return rows.map((row) => row.rule_id);
}

/** The rules (draft or live) with these ids, for previews. */
export async function findRules(client: Queryable, ruleIds: readonly string[]): Promise<RuleRecord[]> {
  const { rows } = await client.query<RuleRow>(`${SELECT_RULES} WHERE rules.rule_id = ANY($1::text[])`, [
    ruleIds,
  ]);
  return rows.map(toRecord);
}
