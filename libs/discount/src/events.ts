/**
 * Events published by discount-rules. They live beside the engine because they carry its
 * rule shape; topics and the envelope come from @puhui/contracts.
 *
 * - `puhui.rules.v1` (compacted, key: rule id or budget id): every publish and retire carries
 *   the full rule, so the latest message per key is the rule's current truth.
 * - `puhui.cards.v1` (key: card token): a card's token, last 4, tier and status — never its number.
 */
import { z } from 'zod';
import { TOPICS, defineEvent } from '@puhui/contracts';
import { cardStatusSchema, cardTierSchema, discountRuleSchema } from './schema';

const timestamp = z.iso.datetime({ offset: true });

export const rulePublished = defineEvent(
  'puhui.rule.published.v1',
  TOPICS.rules,
  z.strictObject({ rule: discountRuleSchema, ruleset_version: z.int().min(1), published_at: timestamp }),
);

export const ruleRetired = defineEvent(
  'puhui.rule.retired.v1',
  TOPICS.rules,
  z.strictObject({ rule: discountRuleSchema, ruleset_version: z.int().min(1), retired_at: timestamp }),
);

/** A union budget that rules draw subsidies from; settlement opens its ledger account. */
export const budgetCreated = defineEvent(
  'puhui.budget.created.v1',
  TOPICS.rules,
  z.strictObject({
    budget_id: z.string().min(1),
    name: z.string().min(1),
    union_id: z.string().min(1),
    currency: z.literal('CNY'),
    created_at: timestamp,
  }),
);

export const cardFacts = z.strictObject({
  card_token: z.string().regex(/^ctok_[A-Za-z0-9_-]{32}$/u),
  card_last4: z.string().regex(/^\d{4}$/u),
  member_id: z.string().min(1),
  union_id: z.string().min(1),
  tier: cardTierSchema,
  status: cardStatusSchema,
});
export type CardFacts = z.infer<typeof cardFacts>;

export const cardRegistered = defineEvent(
  'puhui.card.registered.v1',
  TOPICS.cards,
  z.strictObject({ card: cardFacts, registered_at: timestamp }),
);

export const cardUpdated = defineEvent(
  'puhui.card.updated.v1',
  TOPICS.cards,
  z.strictObject({ card: cardFacts, changed_fields: z.array(z.string()).min(1), updated_at: timestamp }),
);

export const DISCOUNT_RULES_EVENTS = [
  rulePublished,
  ruleRetired,
  budgetCreated,
  cardRegistered,
  cardUpdated,
] as const;
