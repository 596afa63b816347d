/** Refunds and voids of a checkout (DESIGN §4.7): merchant calls, idempotent, for an active merchant only. */
import type { Router } from 'express';
import {
  IDEMPOTENCY_KEY_DESCRIPTION,
  IDEMPOTENT_REPLAY_HEADERS,
  defineOperation,
  documented,
  idempotencyKeyHeaders,
  parseRequest,
  route,
  sendIdempotentOutcome,
} from '@puhui/http';
import type { ServiceDependencies } from '@puhui/service';
import type { TransactionSettlementConfig } from '../config';
import type { SettlementContext } from '../commands/context';
import { refundCheckout, voidCheckout } from '../commands/refunds';
import { settlementAuth } from './auth';
import { refundSchema, voidedCheckoutSchema } from './responses';
import { checkoutPath, refundBody } from './schemas';

const refundOperation = defineOperation({
  method: 'post',
  path: '/v1/checkouts/:id/refunds',
  operationId: 'refundCheckout',
  summary: 'Refund part or all of a checkout',
  description: `Discount and union subsidy are reversed in proportion. A suspended or terminated merchant gets 403 \`merchant_not_active\`. ${IDEMPOTENCY_KEY_DESCRIPTION}`,
  tags: ['checkouts'],
  callers: ['merchant'],
  request: { path: checkoutPath, body: refundBody, headers: idempotencyKeyHeaders },
  responses: {
    201: { description: 'The refund.', schema: refundSchema, headers: IDEMPOTENT_REPLAY_HEADERS },
  },
  problems: [403, 409, 422],
});

const voidOperation = defineOperation({
  method: 'post',
  path: '/v1/checkouts/:id/void',
  operationId: 'voidCheckout',
  summary: 'Cancel a checkout in full, the same business day, before settlement',
  description: IDEMPOTENCY_KEY_DESCRIPTION,
  tags: ['checkouts'],
  callers: ['merchant'],
  request: { path: checkoutPath, headers: idempotencyKeyHeaders },
  responses: {
    200: {
      description: 'The voided checkout.',
      schema: voidedCheckoutSchema,
      headers: IDEMPOTENT_REPLAY_HEADERS,
    },
  },
  problems: [403, 409, 422],
});

export const REFUND_OPERATIONS = [refundOperation, voidOperation];

export function refundRoutes(
  router: Router,
  dependencies: ServiceDependencies<TransactionSettlementConfig>,
  context: SettlementContext,
): void {
  const { asActiveMerchant } = settlementAuth(dependencies.pool, dependencies.config.OPERATOR_TOKEN_SECRET);

  route(router, '/v1/checkouts/:id/refunds', {
    post: documented(refundOperation, async (request, response) => {
      const merchant = await asActiveMerchant(request);
      const { path, body, headers } = parseRequest(request, refundOperation.request);
      const outcome = await refundCheckout(
        context,
        merchant.merchant_id,
        path.id,
        body,
        headers['idempotency-key'],
      );
      sendIdempotentOutcome(response, refundOperation, outcome);
    }),
  });

  route(router, '/v1/checkouts/:id/void', {
    post: documented(voidOperation, async (request, response) => {
      const merchant = await asActiveMerchant(request);
      const { path, headers } = parseRequest(request, voidOperation.request);
      const outcome = await voidCheckout(context, merchant.merchant_id, path.id, headers['idempotency-key']);
      sendIdempotentOutcome(response, voidOperation, outcome);
    }),
  });
}
