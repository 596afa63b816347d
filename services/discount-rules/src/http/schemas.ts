/** Request shapes (strict: unknown fields are rejected) and their field-level checks. */
import { z } from 'zod';
import { safeText } from '@puhui/http';
import { cardNumberSchema, cardTokenSchema } from '@puhui/cards';
import {
  CHECKOUT_LINES_MAX,
  cardStatusSchema,
  cardTierSchema,
  checkoutItemCategoriesSchema,
  discountRuleSchema,
  itemCategorySchema,
  merchantCategorySchema,
  scheduleSchema,
} from '@puhui/discount';
import { AMOUNT_MINOR_MAX, BPS_WHOLE } from '@puhui/money';
import { REFERENCE_LENGTH_MAX, REFERENCE_RULE, REFERENCE_SHAPE } from '../domain/card';
import { RULE_STATUSES } from '../domain/rule';
import type { RuleFields } from '../domain/rule';

/** One check, one message: empty, too long and odd characters all break the same rule. */
const reference = z
  .string()
  .trim()
  .refine((value) => value.length <= REFERENCE_LENGTH_MAX && REFERENCE_SHAPE.test(value), REFERENCE_RULE);
const idOf = (prefix: string) =>
  z.string().regex(new RegExp(`^${prefix}_[0-9a-z]{25}$`, 'u'), `not a ${prefix}_ id`);
const timestamp = z.iso.datetime({ offset: true });

export const PAGE_LIMIT_MAX = 100;
const limit = z.coerce.number().int().min(1).max(PAGE_LIMIT_MAX).default(20);

// Cards --------------------------------------------------------------------------------

export const registerCardBody = z.strictObject({
  card_number: cardNumberSchema,
  member_id: reference,
  union_id: reference,
  tier: cardTierSchema,
});

export const updateCardBody = z
  .strictObject({ tier: cardTierSchema.optional(), status: cardStatusSchema.optional() })
  .refine((body) => body.tier !== undefined || body.status !== undefined, 'send tier, status or both');

export const cardPath = z.strictObject({ token: cardTokenSchema });
export const listCardsQuery = z.strictObject({
  member_id: reference.optional(),
  card_last4: z
    .string()
    .regex(/^\d{4}$/u, 'four digits')
    .optional()
    .meta({
      description: 'The card number’s last 4, with `member_id` most useful (last 4 alone matches many).',
    }),
  union_id: reference.optional(),
  tier: cardTierSchema.optional(),
  status: cardStatusSchema.optional(),
  limit,
  starting_after: cardTokenSchema.optional(),
});
export const importPath = z.strictObject({ id: idOf('imp') });

// Rules --------------------------------------------------------------------------------

const rule = discountRuleSchema.shape;
const scopeShape = rule.scope.shape;
const eligibilityShape = rule.eligibility.shape;
const capsShape = rule.caps.shape;
const scheduleShape = scheduleSchema.shape;

/** Nested objects: lists left out mean "any", caps left out mean "none". */
const scopeInput = z
  .strictObject({
    merchant_categories: scopeShape.merchant_categories.default(null),
    merchant_ids: scopeShape.merchant_ids.default(null),
  })
  .meta({ description: rule.scope.description });
const eligibilityInput = z.strictObject({
  card_tiers: eligibilityShape.card_tiers.default(null),
  union_ids: eligibilityShape.union_ids.default(null),
});
const capsInput = z.strictObject({
  per_transaction_minor: capsShape.per_transaction_minor.default(null),
  per_card_day_minor: capsShape.per_card_day_minor.default(null),
  per_card_month_minor: capsShape.per_card_month_minor.default(null),
});
const scheduleInput = z.strictObject({
  valid_from: scheduleShape.valid_from,
  valid_to: scheduleShape.valid_to.default(null),
  days_of_week: scheduleShape.days_of_week.default(null),
  time_of_day: scheduleShape.time_of_day.default(null),
});
const shareBps = z.int().min(0).max(BPS_WHOLE);

interface Shares {
  union_share_bps?: number | undefined;
  merchant_share_bps?: number | undefined;
}

/**
 * The union's share of a discount; the merchant funds the rest, so the two always make 10000.
 * Either may be sent; when both are, they must add up.
 */
function resolveShares<T extends Shares>(
  body: T,
  context: z.RefinementCtx,
): Omit<T, 'merchant_share_bps'> & { union_share_bps?: number } {
  const { merchant_share_bps: merchant, ...rest } = body;
  if (merchant === undefined) return rest;
  if (body.union_share_bps !== undefined && body.union_share_bps + merchant !== BPS_WHOLE) {
    context.addIssue({
      code: 'custom',
      path: ['merchant_share_bps'],
      message: `union_share_bps and merchant_share_bps must add up to ${BPS_WHOLE}`,
    });
    return rest;
  }
  return { ...rest, union_share_bps: BPS_WHOLE - merchant };
}

