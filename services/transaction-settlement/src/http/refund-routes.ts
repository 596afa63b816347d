/** Refunds and voids of a checkout (DESIGN §4.7): merchant calls, idempotent, for an active merchant only. */
import { defineIdempotentOperation, idempotentPost, route } from '@puhui/http';
import { refundCheckout, voidCheckout } from '../commands/refunds';
import { refundSchema, voidedCheckoutSchema } from './responses';
import type { SettlementRouting } from './route-support';
import { checkoutPath, refundBody } from './schemas';

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

export const REFUND_OPERATIONS = [refundOperation, voidOperation];

export function refundRoutes({ router, context, auth }: SettlementRouting): void {
  route(router, '/v1/checkouts/:id/refunds', {
    post: idempotentPost(refundOperation, auth.asActiveMerchant, (merchant, { path, body }, key) =>
      refundCheckout(context, merchant.merchant_id, path.id, body, key),
    ),
  });

  route(router, '/v1/checkouts/:id/void', {
    post: idempotentPost(voidOperation, auth.asActiveMerchant, (merchant, { path }, key) =>
      voidCheckout(context, merchant.merchant_id, path.id, key),
    ),
  });
}
