/**
 * The shape of a discount rule as the API and the rate sheets carry it (snake_case), its zod
 * schema, and the semantic checks a schema cannot express well (cross-field and ordering).
 */
import type { InvalidParam } from '@puhui/errors';
import { AMOUNT_MINOR_MAX, BPS_WHOLE } from '@puhui/money';
import { z } from 'zod';
import { itemCategory, merchantCategory as merchantCategorySchema } from '@puhui/contracts';

// One list of merchant categories for the whole programme: the contracts own it.
export { MERCHANT_CATEGORIES, merchantCategory as merchantCategorySchema } from '@puhui/contracts';
export type { MerchantCategory } from '@puhui/contracts';

export const CARD_TIERS = ['standard', 'model_worker', 'hardship'] as const;
export const cardTierSchema = z.enum(CARD_TIERS);
export type CardTier = z.infer<typeof cardTierSchema>;

export const CARD_STATUSES = ['active', 'frozen', 'cancelled'] as const;
export const cardStatusSchema = z.enum(CARD_STATUSES);
export type CardStatus = z.infer<typeof cardStatusSchema>;

export const STACKING_MODES = ['exclusive', 'stackable'] as const;
export type StackingMode = (typeof STACKING_MODES)[number];

/** Identifiers (rule, merchant, union, budget ids) are opaque; 100 characters is ample for a UUID or slug. */
const IDENTIFIER_LENGTH_MAX = 100;
const NAME_LENGTH_MAX = 200;
/** A rule with more list entries than this is a data-entry mistake, not a rule. */
const LIST_LENGTH_MAX = 1_000;

const identifier = z.string().min(1).max(IDENTIFIER_LENGTH_MAX);
const amountMinor = z.int().min(1).max(AMOUNT_MINOR_MAX);
const timestamp = z.iso.datetime({ offset: true });
const localTime = z.string().regex(/^(?:[01]\d|2[0-3]):[0-5]\d$/u, 'expected HH:MM from 00:00 to 23:59');
/** Item categories are lowercase snake_case names such as `ticket` or `registration_fee`. */
export const itemCategorySchema = z
  .string()
  .max(IDENTIFIER_LENGTH_MAX)
  .regex(/^[a-z][a-z0-9_]*$/u, 'expected a lowercase snake_case name');

const listOf = <T extends z.ZodType>(item: T) => z.array(item).max(LIST_LENGTH_MAX).nullable();

/**
 * What a new or edited rule may name in `item_categories`: only the line categories a checkout
 * accepts (libs/contracts' ITEM_CATEGORIES), so that no rule is published that can never apply.
 * Rules already stored and carried on rate sheets keep `itemCategorySchema`'s looser shape.
 */
export const checkoutItemCategoriesSchema = listOf(itemCategory).meta({
  description:
    'The checkout line categories the rule discounts (those a checkout line may name); null for any line.',
});

export const benefitSchema = z
  .discriminatedUnion('type', [
    z.strictObject({
      type: z.literal('percent_off'),
      bps: z
        .int()
        .min(1)
        .max(BPS_WHOLE)
        .meta({ description: 'Basis points off the line: 2200 is 22% off (7.8折).' }),
    }),
    z.strictObject({
      type: z.literal('amount_off'),
      amount_minor: amountMinor.meta({
        description: 'Fen off each unit: the line loses amount_minor × quantity, at most its amount.',
      }),
    }),
    z.strictObject({
      type: z.literal('fixed_price'),
      amount_minor: amountMinor.meta({
        description:
          'The price of each unit in fen: the line costs amount_minor × quantity when that is less than its amount.',
      }),
    }),
    z.strictObject({ type: z.literal('waive') }),
  ])
  .meta({
    description:
      '`percent_off` of the line, `amount_off` and `fixed_price` per unit (the line’s `quantity`), or `waive` the line.',
  });
export type Benefit = z.infer<typeof benefitSchema>;

export const scheduleSchema = z.strictObject({
  valid_from: timestamp,
  valid_to: timestamp.nullable(),
  days_of_week: listOf(z.int().min(1).max(7)).meta({
    description:
      'ISO 8601 weekdays in Asia/Shanghai: 1 = Monday … 7 = Sunday, each at most once; null for every day.',
  }),
  time_of_day: z.strictObject({ start: localTime, end: localTime }).nullable().meta({
    description:
      'Asia/Shanghai wall-clock HH:MM, from `start` up to (not including) `end`; an `end` before `start` runs past midnight; null for all day.',
  }),
});
export type Schedule = z.infer<typeof scheduleSchema>;

