/**
 * Checkouts (DESIGN §4, §5, §11): merchants (secret API keys, checked against the replica)
 * quote and capture; finance and admins read across merchants, a merchant only its own.
 */
import { NotFound, ValidationFailed } from '@puhui/errors';
import { answered, defineIdempotentOperation, defineOperation, idempotentPost, route } from '@puhui/http';
import { mapPage } from '@puhui/postgres';
import { requireOperator } from '@puhui/security';
import type { Principal } from '@puhui/security';
import { captureCheckout, quoteCheckout } from '../commands/checkouts';
import { OCCURRED_AT_WINDOW_MS } from '../domain/checkout-limits';
import { findCheckout, listCheckouts } from '../store/checkouts';
import { checkoutView, merchantViewer } from '../views/checkout';
import { checkoutListSchema, checkoutSchema, quoteSchema } from './responses';
import type { SettlementRouting } from './route-support';
import { checkoutBody, checkoutPath, listCheckoutsQuery } from './schemas';

const quoteOperation = defineOperation({
  method: 'post',
  path: '/v1/checkouts/quote',
  operationId: 'quoteCheckout',
  summary: 'What the member would pay (no side effects)',
  description: `Evaluated now, as a capture would be; \`occurred_at\` must lie within ${OCCURRED_AT_WINDOW_MS / 60_000} minutes of now (else 422 \`occurred_at_out_of_window\`).`,
  tags: ['checkouts'],
  callers: ['merchant'],
  request: { body: checkoutBody },
  responses: { 200: { description: 'The quote.', schema: quoteSchema } },
  // 403: a suspended merchant; 404: an operator token on this merchant-only route; 503: rate sheets unreachable.
  problems: [403, 404, 422, 503],
});

const captureOperation = defineIdempotentOperation({
  method: 'post',
  path: '/v1/checkouts',
  operationId: 'captureCheckout',
  summary: 'Capture a discounted sale',
  description: `Send \`card_number\`, read from the card (turned into a token on arrival and forgotten); a \`card_token\` is refused (the card must be present). The answer names the card by last 4 and a \`card_handle\` scoped to this merchant. The discount, its funding and the ledger postings are written in one transaction. Schedules, caps and the card's day/month usage are evaluated at the time the capture is recorded (Asia/Shanghai); \`occurred_at\` is kept as information and must lie within ${OCCURRED_AT_WINDOW_MS / 60_000} minutes of now (else 422 \`occurred_at_out_of_window\`). One checkout may claim at most its merchant's gross ceiling and 1,000 units, one card at most UNION_FUNDED_CAPTURES_PER_CARD_HOUR_MAX union-funded checkouts an hour (422 \`checkout_gross_exceeds_limit\`, \`checkout_quantity_exceeds_limit\`, \`card_velocity_exceeded\`).`,
  tags: ['checkouts'],
  callers: ['merchant'],
  request: { body: checkoutBody },
  responses: { 201: { description: 'The captured checkout.', schema: checkoutSchema } },
  // 404: an operator token on this merchant-only route.
  problems: [403, 404, 409, 422, 503],
});

const listCheckoutsOperation = defineOperation({
  method: 'get',
  path: '/v1/checkouts',
  operationId: 'listCheckouts',
  summary: 'List checkouts',
  description:
    'A merchant sees its own; finance and admin see all and may filter by `merchant_id`. `reference` finds a sale by the merchant’s own reference; `card_token` (operators) a card’s checkouts.',
  tags: ['checkouts'],
  callers: ['finance', 'admin', 'merchant'],
  request: { query: listCheckoutsQuery },
  responses: { 200: { description: 'A page of checkouts, oldest first.', schema: checkoutListSchema } },
});

const getCheckout = defineOperation({
  method: 'get',
  path: '/v1/checkouts/:id',
  operationId: 'getCheckout',
  summary: 'Get one checkout',
  description: 'Another merchant’s checkout answers 404.',
  tags: ['checkouts'],
  callers: ['finance', 'admin', 'merchant'],
  request: { path: checkoutPath },
  responses: { 200: { description: 'The checkout.', schema: checkoutSchema } },
});

export const CHECKOUT_OPERATIONS = [quoteOperation, captureOperation, listCheckoutsOperation, getCheckout];

export function checkoutRoutes({ router, pool, context, auth }: SettlementRouting): void {
  const { principalOf, asMerchant } = auth;
  const viewerOf = (principal: Principal) =>
    principal.kind === 'merchant' ? merchantViewer(context.cardHandleKey) : ({ kind: 'operator' } as const);

  route(router, '/v1/checkouts/quote', {
    post: answered(quoteOperation, 200, asMerchant, (merchant, { body }) =>
      quoteCheckout(context, merchant, body),
    ),
  });

  route(router, '/v1/checkouts', {
    post: idempotentPost(captureOperation, asMerchant, (merchant, { body }, key) =>
      captureCheckout(context, merchant, body, key),
    ),
    get: answered(listCheckoutsOperation, 200, principalOf, async (principal, { query }) => {
      if (principal.kind !== 'merchant') requireOperator(principal, 'finance', 'admin');
      // A merchant never learns a programme-wide card token, so it may not search by one.
      if (principal.kind === 'merchant' && query.card_token !== undefined)
        throw new ValidationFailed([
          { name: 'card_token', reason: 'is for operators; a merchant has card handles' },
        ]);
      const filter = principal.kind === 'merchant' ? { ...query, merchant_id: principal.merchant_id } : query;
      const page = await listCheckouts(pool, filter);
      return mapPage(page, (checkout) => checkoutView(checkout, viewerOf(principal)));
    }),
  });

  route(router, '/v1/checkouts/:id', {
    get: answered(getCheckout, 200, principalOf, async (principal, { path }) => {
      if (principal.kind !== 'merchant') requireOperator(principal, 'finance', 'admin');
      const checkout = await findCheckout(pool, path.id);
      if (
        checkout === undefined ||
        (principal.kind === 'merchant' && checkout.merchant_id !== principal.merchant_id)
      ) {
        throw new NotFound(`Checkout ${path.id}`);
      }
      return checkoutView(checkout, viewerOf(principal));
    }),
  });
}
