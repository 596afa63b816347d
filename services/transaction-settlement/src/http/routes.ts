/**
 * transaction-settlement's HTTP API (DESIGN §11). Merchants (secret API keys, checked
 * against the replica) quote, capture, refund, void and read their own checkouts; finance
 * reads across merchants and the ledger; admins fund budgets.
 */
import type { Response, Router } from 'express';
import { NotFound } from '@puhui/errors';
import { defineOperation, documented, parseRequest, respond, route } from '@puhui/http';
import type { Operation, OperationRequest, OperationResponse } from '@puhui/http';
import { actorOf, requireOperator } from '@puhui/security';
import type { Principal } from '@puhui/security';
import type { ServiceDependencies } from '@puhui/service';
import type { TransactionSettlementConfig } from '../config';
import { checkoutView, merchantViewer } from '../commands/checkout-view';
import { captureCheckout, quoteCheckout } from '../commands/checkouts';
import { OCCURRED_AT_WINDOW_MS } from '../domain/checkout-limits';
import type { SettlementContext } from '../commands/context';
import type { IdempotentOutcome } from '@puhui/idempotency';
import { refundCheckout, voidCheckout } from '../commands/refunds';
import { topUpBudget } from '../commands/top-ups';
import { findCheckout, listCheckouts } from '../store/checkouts';
import { accountEntries, balanceAsOf, findAccount, trialBalance } from '../store/ledger';
import { findBudget } from '../store/replicas';
import { settlementAuth } from './auth';
import {
  accountPath,
  accountQuery,
  budgetPath,
  checkoutBody,
  checkoutPath,
  entriesQuery,
  idempotencyHeaders,
  listCheckoutsQuery,
  refundBody,
  topUpBody,
} from './schemas';
import {
  budgetBalanceSchema,
  checkoutListSchema,
  checkoutSchema,
  ledgerAccountSchema,
  ledgerEntryListSchema,
  quoteSchema,
  refundSchema,
  topUpSchema,
  trialBalanceSchema,
  voidedCheckoutSchema,
} from './responses';

const REPLAY_HEADERS = {
  'Idempotent-Replayed': '`true` when the answer is the stored one for a repeated key.',
};
export const IDEMPOTENCY =
  'Send an `Idempotency-Key`: the same key with the same request answers the stored result (`Idempotent-Replayed: true`); with a different request, 422 `idempotency_key_reused`; while the first request with the key is still running, 409 `idempotency_key_in_flight`.';

/** Sends an idempotent command's outcome: its first answer, or the stored one on a retry. */
export function sendOutcome<Responses extends Readonly<Record<number, OperationResponse>>, Body>(
  response: Response,
  operation: Operation<OperationRequest, Responses>,
  outcome: IdempotentOutcome<Body>,
): void {
  if (outcome.replayed) response.setHeader('Idempotent-Replayed', 'true');
  if (operation.responses[outcome.status] === undefined)
    throw new Error(`${operation.operationId} answered an undocumented ${outcome.status}`);
  response.status(outcome.status).json(outcome.body);
}

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

const captureOperation = defineOperation({
  method: 'post',
  path: '/v1/checkouts',
  operationId: 'captureCheckout',
  summary: 'Capture a discounted sale',
  description: `Send \`card_number\`, read from the card (turned into a token on arrival and forgotten); a \`card_token\` is refused (the card must be present). The answer names the card by last 4 and a \`card_handle\` scoped to this merchant. The discount, its funding and the ledger postings are written in one transaction. Schedules, caps and the card's day/month usage are evaluated at the time the capture is recorded (Asia/Shanghai); \`occurred_at\` is kept as information and must lie within ${OCCURRED_AT_WINDOW_MS / 60_000} minutes of now (else 422 \`occurred_at_out_of_window\`). One checkout may claim at most its merchant's gross ceiling and 1,000 units, one card at most UNION_FUNDED_CAPTURES_PER_CARD_HOUR_MAX union-funded checkouts an hour (422 \`checkout_gross_exceeds_limit\`, \`checkout_quantity_exceeds_limit\`, \`card_velocity_exceeded\`). ${IDEMPOTENCY}`,
  tags: ['checkouts'],
  callers: ['merchant'],
  request: { body: checkoutBody, headers: idempotencyHeaders },
  responses: {
    201: { description: 'The captured checkout.', schema: checkoutSchema, headers: REPLAY_HEADERS },
  },
  // 404: an operator token on this merchant-only route.
  problems: [403, 404, 409, 422, 503],
});

