/** Request shapes (strict: unknown fields are rejected). Money is integer fen, at most 10^12. */
import { z } from 'zod';
import { cardNumberSchema, cardTokenSchema } from '@puhui/cards';
import { itemCategory } from '@puhui/contracts';
import { safeText } from '@puhui/http';
import { AMOUNT_MINOR_MAX } from '@puhui/money';
import { LINE_DESCRIPTION_LENGTH_MAX } from '../domain/checkout';

export const LINES_MAX = 100;
const amountMinor = z
  .int('must be a whole number of fen')
  .min(1, 'must be positive')
  .max(AMOUNT_MINOR_MAX, 'must be at most 10^12 fen');

export const checkoutBody = z
  .strictObject({
    card_number: cardNumberSchema.optional(),
    card_token: cardTokenSchema.optional(),
    currency: z.literal('CNY', 'only CNY is accepted'),
    reference: safeText(64),
    occurred_at: z.iso.datetime({ offset: true }).optional(),
    lines: z
      .array(
        z.strictObject({
          category: itemCategory.meta({
            description:
              'What the line is (rules’ `item_categories` name these); discount-rules accepts the same list.',
          }),
          amount_minor: amountMinor.meta({
            description: 'The line’s total in fen (all its units), before discount.',
          }),
          quantity: z.int().min(1).max(10_000).default(1).meta({
            description: 'Units on the line: per-unit benefits (`amount_off`, `fixed_price`) count them.',
          }),
          description: safeText(LINE_DESCRIPTION_LENGTH_MAX, { min: 0 }).optional(),
        }),
      )
      .min(1)
      .max(LINES_MAX),
  })
  // A capture needs the card present (DESIGN §8): a merchant sends the number it read from the
  // card, never a token (a token read from an earlier answer would earn subsidy with no card).
  .refine((body) => body.card_token === undefined, {
    message: 'is for operator tools; a merchant sends card_number, read from the card',
    path: ['card_token'],
  })
  .refine((body) => body.card_number !== undefined, {
    message: 'is required: the card must be present',
    path: ['card_number'],
  })
  // The total only of lines whose amounts are valid: a line beyond 10^12 is named alone (its
  // own field), not again as a total that adds up to more.
  .refine(
    (body) =>
      !body.lines.every((line) => amountMinor.safeParse(line.amount_minor).success) ||
      body.lines.reduce((sum, line) => sum + line.amount_minor, 0) <= AMOUNT_MINOR_MAX,
    { message: 'the lines add up to more than 10^12 fen', path: ['lines'] },
  );
// occurred_at's distance from the clock (OCCURRED_AT_WINDOW_MS, a 422) is checked by the command
// once the Idempotency-Key is claimed, so that a late retry of a stored capture still gets its answer.

export const refundBody = z.strictObject({
  amount_minor: amountMinor.meta({
    description:
      'Gross fen being refunded: the part of the sale’s `gross_minor` the goods returned were worth, at most what is not yet refunded. The card gets it less the discount it carried (`member_refund_minor`).',
  }),
  reason: safeText(200, { min: 0 }).optional(),
});
export const topUpBody = z.strictObject({
  amount_minor: amountMinor,
  reference: safeText(64),
});

export const checkoutPath = z.strictObject({
  id: z.string().regex(/^chk_[0-9a-z]{25}$/u, 'not a checkout id'),
});
export const budgetPath = z.strictObject({ id: z.string().min(1).max(64) });
export const accountPath = z.strictObject({ code: z.string().min(1).max(200) });

const limit = z.coerce.number().int().min(1).max(100).default(20);

export const listCheckoutsQuery = z.strictObject({
  merchant_id: z.string().optional(),
  status: z.enum(['captured', 'partially_refunded', 'refunded', 'voided']).optional(),
  business_date_from: z.iso.date().optional(),
  business_date_to: z.iso.date().optional(),
  card_last4: z
    .string()
    .regex(/^\d{4}$/u)
    .optional(),
  reference: safeText(64)
    .optional()
    .meta({ description: 'The merchant’s own reference of the sale (unique per merchant).' }),
  card_token: cardTokenSchema.optional().meta({
    description: 'Operators only (a merchant key gets 400): a card’s checkouts, for its card page.',
  }),
  limit,
  starting_after: z
    .string()
    .regex(/^chk_[0-9a-z]{25}$/u)
    .optional(),
});

export const refundsQuery = z.strictObject({
  limit,
  starting_after: z
    .string()
    .regex(/^ref_[0-9a-z]{25}$/u, 'not a refund id')
    .optional(),
});

export const accountQuery = z.strictObject({ as_of: z.iso.datetime({ offset: true }).optional() });
export const entriesQuery = z.strictObject({
  limit,
  starting_after: z
    .string()
    .regex(/^\d{1,18}$/u)
    .optional(),
});
