/**
 * discount-rules' HTTP API (DESIGN §11), one file per resource: cards and their imports and
 * rate sheets, rules and previews, budgets, and the audit trail. Operators only (see access.ts).
 */
import type { Router } from 'express';
import { auditTrailRoutes } from '@puhui/http';
import type { ServiceDependencies } from '@puhui/service';
import type { DiscountRulesConfig } from '../config';
import type { RateSheets } from '../commands/rate-sheets';
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
  ...auditTrail.operations,
];

export function discountRulesRoutes(
  sheetsFor: (dependencies: ServiceDependencies<DiscountRulesConfig>) => RateSheets,
) {
  return (router: Router, dependencies: ServiceDependencies<DiscountRulesConfig>): void => {
    const sheets = sheetsFor(dependencies);
    const access = accessFor(dependencies, sheets);
    cardRoutes(router, dependencies, access, sheets);
    ruleRoutes(router, dependencies, access);
    budgetRoutes(router, dependencies, access);
    auditTrail.mount(router, access.asAdmin, (query) => listAudit(dependencies.pool, query));
  };
}
