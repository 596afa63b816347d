/** Held subsidies (DESIGN §6): how a sale's union part was decided, and what a batch still holds. */

/** How a held subsidy was decided: a statement matched the sale, or finance released or cancelled it. */
export type SubsidyDecision = 'confirmed' | 'released' | 'cancelled';

export interface HeldSubsidyItem {
  kind: 'capture' | 'refund';
  /** The checkout id of a capture, the refund id of a refund. */
  id: string;
  checkout_id: string;
  reference: string;
  card_last4: string;
  occurred_at: string;
  /** What the item holds: a capture its union part, a refund minus what it reversed. */
  held_minor: number;
  /** The newest open exception that holds the sale's subsidy, if a statement listed one. */
  exception: { reconciliation_id: string; item_id: string; category: string } | null;
}
