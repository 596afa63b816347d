/** Refunds and voids of a checkout (DESIGN §4.7): merchant calls, idempotent, for an active merchant only. */
import { NotFound } from '@puhui/errors';
import { answered, defineIdempotentOperation, defineOperation, idempotentPost, route } from '@puhui/http';
import { mapPage } from '@puhui/postgres';
import { refundCheckout, voidCheckout } from '../commands/refunds';
import { findCheckout, listRefundsOf } from '../store/checkouts';
import { refundView } from '../views/refund';
import { refundListSchema, refundSchema, voidedCheckoutSchema } from './responses';
import { merchantOrOperatorWith } from './route-support';
import type { SettlementRouting } from './route-support';
import { checkoutPath, refundBody, refundsQuery } from './schemas';

const refundOperation = defineIdempotentOperation({
  method: 'post',
  path: '/v1/checkouts/:id/refunds',
  operationId: 'refundCheckout',
  summary: 'Refund part or all of a checkout',
  description:
    'Discount and union subsidy are reversed in proportion. A suspended or terminated merchant gets 403 `merchant_not_active`.',
  tags: ['checkouts'],
  callers: ['merchant'],
  request: { path: checkoutPath, body: refundBody },
  responses: { 201: { description: 'The refund.', schema: refundSchema } },
  problems: [403, 409, 422],
});

const listRefundsOperation = defineOperation({
  method: 'get',
  path: '/v1/checkouts/:id/refunds',
  operationId: 'listCheckoutRefunds',
  summary: 'A checkout’s refunds, oldest first, each with the running total after it',
  description:
    'A merchant sees the refunds of its own checkouts (another merchant’s checkout answers 404); finance and admin see any.',
  tags: ['checkouts'],
  callers: ['finance', 'admin', 'merchant'],
  request: { path: checkoutPath, query: refundsQuery },
  responses: { 200: { description: 'A page of refunds, oldest first.', schema: refundListSchema } },
});

const voidOperation = defineIdempotentOperation({
  method: 'post',
  path: '/v1/checkouts/:id/void',
  operationId: 'voidCheckout',
  summary: 'Cancel a checkout in full, the same business day, before settlement',
  tags: ['checkouts'],
  callers: ['merchant'],
  request: { path: checkoutPath },
  responses: { 200: { description: 'The voided checkout.', schema: voidedCheckoutSchema } },
  problems: [403, 409, 422],
});

export const REFUND_OPERATIONS = [refundOperation, listRefundsOperation, voidOperation];

export function refundRoutes({ router, pool, context, auth }: SettlementRouting): void {
  const asReader = merchantOrOperatorWith(auth, 'finance', 'admin');
  route(router, '/v1/checkouts/:id/refunds', {
    post: idempotentPost(refundOperation, auth.asActiveMerchant, (merchant, { path, body }, key) =>
      refundCheckout(context, merchant.merchant_id, path.id, body, key),
    ),
    get: answered(listRefundsOperation, 200, asReader, async (principal, { path, query }) => {
      const checkout = await findCheckout(pool, path.id);
      if (
        checkout === undefined ||
        (principal.kind === 'merchant' && checkout.merchant_id !== principal.merchant_id)
      ) {
        throw new NotFound(`Checkout ${path.id}`);
      }
      return mapPage(await listRefundsOf(pool, path.id, query), (refund) =>
        refundView(refund, {
          status: refund.refunded_total_minor === checkout.gross_minor ? 'refunded' : 'partially_refunded',
          refunded_total_minor: refund.refunded_total_minor,
        }),
      );
    }),
  });

  route(router, '/v1/checkouts/:id/void', {
    post: idempotentPost(voidOperation, auth.asActiveMerchant, (merchant, { path }, key) =>
      voidCheckout(context, merchant.merchant_id, path.id, key),
    ),
  });
}
