/**
 * The ruleset version: bumped by every publish and retire, in the same transaction, and
 * logged with what it changed.
 */
import type { PoolClient } from 'pg';
import type { Queryable } from '@puhui/postgres';

export interface RulesetChange {
  rule_id: string;
  rule_version: number;
  change: 'published' | 'retired';
  changed_by: string;
}

/**
 * Takes the next ruleset version and logs the change. The UPDATE locks the one head row
 * until commit, so versions commit in the order they were taken.
 */
export async function advanceRuleset(client: PoolClient, change: RulesetChange): Promise<number> {
  const { rows } = await client.query<{ ruleset_version: string }>(
    `WITH head AS (
       UPDATE ruleset_head SET ruleset_version = ruleset_version + 1 RETURNING ruleset_version
     )
     INSERT INTO rulesets (ruleset_version, rule_id, rule_version, change, changed_by)
     SELECT ruleset_version, $1, $2, $3, $4 FROM head
     RETURNING ruleset_version`,
    [change.rule_id, change.rule_version, change.change, change.changed_by],
  );
  const version = rows[0]?.ruleset_version;
  if (version === undefined) throw new Error('ruleset_head has no row');
  return Number(version);
}

/**
 * The ruleset version and the database it counts in (`epoch`: a new one on every new database,
 * migration 0004), in one read: the version sync runs every second.
 */
export async function rulesetHead(client: Queryable): Promise<{ version: number; epoch: string }> {
  const { rows } = await client.query<{ ruleset_version: string; epoch: string }>(
    'SELECT ruleset_version, epoch FROM ruleset_head',
  );
  const row = rows[0];
  if (row === undefined) throw new Error('ruleset_head has no row');
  return { version: Number(row.ruleset_version), epoch: row.epoch };
}

export async function currentRulesetVersion(client: Queryable): Promise<number> {
  const { rows } = await client.query<{ ruleset_version: string }>(
    'SELECT ruleset_version FROM ruleset_head',
  );
  const version = rows[0]?.ruleset_version;
  if (version === undefined) throw new Error('ruleset_head has no row');
  return Number(version);
}
