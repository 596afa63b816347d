/**
 * A member's savings (issue 18): what one card received in discounts and union subsidies over a
 * period, net of refunds, by merchant and by month — for the admin's card page now, and for a
 * union's member app later (operator-only until members sign in).
 */
import { z } from 'zod';
import { cardTokenSchema } from '@puhui/cards';
import { answered, defineOperation, route } from '@puhui/http';
import { currentBusinessDate } from '../commands/business-days';
import { SAVINGS_MERCHANTS_MAX, cardSavings } from '../store/savings';
import { operatorWith, refuseBadPeriod } from './route-support';
import type { SettlementRouting } from './route-support';

/** A period spans at most a year and a day: "this year" is the longest the console asks for. */
const SAVINGS_PERIOD_DAYS_MAX = 366;

const fen = z.number().int();
const figures = {
  checkouts: z.number().int().min(0),
  gross_minor: fen,
  refunded_minor: fen,
  discount_minor: fen,
  union_funded_minor: fen,
  merchant_funded_minor: fen,
};
const savingsSchema = z
  .strictObject({
    object: z.literal('card_savings'),
    card_token: z.string(),
    from: z.iso.date(),
    to: z.iso.date(),
    currency: z.literal('CNY'),
    ...figures,
    by_merchant: z
      .array(
        z.strictObject({
          merchant_id: z.string(),
          display_name: z.string(),
          merchant_category: z.string(),
          ...figures,
        }),
      )
      .meta({ description: `By discount, at most ${SAVINGS_MERCHANTS_MAX} merchants.` }),
    by_month: z.array(z.strictObject({ month: z.string().regex(/^\d{4}-\d{2}$/u), ...figures })),
  })
  .meta({ id: 'CardSavings' });

const savingsPath = z.strictObject({ token: cardTokenSchema });
const savingsQuery = z.strictObject({
  from: z.iso
    .date()
    .optional()
    .meta({ description: 'First business date; default the first of `to`’s month.' }),
  to: z.iso.date().optional().meta({ description: 'Last business date; default the open business day.' }),
});

const savingsOperation = defineOperation({
  method: 'get',
  path: '/v1/cards/:token/savings',
  operationId: 'getCardSavings',
  summary: 'What a card saved over a period: discounts and union subsidies, by merchant and month',
  description: `The card's checkouts of those business days (voided ones apart), each net of its refunds whenever they were made: gross, refunded, discount, union- and merchant-funded parts. At most ${SAVINGS_PERIOD_DAYS_MAX} days (422 \`savings_period_too_long\`); \`from\` after \`to\` is 422 too. A card with no checkouts answers zeros.`,
  tags: ['checkouts'],
  callers: ['admin', 'finance'],
  request: { path: savingsPath, query: savingsQuery },
  responses: { 200: { description: 'The savings.', schema: savingsSchema } },
  problems: [422],
});

export const SAVINGS_OPERATIONS = [savingsOperation];

export function savingsRoutes({ router, pool, context, auth }: SettlementRouting): void {
  route(router, '/v1/cards/:token/savings', {
    get: answered(
      savingsOperation,
      200,
      operatorWith(auth, 'admin', 'finance'),
      async (_operator, { path, query }) => {
        const to = query.to ?? (await currentBusinessDate(context, pool));
        const from = query.from ?? `${to.slice(0, 7)}-01`;
        refuseBadPeriod('savings', { from, to }, SAVINGS_PERIOD_DAYS_MAX);
        const savings = await cardSavings(pool, path.token, { from, to });
        return {
          object: 'card_savings' as const,
          card_token: path.token,
          from,
          to,
          currency: 'CNY' as const,
          ...savings.total,
          by_merchant: savings.merchants,
          by_month: savings.months,
        };
      },
    ),
  });
}
