import type { PoolClient } from 'pg';

export interface UsageKey {
  rule_id: string;
  period: string;
}

/**
 * Locks (creating at zero) the usage rows of a card for these rules and periods, in key
 * order, and returns their amounts: per-card caps are read under the lock they are written with.
 * One statement: an upsert whose no-op update locks an existing row (waiting for a concurrent
 * capture of the same card to finish, then reading what it left) and returns its amount.
 */
export async function lockUsage(
  client: PoolClient,
  cardToken: string,
  keys: readonly UsageKey[],
): Promise<Map<string, number>> {
  if (keys.length === 0) return new Map();
  const sorted = [...keys].sort((a, b) =>
    `${a.rule_id}|${a.period}`.localeCompare(`${b.rule_id}|${b.period}`),
  );
  const { rows } = await client.query<{ rule_id: string; period: string; discount_minor: string }>({
    name: 'settlement-lock-usage',
    text: `INSERT INTO card_rule_usage AS u (card_token, rule_id, period)
     SELECT $1, rule_id, period FROM unnest($2::text[], $3::text[]) WITH ORDINALITY AS k(rule_id, period, position)
     ORDER BY position
     ON CONFLICT (card_token, rule_id, period) DO UPDATE SET discount_minor = u.discount_minor
     RETURNING u.rule_id, u.period, u.discount_minor`,
    values: [cardToken, sorted.map((key) => key.rule_id), sorted.map((key) => key.period)],
  });
  return new Map(rows.map((row) => [`${row.rule_id}|${row.period}`, Number(row.discount_minor)]));
}

/** Adds (or, negative, removes) discount to a card's usage rows. */
export async function addUsage(
  client: PoolClient,
  cardToken: string,
  changes: ReadonlyArray<UsageKey & { delta_minor: number }>,
): Promise<void> {
  const nonZero = changes.filter((change) => change.delta_minor !== 0);
  if (nonZero.length === 0) return;
  await client.query({
    name: 'settlement-add-usage',
    text: `UPDATE card_rule_usage u SET discount_minor = u.discount_minor + c.delta
     FROM unnest($2::text[], $3::text[], $4::bigint[]) AS c(rule_id, period, delta)
     WHERE u.card_token = $1 AND u.rule_id = c.rule_id AND u.period = c.period`,
    values: [
      cardToken,
      nonZero.map((c) => c.rule_id),
      nonZero.map((c) => c.period),
      nonZero.map((c) => c.delta_minor),
    ],
  });
}

/** A card's usage rows for these rules, without locking them (quotes). */
export async function readUsage(
  client: Pick<PoolClient, 'query'>,
  cardToken: string,
  ruleIds: readonly string[],
): Promise<Map<string, number>> {
  const { rows } = await client.query<{ rule_id: string; period: string; discount_minor: string }>(
    'SELECT rule_id, period, discount_minor FROM card_rule_usage WHERE card_token = $1 AND rule_id = ANY($2::text[])',
    [cardToken, ruleIds],
  );
  return new Map(rows.map((row) => [`${row.rule_id}|${row.period}`, Number(row.discount_minor)]));
}

/**
 * Union-funded captures of a card recorded since `since` (voided ones not counted). Called under
 * the card's usage row locks, so concurrent captures of one card count each other.
 */
export async function countUnionFundedCaptures(
  client: PoolClient,
  cardToken: string,
  since: Date,
): Promise<number> {
  const { rows } = await client.query<{ count: number }>({
    name: 'settlement-count-union-funded-captures',
    text: `SELECT count(*)::int AS count FROM checkouts
     WHERE card_token = $1 AND created_at > $2 AND union_funded_minor > 0 AND status <> 'voided'`,
    values: [cardToken, since],
  });
  return rows[0]?.count ?? 0;
}
