/**
 * transaction-settlement's HTTP API (DESIGN §11). Merchants (secret API keys, checked
 * against the replica) quote, capture, refund, void and read their own checkouts; finance
 * reads across merchants and the ledger; admins fund budgets.
 */
import type { Response, Router } from 'express';
import { NotFound } from '@puhui/errors';
import { parseRequest, route } from '@puhui/http';
import { actorOf, requireOperator } from '@puhui/security';
import type { ServiceDependencies } from '@puhui/service';
import { captureCheckout, checkoutView, quoteCheckout } from '../commands/checkouts';
import type { SettlementContext } from '../commands/context';
import type { IdempotentOutcome } from '../commands/idempotent';
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

function send<Body>(response: Response, outcome: IdempotentOutcome<Body>): void {
  if (outcome.replayed) response.setHeader('Idempotent-Replayed', 'true');
  response.status(outcome.status).json(outcome.body);
}

export function checkoutRoutes(
  router: Router,
  dependencies: ServiceDependencies,
  context: SettlementContext,
): void {
  const { pool, config } = dependencies;
  const { principalOf, asMerchant } = settlementAuth(pool, config.OPERATOR_TOKEN_SECRET);

  route(router, '/v1/checkouts/quote', {
    post: async (request, response) => {
      const merchant = await asMerchant(request);
      const { body } = parseRequest(request, { body: checkoutBody });
      response.json(await quoteCheckout(context, merchant, body));
    },
  });

  route(router, '/v1/checkouts', {
    post: async (request, response) => {
      const merchant = await asMerchant(request);
      const { body, headers } = parseRequest(request, { body: checkoutBody, headers: idempotencyHeaders });
      send(response, await captureCheckout(context, merchant, body, headers['idempotency-key']));
    },
    get: async (request, response) => {
      const principal = await principalOf(request);
      const { query } = parseRequest(request, { query: listCheckoutsQuery });
      if (principal.kind === 'operator') requireOperator(principal, 'finance', 'admin');
      const filter = principal.kind === 'merchant' ? { ...query, merchant_id: principal.merchant_id } : query;
      const page = await listCheckouts(pool, filter);
      response.json({
        data: page.slice(0, query.limit).map(checkoutView),
        has_more: page.length > query.limit,
      });
    },
  });

  route(router, '/v1/checkouts/:id', {
    get: async (request, response) => {
      const principal = await principalOf(request);
      const { path } = parseRequest(request, { path: checkoutPath });
      if (principal.kind === 'operator') requireOperator(principal, 'finance', 'admin');
      const checkout = await findCheckout(pool, path.id);
      if (
        checkout === undefined ||
        (principal.kind === 'merchant' && checkout.merchant_id !== principal.merchant_id)
      ) {
        throw new NotFound(`Checkout ${path.id}`);
      }
      response.json(checkoutView(checkout));
    },
  });

  route(router, '/v1/checkouts/:id/refunds', {
    post: async (request, response) => {
      const merchant = await asMerchant(request);
      const { path, body, headers } = parseRequest(request, {
        path: checkoutPath,
        body: refundBody,
        headers: idempotencyHeaders,
      });
      send(
        response,
        await refundCheckout(context, merchant.merchant_id, path.id, body, headers['idempotency-key']),
      );
    },
  });

  route(router, '/v1/checkouts/:id/void', {
    post: async (request, response) => {
      const merchant = await asMerchant(request);
      const { path, headers } = parseRequest(request, { path: checkoutPath, headers: idempotencyHeaders });
      send(response, await voidCheckout(context, merchant.merchant_id, path.id, headers['idempotency-key']));
    },
  });

  route(router, '/v1/budgets/:id/top_ups', {
    post: async (request, response) => {
      const principal = await principalOf(request);
      requireOperator(principal, 'admin');
      const { path, body, headers } = parseRequest(request, {
        path: budgetPath,
        body: topUpBody,
        headers: idempotencyHeaders,
      });
      send(
        response,
        await topUpBudget(context, actorOf(principal), path.id, body, headers['idempotency-key']),
      );
    },
  });

  route(router, '/v1/budgets/:id', {
    get: async (request, response) => {
      requireOperator(await principalOf(request), 'finance', 'admin');
      const { path } = parseRequest(request, { path: budgetPath });
      const budget = await findBudget(pool, path.id);
      const account = budget === undefined ? undefined : await findAccount(pool, budget.account_code);
      if (budget === undefined || account === undefined) throw new NotFound(`Budget ${path.id}`);
      response.json({
        id: budget.budget_id,
        name: budget.name,
        union_id: budget.union_id,
        currency: 'CNY',
        balance_minor: account.balance_minor,
        account_code: budget.account_code,
      });
    },
  });

  route(router, '/v1/ledger/accounts/:code', {
    get: async (request, response) => {
      requireOperator(await principalOf(request), 'finance');
      const { path, query } = parseRequest(request, { path: accountPath, query: accountQuery });
      const account = await findAccount(pool, path.code);
      if (account === undefined) throw new NotFound(`Account ${path.code}`);
      if (query.as_of === undefined) {
        response.json(account);
        return;
      }
      const then = await balanceAsOf(pool, path.code, query.as_of);
      const balance =
        account.normal_side === 'debit'
          ? then.debits_minor - then.credits_minor
          : then.credits_minor - then.debits_minor;
      response.json({ ...account, ...then, balance_minor: balance, as_of: query.as_of });
    },
  });

  route(router, '/v1/ledger/accounts/:code/entries', {
    get: async (request, response) => {
      requireOperator(await principalOf(request), 'finance');
      const { path, query } = parseRequest(request, { path: accountPath, query: entriesQuery });
      if ((await findAccount(pool, path.code)) === undefined) throw new NotFound(`Account ${path.code}`);
      const page = await accountEntries(pool, path.code, query);
      response.json({ data: page.slice(0, query.limit), has_more: page.length > query.limit });
    },
  });

  route(router, '/v1/ledger/trial_balance', {
    get: async (request, response) => {
      requireOperator(await principalOf(request), 'finance');
      const balance = await trialBalance(pool);
      response.json({
        ...balance,
        difference_minor: balance.debits_minor - balance.credits_minor,
        balanced: balance.debits_minor === balance.credits_minor,
      });
    },
  });
}
