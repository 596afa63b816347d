/**
 * The engine's answer (`CheckoutResult`) as zod schemas, for the services' API documents:
 * discount-rules' previews and transaction-settlement's quotes and checkouts show it.
 */
import { z } from 'zod';

const fen = z.int().min(0);

/** DESIGN §11's `applied_rules` entry as a checkout keeps it. */
export const appliedRuleSchema = z.strictObject({
  rule_id: z.string(),
  version: z.int(),
  discount_minor: fen,
  union_funded_minor: fen,
});

/** The engine's entry, with the merchant's part spelled out. */
export const fundedAppliedRuleSchema = appliedRuleSchema.extend({ merchant_funded_minor: fen });

export function resultLineSchema<Applied extends z.ZodType>(applied: Applied) {
  return z.strictObject({
    category: z.string(),
    amount_minor: fen,
    quantity: z.int(),
    discount_minor: fen,
    applied_rules: z.array(applied),
  });
}

/** The totals every result carries (DESIGN §4.6): gross − discount = net. */
export const resultTotalsShape = {
  gross_minor: fen,
  discount_minor: fen,
  merchant_funded_minor: fen,
  union_funded_minor: fen,
  net_minor: fen.meta({ description: 'What the member pays by card: gross minus discount.' }),
  budget_exhausted: z.boolean().meta({ description: 'A union budget could not fund its full share.' }),
  no_discount_reason: z.enum(['card_frozen', 'card_cancelled']).nullable(),
};