/** A new rule: name, scope, benefit and schedule.valid_from are required; the rest have defaults. */
export const ruleFieldsBody = z
  .strictObject({
    name: safeText(200),
    scope: scopeInput,
    item_categories: checkoutItemCategoriesSchema.default(null),
    eligibility: eligibilityInput.default({ card_tiers: null, union_ids: null }),
    benefit: rule.benefit,
    caps: capsInput.default({
      per_transaction_minor: null,
      per_card_day_minor: null,
      per_card_month_minor: null,
    }),
    union_share_bps: shareBps.optional(),
    merchant_share_bps: shareBps.optional(),
    budget_id: rule.budget_id.default(null),
    schedule: scheduleInput,
    priority: rule.priority.default(0),
    stacking: rule.stacking.default('exclusive'),
  })
  .transform((body, context): RuleFields => {
    const resolved = resolveShares(body, context);
    return { ...resolved, union_share_bps: resolved.union_share_bps ?? 0 };
  });

/** An edit: any top-level field, each replaced whole. */
export const ruleChangesBody = z
  .strictObject({
    name: safeText(200).optional(),
    scope: scopeInput.optional(),
    item_categories: checkoutItemCategoriesSchema.optional(),
    eligibility: eligibilityInput.optional(),
    benefit: rule.benefit.optional(),
    caps: capsInput.optional(),
    union_share_bps: shareBps.optional(),
    merchant_share_bps: shareBps.optional(),
    budget_id: rule.budget_id.optional(),
    schedule: scheduleInput.optional(),
    priority: rule.priority.optional(),
    stacking: rule.stacking.optional(),
  })
  .refine((body) => Object.keys(body).length > 0, 'send at least one field to change')
  .transform((body, context): Partial<RuleFields> => {
    const resolved = resolveShares(body, context);
    // Fields sent as undefined are not changes.
    return Object.fromEntries(Object.entries(resolved).filter(([, value]) => value !== undefined));
  });

export const rulePath = z.strictObject({ id: idOf('rul') });

export const publishBody = z
  .strictObject({ effective_at: timestamp.optional() })
  .optional()
  .transform((body) => (body?.effective_at === undefined ? null : new Date(body.effective_at)));

export const listRulesQuery = z.strictObject({
  status: z.enum(RULE_STATUSES).optional(),
  merchant_category: merchantCategorySchema.optional(),
  limit,
  starting_after: idOf('rul').optional(),
});

// Preview ------------------------------------------------------------------------------

/**
 * The most past checkouts one preview prices: about 2.5 MB of JSON. Their lines and the answer's
 * size are bounded too, by configuration (PREVIEW_LINES_MAX, PREVIEW_APPLIED_RULES_MAX).
 */
export const PREVIEW_CHECKOUTS_MAX = 10_000;
/** Rules in one preview: a whole city's programme has a few dozen. */
export const PREVIEW_RULES_MAX = 100;
/** Units on one line; a till does not sell more of one thing at once. */
const QUANTITY_MAX = 1_000_000;
const fen = z.int().min(0).max(Number.MAX_SAFE_INTEGER);

const checkoutInput = z.strictObject({
  merchant: z.strictObject({ merchant_id: z.string().min(1).max(100), category: merchantCategorySchema }),
  card: z.strictObject({
    tier: cardTierSchema,
    union_id: reference,
    status: cardStatusSchema.default('active'),
  }),
  occurred_at: timestamp,
  lines: z
    .array(
      z.strictObject({
        category: itemCategorySchema.min(1),
        amount_minor: z.int().min(1).max(AMOUNT_MINOR_MAX),
        quantity: z.int().min(1).max(QUANTITY_MAX).default(1),
      }),
    )
    .min(1)
    .max(CHECKOUT_LINES_MAX),
  /** Discount the card already had from each rule today and this month; none by default. */
  usage: z
    .record(z.string().max(100), z.strictObject({ card_day_minor: fen, card_month_minor: fen }))
    .optional(),
});

/** Stored rules a preview names; read on its own first, to load them before the body is checked. */
export const previewRuleIds = z.array(idOf('rul')).min(1).max(PREVIEW_RULES_MAX);

export const previewBody = z
  .strictObject({
    rule_ids: previewRuleIds.optional(),
    rules: z.array(ruleFieldsBody).min(1).max(PREVIEW_RULES_MAX).optional(),
    checkout: checkoutInput.optional(),
    checkouts: z.array(checkoutInput).min(1).max(PREVIEW_CHECKOUTS_MAX).optional(),
    /** What each budget has left; a budget not listed is unlimited. */
    budgets: z.record(z.string().max(100), z.strictObject({ remaining_minor: fen })).optional(),
  })
  .refine((body) => (body.checkout === undefined) !== (body.checkouts === undefined), {
    message: 'send either checkout or checkouts',
    path: ['checkout'],
  });

// Budgets and audit --------------------------------------------------------------------

export const createBudgetBody = z.strictObject({
  name: safeText(200),
  union_id: reference,
  currency: z.literal('CNY'),
});
export const budgetPath = z.strictObject({ id: idOf('bud') });
export const listBudgetsQuery = z.strictObject({
  union_id: reference.optional(),
  limit,
  starting_after: idOf('bud').optional(),
});

export const auditQuery = z.strictObject({
  rule_id: idOf('rul').optional(),
  card_token: cardTokenSchema.optional(),
  budget_id: idOf('bud').optional(),
  limit,
  starting_after: z
    .string()
    .regex(/^\d{1,18}$/u)
    .optional(),
});

export const listImportsQuery = z.strictObject({
  status: z.enum(['running', 'succeeded', 'failed']).optional(),
  limit,
  starting_after: idOf('imp').optional(),
});
