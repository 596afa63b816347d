/**
 * A member card as this service keeps it: a keyed token and the last 4 digits instead of the
 * number, who holds it (member, union, tier) and its status.
 *
 *   active ⇄ frozen, and either → cancelled (final).
 *
 * A frozen or cancelled card keeps its rules out of its rate sheet: it gets no discount.
 */
import type { CardFacts, CardStatus, CardTier } from '@puhui/discount';
import { Conflict } from '@puhui/errors';

/** Member and union ids are opaque references to the union's own registers. */
export const REFERENCE_LENGTH_MAX = 100;
export const REFERENCE_SHAPE = /^[\w.:-]+$/u;
export const REFERENCE_RULE = `must be 1 to ${REFERENCE_LENGTH_MAX} letters, digits, _ . : or -`;

export function referenceProblem(value: string): string | null {
  if (value.length === 0) return 'is required';
  if (value.length > REFERENCE_LENGTH_MAX || !REFERENCE_SHAPE.test(value)) return REFERENCE_RULE;
  return null;
}

export interface Card extends CardFacts {
  /** Bumped by every change; rate sheets computed from an older revision are dropped. */
  revision: number;
  import_id: string | null;
  created_at: string;
  updated_at: string;
}

/** What a registration asks for, the number already turned into its token and last 4. */
export interface CardRegistration {
  card_token: string;
  card_last4: string;
  member_id: string;
  union_id: string;
  tier: CardTier;
}

export interface CardChange {
  tier?: CardTier;
  status?: CardStatus;
}

/** What events and rate sheets carry about a card (libs/discount `cardFacts`). */
export function factsOf(card: CardFacts): CardFacts {
  return {
    card_token: card.card_token,
    card_last4: card.card_last4,
    member_id: card.member_id,
    union_id: card.union_id,
    tier: card.tier,
    status: card.status,
  };
}

/** A registration that repeats what is stored is a retry, not a conflict. */
export function sameRegistration(card: CardRegistration, registration: CardRegistration): boolean {
  return (
    card.member_id === registration.member_id &&
    card.union_id === registration.union_id &&
    card.tier === registration.tier
  );
}

/**
 * The card after `change`, and the fields that really changed (none: nothing to record).
 * A cancelled card cannot change any more.
 */
export function changedCard(
  card: Card,
  change: CardChange,
  now: string,
): { after: Card; changed_fields: string[] } {
  const changed_fields = (['tier', 'status'] as const).filter(
    (field) => change[field] !== undefined && change[field] !== card[field],
  );
  if (changed_fields.length === 0) return { after: card, changed_fields: [] };
  if (card.status === 'cancelled') {
    throw new Conflict('card_cancelled', 'A cancelled card cannot change.', { current_status: card.status });
  }
  const after: Card = { ...card, ...change, revision: card.revision + 1, updated_at: now };
  return { after, changed_fields };
}
