/**
 * The discount engine: DESIGN §4 as pure functions (no I/O, no clock, no randomness), shared
 * by discount-rules (rate sheets, previews) and transaction-settlement (quotes, captures,
 * refunds). Money is integer fen throughout, through @puhui/money.
 *
 * Matching, in the words tests pin:
 * - Scope: both `merchant_categories` and `merchant_ids` null → every merchant. Otherwise a
 *   merchant matches when its category is listed OR its id is listed.
 * - Items: `item_categories` null → any line; otherwise the line's category must be listed.
 * - Eligibility: each of `card_tiers` and `union_ids` that is given must match (AND); both
 *   null → every card. Only an `active` card gets a discount at checkout.
 * - Schedule: Asia/Shanghai (UTC+08:00, no daylight saving). valid_from inclusive, valid_to
 *   exclusive; days of the week ISO (Monday = 1); a time window ending before it starts runs
 *   past midnight. Rules handed in are assumed published: the rate sheet holds no others.
 *
 * Evaluation order: per line the best exclusive rule (largest discount on the line, then
 * higher priority, then lower rule_id), capped; then stackable rules by priority desc, then
 * rule_id, each on what remains and capped in turn; then funding, drawing union budgets in
 * the same processing order. Results never depend on the order of input lines or rules.
 */
export {
  CARD_STATUSES,
  CARD_TIERS,
  MERCHANT_CATEGORIES,
  STACKING_MODES,
  benefitSchema,
  cardStatusSchema,
  cardTierSchema,
  discountRuleSchema,
  checkoutItemCategoriesSchema,
  itemCategorySchema,
  merchantCategorySchema,
  scheduleSchema,
  validateRule,
  type Benefit,
  type CardStatus,
  type CardTier,
  type DiscountRule,
  type MerchantCategory,
  type Schedule,
  type StackingMode,
} from './schema';
export { RULE_OUTCOMES, explainCheckout, type RuleOutcome, type RuleOutcomeCode } from './explain';
export { scheduleCovers, shanghaiLocalTime, type ShanghaiLocalTime } from './schedule';
export {
  benefitDiscount,
  describeBenefit,
  ruleAppliesToCard,
  ruleCoversItem,
  ruleMatchesMerchant,
  type CardIdentity,
  type MerchantIdentity,
} from './match';
export {
  CHECKOUT_LINES_MAX,
  type AppliedRule,
  type CheckoutContext,
  type CheckoutLine,
  type CheckoutResult,
  type LineResult,
  type NoDiscountReason,
  type RuleFunding,
  type RuleGrant,
  type RuleUsage,
} from './checkout';
export { evaluateCheckout } from './evaluate';
export {
  appliedRuleSchema,
  resultLineSchema,
  ruleFundingShape,
  ruleOutcomeSchema,
  resultTotalsShape,
} from './result-schema';
export {
  RefundExceedsRemaining,
  computeRefund,
  type RefundInput,
  type RefundResult,
  type ReversedBefore,
  type RuleReversal,
} from './refund';
export {
  DISCOUNT_RULES_EVENTS,
  budgetCreated,
  cardFacts,
  cardRegistered,
  cardUpdated,
  rulePublished,
  ruleRetired,
  type CardFacts,
} from './events';
export {
  RATE_SHEET_TTL_SECONDS,
  RULESET_EPOCH_KEY,
  RULESET_VERSION_KEY,
  RATE_SHEET_KEY_PATTERN,
  rateSheetKey,
  rateSheetKeyIdentity,
  rateSheetSchema,
  type RateSheet,
} from './rate-sheet';
