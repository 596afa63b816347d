/**
 * transaction-settlement's HTTP API (DESIGN §11), one file per resource. Merchants (secret API
 * keys, checked against the replica) quote, capture, refund, void and read their own checkouts
 * and batches; finance reads across merchants, the ledger and reconciliation; admins fund budgets.
 */
import type { Router } from 'express';
import type { ServiceDependencies } from '@puhui/service';
import type { TransactionSettlementConfig } from '../config';
import type { SettlementContext } from '../commands/context';
import { BUDGET_OPERATIONS, budgetRoutes } from './budget-routes';
import { BUSINESS_DAY_OPERATIONS, businessDayRoutes } from './business-day-routes';
import { CHECKOUT_OPERATIONS, checkoutRoutes } from './checkout-routes';
import { LEDGER_OPERATIONS, ledgerRoutes } from './ledger-routes';
import { RECONCILIATION_OPERATIONS, reconciliationRoutes } from './reconciliation-routes';
import { REFUND_OPERATIONS, refundRoutes } from './refund-routes';
import { SETTLEMENT_BATCH_OPERATIONS, settlementBatchRoutes } from './settlement-batch-routes';
import { SETTLEMENT_RUN_OPERATIONS, settlementRunRoutes } from './settlement-run-routes';

/** In the order the OpenAPI document lists them. */
export const TRANSACTION_SETTLEMENT_OPERATIONS = [
  ...CHECKOUT_OPERATIONS,
  ...REFUND_OPERATIONS,
  ...BUDGET_OPERATIONS,
  ...LEDGER_OPERATIONS,
  ...BUSINESS_DAY_OPERATIONS,
  ...SETTLEMENT_RUN_OPERATIONS,
  ...SETTLEMENT_BATCH_OPERATIONS,
  ...RECONCILIATION_OPERATIONS,
];

export function transactionSettlementRoutes(
  router: Router,
  dependencies: ServiceDependencies<TransactionSettlementConfig>,
  context: SettlementContext,
): void {
  checkoutRoutes(router, dependencies, context);
  refundRoutes(router, dependencies, context);
  budgetRoutes(router, dependencies, context);
  ledgerRoutes(router, dependencies);
  settlementRunRoutes(router, dependencies, context);
  settlementBatchRoutes(router, dependencies, context);
  businessDayRoutes(router, dependencies, context);
  reconciliationRoutes(router, dependencies, context);
}
