/**
 * The engine's answer (`CheckoutResult`) as zod schemas, for the services' API documents:
 * discount-rules' previews and transaction-settlement's quotes and checkouts show it.
 */
import { z } from 'zod';
import { RULE_OUTCOMES } from './explain';

const fen = z.int().min(0);

/** What a rule grants and who pays for it: the same fields on a line and over a checkout. */
export const ruleFundingShape = {
  rule_id: z.string(),
  version: z.int(),
  discount_minor: fen,
  union_funded_minor: fen.meta({ description: 'The union’s part, drawn from `budget_id`.' }),
  merchant_funded_minor: fen.meta({
    description: 'The merchant’s part: `discount_minor − union_funded_minor`.',
  }),
};

/**
 * DESIGN §11's `applied_rules` entry, the same on a quote, a checkout and a preview: the
 * rule's part of the line, who pays for it, and the budget a union share was drawn from.
 */
export const appliedRuleSchema = z
  .strictObject({
    ...ruleFundingShape,
    budget_id: z.string().nullable().meta({
      description: 'The union budget the rule’s union share was drawn from; null for a rule without one.',
    }),
    budget_balance_after_minor: z.int().nullable().meta({
      description:
        'What that budget held after the rule’s draw in this checkout (its whole draw, over every line it applies to; a quote’s as if it were captured now); null without a budget.',
    }),
  })
  .meta({ id: 'AppliedRule' });

export const resultLineSchema = z.strictObject({
  category: z.string(),
  amount_minor: fen,
  quantity: z.int(),
  discount_minor: fen,
  applied_rules: z.array(appliedRuleSchema),
});

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

/** Every rule's outcome on a previewed checkout (explain.ts): why one that gave nothing gave nothing. */
export const ruleOutcomeSchema = z
  .strictObject({
    rule_id: z.string(),
    version: z.int(),
    outcome: z.enum(RULE_OUTCOMES).meta({
      description:
        '`applied`; `budget_short` (its budget could not fund the union share: `shortfall_minor`); or why it gave nothing: `card_not_active`, `outside_schedule` (validity, weekdays, hours in Asia/Shanghai), `merchant_not_in_scope`, `card_not_eligible` (tier or union), `cap_used`, `items_not_covered`, `outdone` (a better exclusive rule took its lines), `nothing_left` (a stackable rule with nothing left to take). The first of the engine’s checks the rule failed, in the engine’s order.',
    }),
    shortfall_minor: fen.optional(),
  })
  .meta({ id: 'RuleOutcome' });