export const discountRuleSchema = z.strictObject({
  rule_id: identifier,
  version: z.int().min(1),
  name: z.string().min(1).max(NAME_LENGTH_MAX),
  scope: z
    .strictObject({
      merchant_categories: listOf(merchantCategorySchema),
      merchant_ids: listOf(identifier),
    })
    .meta({
      description:
        'Which merchants: one whose category is in `merchant_categories` OR whose id is in `merchant_ids`; a null list adds none, both null means every merchant.',
    }),
  item_categories: listOf(itemCategorySchema),
  eligibility: z.strictObject({
    card_tiers: listOf(cardTierSchema),
    union_ids: listOf(identifier),
  }),
  benefit: benefitSchema,
  caps: z.strictObject({
    per_transaction_minor: amountMinor.nullable(),
    per_card_day_minor: amountMinor.nullable(),
    per_card_month_minor: amountMinor.nullable(),
  }),
  union_share_bps: z.int().min(0).max(BPS_WHOLE),
  budget_id: identifier.nullable(),
  schedule: scheduleSchema,
  priority: z.int(),
  stacking: z.enum(STACKING_MODES),
});
export type DiscountRule = z.infer<typeof discountRuleSchema>;

function isAmountMinor(value: unknown): boolean {
  return Number.isSafeInteger(value) && (value as number) >= 1 && (value as number) <= AMOUNT_MINOR_MAX;
}

function isBps(value: unknown, minimum: number): boolean {
  return Number.isInteger(value) && (value as number) >= minimum && (value as number) <= BPS_WHOLE;
}

/** Milliseconds since the epoch, or NaN. Only RFC 3339 with an explicit offset counts: a bare local time is ambiguous. */
export function parseInstant(text: unknown): number {
  return timestamp.safeParse(text).success ? Date.parse(text as string) : Number.NaN;
}

function listProblems(rule: DiscountRule): InvalidParam[] {
  const lists: [string, readonly unknown[] | null][] = [
    ['scope.merchant_categories', rule.scope.merchant_categories],
    ['scope.merchant_ids', rule.scope.merchant_ids],
    ['item_categories', rule.item_categories],
    ['eligibility.card_tiers', rule.eligibility.card_tiers],
    ['eligibility.union_ids', rule.eligibility.union_ids],
    ['schedule.days_of_week', rule.schedule.days_of_week],
  ];
  // An empty list would mean "matches nothing", which is never what an admin meant: null is "any".
  return lists
    .filter(([, list]) => list !== null && list.length === 0)
    .map(([name]) => ({ name, reason: 'must not be empty; use null for "any"' }));
}

function scheduleProblems(schedule: Schedule): InvalidParam[] {
  const problems: InvalidParam[] = [];
  const from = parseInstant(schedule.valid_from);
  const to = schedule.valid_to === null ? null : parseInstant(schedule.valid_to);
  if (Number.isNaN(from)) problems.push({ name: 'schedule.valid_from', reason: 'must be an RFC 3339 time' });
  if (to !== null && Number.isNaN(to)) {
    problems.push({ name: 'schedule.valid_to', reason: 'must be an RFC 3339 time' });
  } else if (to !== null && !Number.isNaN(from) && to <= from) {
    problems.push({ name: 'schedule.valid_to', reason: 'must be after valid_from' });
  }
  const window = schedule.time_of_day;
  // start = end could mean "never" or "all day"; refuse to guess (null already means all day).
  if (window !== null && window.start === window.end) {
    problems.push({ name: 'schedule.time_of_day.end', reason: 'must differ from start' });
  }
  return problems;
}

function amountProblems(rule: DiscountRule): InvalidParam[] {
  const problems: InvalidParam[] = [];
  const reason = `must be a positive integer number of fen up to ${AMOUNT_MINOR_MAX}`;
  const { benefit, caps } = rule;
  if (
    (benefit.type === 'amount_off' || benefit.type === 'fixed_price') &&
    !isAmountMinor(benefit.amount_minor)
  ) {
    problems.push({ name: 'benefit.amount_minor', reason });
  }
  if (benefit.type === 'percent_off' && !isBps(benefit.bps, 1)) {
    problems.push({ name: 'benefit.bps', reason: `must be an integer from 1 to ${BPS_WHOLE}` });
  }
  for (const key of ['per_transaction_minor', 'per_card_day_minor', 'per_card_month_minor'] as const) {
    if (caps[key] !== null && !isAmountMinor(caps[key])) problems.push({ name: `caps.${key}`, reason });
  }
  if (!isBps(rule.union_share_bps, 0)) {
    problems.push({ name: 'union_share_bps', reason: `must be an integer from 0 to ${BPS_WHOLE}` });
  }
  return problems;
}

/**
 * The semantic problems of a rule that already has the schema's shape, as `invalid_params`
 * entries (dotted field path and reason). An empty list means the rule can be published.
 */
export function validateRule(rule: DiscountRule): InvalidParam[] {
  const problems = [...listProblems(rule), ...scheduleProblems(rule.schedule), ...amountProblems(rule)];
  if (!Number.isSafeInteger(rule.version) || rule.version < 1) {
    problems.push({ name: 'version', reason: 'must be a positive integer' });
  }
  if (!Number.isSafeInteger(rule.priority)) problems.push({ name: 'priority', reason: 'must be an integer' });
  // The union's part is drawn from a budget, so a rule that promises one must name it.
  if (rule.union_share_bps > 0 && rule.budget_id === null) {
    problems.push({ name: 'budget_id', reason: 'is required when union_share_bps is above 0' });
  }
  return problems;
}
