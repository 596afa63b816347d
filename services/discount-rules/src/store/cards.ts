/**
 * Card rows. One SQL statement per function; callers pass the transaction client.
 * No function here ever sees a card number: only tokens and last 4.
 */
import type { PoolClient } from 'pg';
import type { CardStatus, CardTier } from '@puhui/discount';
import { pageOf, pageRowsLimit } from '@puhui/postgres';
import type { Page, PageRequest, Queryable } from '@puhui/postgres';
import type { Card, CardRegistration } from '../domain/card';

interface CardRow {
  card_token: string;
  card_last4: string;
  member_id: string;
  union_id: string;
  tier: CardTier;
  status: CardStatus;
  revision: number;
  import_id: string | null;
  created_at: Date;
  updated_at: Date;
}

const COLUMNS =
  'card_token, card_last4, member_id, union_id, tier, status, revision, import_id, created_at, updated_at';

function toCard(row: CardRow): Card {
  return { ...row, created_at: row.created_at.toISOString(), updated_at: row.updated_at.toISOString() };
}

/** The new card, or undefined when the token is already registered (the caller decides). */
export async function insertCard(client: Queryable, card: CardRegistration): Promise<Card | undefined> {
  const { rows } = await client.query<CardRow>(
    `INSERT INTO cards (card_token, card_last4, member_id, union_id, tier, status)
     VALUES ($1, $2, $3, $4, $5, 'active')
     ON CONFLICT (card_token) DO NOTHING
     RETURNING ${COLUMNS}`,
    [card.card_token, card.card_last4, card.member_id, card.union_id, card.tier],
  );
  return rows[0] === undefined ? undefined : toCard(rows[0]);
}

export async function findCard(client: Queryable, cardToken: string): Promise<Card | undefined> {
  const { rows } = await client.query<CardRow>(`SELECT ${COLUMNS} FROM cards WHERE card_token = $1`, [
    cardToken,
  ]);
  return rows[0] === undefined ? undefined : toCard(rows[0]);
}

export interface CardFilter extends PageRequest {
  member_id?: string;
  card_last4?: string;
  union_id?: string;
  tier?: CardTier;
  status?: CardStatus;
}

/** A page of cards in token order (a stable order, not registration time), by any of the filters. */
export async function listCards(client: Queryable, filter: CardFilter): Promise<Page<Card>> {
  const { rows } = await client.query<CardRow>(
    `SELECT ${COLUMNS} FROM cards
     WHERE ($1::text IS NULL OR member_id = $1) AND ($2::text IS NULL OR card_last4 = $2)
       AND ($3::text IS NULL OR union_id = $3) AND ($4::text IS NULL OR tier = $4)
       AND ($5::text IS NULL OR status = $5) AND ($6::text IS NULL OR card_token > $6)
     ORDER BY card_token LIMIT $7`,
    [
      filter.member_id ?? null,
      filter.card_last4 ?? null,
      filter.union_id ?? null,
      filter.tier ?? null,
      filter.status ?? null,
      filter.starting_after ?? null,
      pageRowsLimit(filter),
    ],
  );
  return pageOf(rows.map(toCard), filter);
}

/** Locks the card for the rest of the transaction: two changes to one card run one after the other. */
export async function lockCard(client: PoolClient, cardToken: string): Promise<Card | undefined> {
  const { rows } = await client.query<CardRow>(
    `SELECT ${COLUMNS} FROM cards WHERE card_token = $1 FOR UPDATE`,
    [cardToken],
  );
  return rows[0] === undefined ? undefined : toCard(rows[0]);
}

export async function saveCardChange(client: PoolClient, card: Card): Promise<void> {
  await client.query(
    `UPDATE cards SET tier = $2, status = $3, revision = $4, updated_at = $5 WHERE card_token = $1`,
    [card.card_token, card.tier, card.status, card.revision, card.updated_at],
  );
}

/** The card and the current ruleset version, read in one statement (one snapshot). */
export async function findCardAtRuleset(
  client: Queryable,
  cardToken: string,
): Promise<{ rulesetVersion: number; card: Card | undefined }> {
  const { rows } = await client.query<CardRow & { ruleset_version: string }>(
    `SELECT head.ruleset_version, ${COLUMNS.split(', ')
      .map((column) => `cards.${column}`)
      .join(', ')}
     FROM ruleset_head AS head LEFT JOIN cards ON cards.card_token = $1`,
    [cardToken],
  );
  const row = rows[0];
  if (row === undefined) throw new Error('ruleset_head has no row');
  const { ruleset_version: rulesetVersion, ...card } = row;
  return {
    rulesetVersion: Number(rulesetVersion),
    card: card.card_token === null ? undefined : toCard(card),
  };
}

export async function cardRevision(client: Queryable, cardToken: string): Promise<number | undefined> {
  const { rows } = await client.query<{ revision: number }>(
    'SELECT revision FROM cards WHERE card_token = $1',
    [cardToken],
  );
  return rows[0]?.revision;
}

export interface BatchOutcome {
  card_token: string;
  /** Set when this statement registered the card. */
  created_at: Date | null;
  /** For a card registered before: whether member, union and tier are the same. */
  same_as_registered: boolean | null;
}

/**
 * Registers a batch of cards in one statement (tokens must be distinct within the batch).
 * Cards already registered are left as they are; for them the answer says whether the row
 * repeats what is stored. The final SELECT reads `cards` as it was before this statement,
 * so it sees exactly the cards registered earlier.
 */
export async function insertCardBatch(
  client: PoolClient,
  cards: readonly CardRegistration[],
  importId: string,
): Promise<BatchOutcome[]> {
  const { rows } = await client.query<BatchOutcome>(
    `WITH input AS (
       SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[])
         AS t (card_token, card_last4, member_id, union_id, tier)
     ), inserted AS (
       INSERT INTO cards (card_token, card_last4, member_id, union_id, tier, status, import_id)
       SELECT card_token, card_last4, member_id, union_id, tier, 'active', $6 FROM input
       ON CONFLICT (card_token) DO NOTHING
       RETURNING card_token, created_at
     )
     SELECT input.card_token, inserted.created_at,
            (existing.member_id = input.member_id AND existing.union_id = input.union_id
              AND existing.tier = input.tier) AS same_as_registered
     FROM input
     LEFT JOIN inserted ON inserted.card_token = input.card_token
     LEFT JOIN cards AS existing ON existing.card_token = input.card_token`,
    [
      cards.map((card) => card.card_token),
      cards.map((card) => card.card_last4),
      cards.map((card) => card.member_id),
      cards.map((card) => card.union_id),
      cards.map((card) => card.tier),
      importId,
    ],
  );
  return rows;
}
