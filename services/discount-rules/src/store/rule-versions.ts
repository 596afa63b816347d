/** Published versions of rules: inserted once, never changed (a trigger refuses it). */
import type { PoolClient } from 'pg';
import { discountRuleSchema } from '@puhui/discount';
import type { Queryable } from '@puhui/postgres';
import type { RuleVersion } from '../domain/rule';

export async function insertRuleVersion(client: PoolClient, version: RuleVersion): Promise<void> {
  await client.query(
    `INSERT INTO rule_versions (rule_id, version, rule, ruleset_version, published_by, published_at)
     VALUES ($1, $2, $3, $4, $5, $6)`,
    [
      version.rule.rule_id,
      version.rule.version,
      JSON.stringify(version.rule),
      version.ruleset_version,
      version.published_by,
      version.published_at,
    ],
  );
}

export async function listRuleVersions(client: Queryable, ruleId: string): Promise<RuleVersion[]> {
  const { rows } = await client.query<{
    rule: unknown;
    ruleset_version: string;
    published_by: string;
    published_at: Date;
  }>(
    `SELECT rule, ruleset_version, published_by, published_at FROM rule_versions
     WHERE rule_id = $1 ORDER BY version`,
    [ruleId],
  );
  return rows.map((row) => ({
    rule: discountRuleSchema.parse(row.rule),
    ruleset_version: Number(row.ruleset_version),
    published_by: row.published_by,
    published_at: row.published_at.toISOString(),
  }));
}
