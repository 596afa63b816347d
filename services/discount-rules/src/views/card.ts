/** How a member card is shown: its token and last 4, never its number. */
import { factsOf } from '../domain/card';
import type { Card } from '../domain/card';

export type CardView = ReturnType<typeof cardView>;

export function cardView(card: Card) {
  return { ...factsOf(card), created_at: card.created_at, updated_at: card.updated_at };
}
