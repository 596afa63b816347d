/**
 * discount-rules' HTTP API (DESIGN §11), one file per resource: cards and their imports and
 * rate sheets, rules and previews, budgets, and the audit trail. Operators only (see access.ts).
 */
import type { Router } from 'express';
import { APPROVAL_OPERATIONS, approvalRoutes } from '@puhui/dual-control';
import { auditTrailRoutes, authenticateCallers } from '@puhui/http';
import type { ServiceDependencies } from '@puhui/service';
import type { DiscountRulesConfig } from '../config';
import type { RateSheets } from '../commands/rate-sheets';
import { announcingApprovals, ruleDualControl } from '../commands/approvals';
import { listAudit } from '../store/audit';
import { accessFor } from './access';
import { BUDGET_OPERATIONS, budgetRoutes } from './budget-routes';
import { CARD_OPERATIONS, cardRoutes } from './card-routes';
import { auditEventListSchema } from './responses';
import { RULE_OPERATIONS, ruleRoutes } from './rule-routes';
import { auditQuery } from './schemas';

/** The append-only audit trail: who changed which rule, card or budget, when, before and after. */
const auditTrail = auditTrailRoutes(
  auditQuery,
  auditEventListSchema,
  'Who changed which rule, card or budget, when, before and after',
);

export const DISCOUNT_RULES_OPERATIONS = [
  ...CARD_OPERATIONS,
  ...RULE_OPERATIONS,
  ...BUDGET_OPERATIONS,
  ...APPROVAL_OPERATIONS,
  ...auditTrail.operations,
];

export function discountRulesRoutes(
  sheetsFor: (dependencies: ServiceDependencies<DiscountRulesConfig>) => RateSheets,
) {
  return (router: Router, dependencies: ServiceDependencies<DiscountRulesConfig>): void => {
    const sheets = sheetsFor(dependencies);
    const dualControl = ruleDualControl();
    const access = accessFor(dependencies, sheets, dualControl);
    authenticateCallers(router, access.caller);
    cardRoutes(router, dependencies, access, sheets);
    ruleRoutes(router, dependencies, access);
    budgetRoutes(router, dependencies, access);
    approvalRoutes({
      router,
      pool: dependencies.pool,
      dualControl: announcingApprovals(dualControl, sheets),
      checkerOf: access.asChecker,
    });
    auditTrail.mount(router, access.asAdmin, (query) => listAudit(dependencies.pool, query));
  };
}
