/**
 * transaction-settlement's HTTP API (DESIGN §11), one file per resource. Merchants (secret API
 * keys, checked against the replica) quote, capture, refund, void and read their own checkouts
 * and batches; finance reads across merchants, the ledger and reconciliation; admins fund budgets.
 */
import type { Router } from 'express';
import { authenticateCallers } from '@puhui/http';
import { APPROVAL_OPERATIONS, approvalRoutes, checkerOf } from '@puhui/dual-control';
import { requireOperator } from '@puhui/security';
import { operatorTokenVerifierFor } from '@puhui/service';
import type { ServiceDependencies } from '@puhui/service';
import type { TransactionSettlementConfig } from '../config';
import type { SettlementContext } from '../commands/context';
import { settlementAuth } from './auth';
import { BUDGET_OPERATIONS, budgetRoutes } from './budget-routes';
import { BUSINESS_DAY_OPERATIONS, businessDayRoutes } from './business-day-routes';
import { CHECKOUT_OPERATIONS, checkoutRoutes } from './checkout-routes';
import { LEDGER_OPERATIONS, ledgerRoutes } from './ledger-routes';
import { RECONCILIATION_OPERATIONS, reconciliationRoutes } from './reconciliation-routes';
import { REFUND_OPERATIONS, refundRoutes } from './refund-routes';
import type { SettlementRouting } from './route-support';
import { SAVINGS_OPERATIONS, savingsRoutes } from './savings-routes';
import { SETTLEMENT_BATCH_OPERATIONS, settlementBatchRoutes } from './settlement-batch-routes';
import { SETTLEMENT_RUN_OPERATIONS, settlementRunRoutes } from './settlement-run-routes';

/** In the order the OpenAPI document lists them. */
export const TRANSACTION_SETTLEMENT_OPERATIONS = [
  ...CHECKOUT_OPERATIONS,
  ...REFUND_OPERATIONS,
  ...SAVINGS_OPERATIONS,
  ...BUDGET_OPERATIONS,
  ...LEDGER_OPERATIONS,
  ...BUSINESS_DAY_OPERATIONS,
  ...SETTLEMENT_RUN_OPERATIONS,
  ...SETTLEMENT_BATCH_OPERATIONS,
  ...RECONCILIATION_OPERATIONS,
  ...APPROVAL_OPERATIONS,
];

export function transactionSettlementRoutes(
  router: Router,
  dependencies: ServiceDependencies<TransactionSettlementConfig>,
  context: SettlementContext,
): void {
  const { pool, config } = dependencies;
  const routing: SettlementRouting = {
    router,
    pool,
    config,
    context,
    auth: settlementAuth(pool, operatorTokenVerifierFor(config, 'transaction-settlement')),
  };
  // Who calls is known before any body is read (decision 0018); the handlers ask again for free.
  authenticateCallers(router, routing.auth.principalOf);
  for (const mount of [
    checkoutRoutes,
    refundRoutes,
    savingsRoutes,
    budgetRoutes,
    ledgerRoutes,
    settlementRunRoutes,
    settlementBatchRoutes,
    businessDayRoutes,
    reconciliationRoutes,
  ])
    mount(routing);
  // Top-ups (admin) and payouts (finance) wait here for a second person.
  approvalRoutes({
    router,
    pool,
    dualControl: context.approvals,
    checkerOf: async (request) => {
      const principal = await routing.auth.principalOf(request);
      requireOperator(principal, 'admin', 'finance');
      return checkerOf(principal);
    },
  });
}