const listCheckoutsOperation = defineOperation({
  method: 'get',
  path: '/v1/checkouts',
  operationId: 'listCheckouts',
  summary: 'List checkouts',
  description: 'A merchant sees its own; finance and admin see all and may filter by `merchant_id`.',
  tags: ['checkouts'],
  callers: ['finance', 'admin', 'merchant'],
  request: { query: listCheckoutsQuery },
  responses: { 200: { description: 'A page of checkouts, newest first.', schema: checkoutListSchema } },
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

const refundOperation = defineOperation({
  method: 'post',
  path: '/v1/checkouts/:id/refunds',
  operationId: 'refundCheckout',
  summary: 'Refund part or all of a checkout',
  description: `Discount and union subsidy are reversed in proportion. A suspended or terminated merchant gets 403 \`merchant_not_active\`. ${IDEMPOTENCY}`,
  tags: ['checkouts'],
  callers: ['merchant'],
  request: { path: checkoutPath, body: refundBody, headers: idempotencyHeaders },
  responses: { 201: { description: 'The refund.', schema: refundSchema, headers: REPLAY_HEADERS } },
  problems: [403, 409, 422],
});

const voidOperation = defineOperation({
  method: 'post',
  path: '/v1/checkouts/:id/void',
  operationId: 'voidCheckout',
  summary: 'Cancel a checkout in full, the same business day, before settlement',
  description: IDEMPOTENCY,
  tags: ['checkouts'],
  callers: ['merchant'],
  request: { path: checkoutPath, headers: idempotencyHeaders },
  responses: {
    200: { description: 'The voided checkout.', schema: voidedCheckoutSchema, headers: REPLAY_HEADERS },
  },
  problems: [403, 409, 422],
});

const topUpOperation = defineOperation({
  method: 'post',
  path: '/v1/budgets/:id/top_ups',
  operationId: 'topUpBudget',
  summary: 'Fund a union budget',
  description: IDEMPOTENCY,
  tags: ['budgets'],
  callers: ['admin'],
  request: { path: budgetPath, body: topUpBody, headers: idempotencyHeaders },
  responses: {
    201: { description: 'The top-up and the new balance.', schema: topUpSchema, headers: REPLAY_HEADERS },
  },
  // 422: the Idempotency-Key was used for a different request.
  problems: [409, 422],
});

const getBudgetOperation = defineOperation({
  method: 'get',
  path: '/v1/budgets/:id',
  operationId: 'getBudgetBalance',
  summary: 'A union budget’s balance',
  tags: ['budgets'],
  callers: ['finance', 'admin'],
  request: { path: budgetPath },
  responses: { 200: { description: 'The budget and its balance.', schema: budgetBalanceSchema } },
});

const getLedgerAccount = defineOperation({
  method: 'get',
  path: '/v1/ledger/accounts/:code',
  operationId: 'getLedgerAccount',
  summary: 'A ledger account’s balance, now or `as_of` a point in time',
  tags: ['ledger'],
  callers: ['finance'],
  request: { path: accountPath, query: accountQuery },
  responses: { 200: { description: 'The account.', schema: ledgerAccountSchema } },
});

const listLedgerEntries = defineOperation({
  method: 'get',
  path: '/v1/ledger/accounts/:code/entries',
  operationId: 'listLedgerEntries',
  summary: 'An account’s entries',
  tags: ['ledger'],
  callers: ['finance'],
  request: { path: accountPath, query: entriesQuery },
  responses: { 200: { description: 'A page of entries, oldest first.', schema: ledgerEntryListSchema } },
});

const getTrialBalance = defineOperation({
  method: 'get',
  path: '/v1/ledger/trial_balance',
  operationId: 'getTrialBalance',
  summary: 'Every account; debits equal credits',
  tags: ['ledger'],
  callers: ['finance'],
  responses: { 200: { description: 'The trial balance.', schema: trialBalanceSchema } },
});

export const CHECKOUT_OPERATIONS = [
  quoteOperation,
  captureOperation,
  listCheckoutsOperation,
  getCheckout,
  refundOperation,
  voidOperation,
  topUpOperation,
  getBudgetOperation,
  getLedgerAccount,
  listLedgerEntries,
  getTrialBalance,
];

export function checkoutRoutes(
  router: Router,
  dependencies: ServiceDependencies<TransactionSettlementConfig>,
  context: SettlementContext,
): void {
  const { pool, config } = dependencies;
  const { principalOf, asMerchant, asActiveMerchant } = settlementAuth(pool, config.OPERATOR_TOKEN_SECRET);
  const viewerOf = (principal: Principal) =>
    principal.kind === 'merchant' ? merchantViewer(context) : ({ kind: 'operator' } as const);

  route(router, '/v1/checkouts/quote', {
    post: documented(quoteOperation, async (request, response) => {
      const merchant = await asMerchant(request);
      const { body } = parseRequest(request, quoteOperation.request);
      respond(response, quoteOperation, 200, await quoteCheckout(context, merchant, body));
    }),
  });

  route(router, '/v1/checkouts', {
    post: documented(captureOperation, async (request, response) => {
      const merchant = await asMerchant(request);
      const { body, headers } = parseRequest(request, captureOperation.request);
      const outcome = await captureCheckout(context, merchant, body, headers['idempotency-key']);
      sendOutcome(response, captureOperation, outcome);
    }),
    get: documented(listCheckoutsOperation, async (request, response) => {
      const principal = await principalOf(request);
      const { query } = parseRequest(request, listCheckoutsOperation.request);
      if (principal.kind === 'operator') requireOperator(principal, 'finance', 'admin');
      const filter = principal.kind === 'merchant' ? { ...query, merchant_id: principal.merchant_id } : query;
      const page = await listCheckouts(pool, filter);
      respond(response, listCheckoutsOperation, 200, {
        data: page.slice(0, query.limit).map((checkout) => checkoutView(checkout, viewerOf(principal))),
        has_more: page.length > query.limit,
      });
    }),
  });

  route(router, '/v1/checkouts/:id', {
    get: documented(getCheckout, async (request, response) => {
      const principal = await principalOf(request);
      const { path } = parseRequest(request, getCheckout.request);
      if (principal.kind === 'operator') requireOperator(principal, 'finance', 'admin');
      const checkout = await findCheckout(pool, path.id);
      if (
        checkout === undefined ||
        (principal.kind === 'merchant' && checkout.merchant_id !== principal.merchant_id)
      ) {
        throw new NotFound(`Checkout ${path.id}`);
      }
      respond(response, getCheckout, 200, checkoutView(checkout, viewerOf(principal)));
    }),
  });

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
      sendOutcome(response, refundOperation, outcome);
    }),
  });

  route(router, '/v1/checkouts/:id/void', {
    post: documented(voidOperation, async (request, response) => {
      const merchant = await asActiveMerchant(request);
      const { path, headers } = parseRequest(request, voidOperation.request);
      const outcome = await voidCheckout(context, merchant.merchant_id, path.id, headers['idempotency-key']);
      sendOutcome(response, voidOperation, outcome);
    }),
  });

  route(router, '/v1/budgets/:id/top_ups', {
    post: documented(topUpOperation, async (request, response) => {
      const principal = await principalOf(request);
      requireOperator(principal, 'admin');
      const { path, body, headers } = parseRequest(request, topUpOperation.request);
      const outcome = await topUpBudget(
        context,
        actorOf(principal),
        path.id,
        body,
        headers['idempotency-key'],
      );
      sendOutcome(response, topUpOperation, outcome);
    }),
  });

  route(router, '/v1/budgets/:id', {
    get: documented(getBudgetOperation, async (request, response) => {
      requireOperator(await principalOf(request), 'finance', 'admin');
      const { path } = parseRequest(request, getBudgetOperation.request);
      const budget = await findBudget(pool, path.id);
      const account = budget === undefined ? undefined : await findAccount(pool, budget.account_code);
      if (budget === undefined || account === undefined) throw new NotFound(`Budget ${path.id}`);
      respond(response, getBudgetOperation, 200, {
        budget_id: budget.budget_id,
        name: budget.name,
        union_id: budget.union_id,
        currency: 'CNY',
        balance_minor: account.balance_minor,
        account_code: budget.account_code,
      });
    }),
  });

  route(router, '/v1/ledger/accounts/:code', {
    get: documented(getLedgerAccount, async (request, response) => {
      requireOperator(await principalOf(request), 'finance');
      const { path, query } = parseRequest(request, getLedgerAccount.request);
      const account = await findAccount(pool, path.code);
      if (account === undefined) throw new NotFound(`Account ${path.code}`);
      if (query.as_of === undefined) {
        respond(response, getLedgerAccount, 200, account);
        return;
      }
      const then = await balanceAsOf(pool, path.code, query.as_of);
      const balance =
        account.normal_side === 'debit'
          ? then.debits_minor - then.credits_minor
          : then.credits_minor - then.debits_minor;
      respond(response, getLedgerAccount, 200, {
        ...account,
        ...then,
        balance_minor: balance,
        as_of: query.as_of,
      });
    }),
  });

  route(router, '/v1/ledger/accounts/:code/entries', {
    get: documented(listLedgerEntries, async (request, response) => {
      requireOperator(await principalOf(request), 'finance');
      const { path, query } = parseRequest(request, listLedgerEntries.request);
      if ((await findAccount(pool, path.code)) === undefined) throw new NotFound(`Account ${path.code}`);
      const page = await accountEntries(pool, path.code, query);
      respond(response, listLedgerEntries, 200, {
        data: page.slice(0, query.limit),
        has_more: page.length > query.limit,
      });
    }),
  });

  route(router, '/v1/ledger/trial_balance', {
    get: documented(getTrialBalance, async (request, response) => {
      requireOperator(await principalOf(request), 'finance');
      const balance = await trialBalance(pool);
      respond(response, getTrialBalance, 200, {
        ...balance,
        difference_minor: balance.debits_minor - balance.credits_minor,
        balanced: balance.debits_minor === balance.credits_minor,
      });
    }),
  });
}
