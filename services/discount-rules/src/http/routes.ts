/**
 * discount-rules' HTTP API (DESIGN §11), one file per resource: cards and their imports and
 * rate sheets, rules and previews, budgets, and the audit trail. Operators only (see access.ts).
 */
import type { Router } from 'express';
import type { ServiceDependencies } from '@puhui/service';
import type { DiscountRulesConfig } from '../config';
import type { RateSheets } from '../commands/rate-sheets';
import { accessFor } from './access';
import { AUDIT_OPERATIONS, auditRoutes } from './audit-routes';
import { BUDGET_OPERATIONS, budgetRoutes } from './budget-routes';
import { CARD_OPERATIONS, cardRoutes } from './card-routes';
import { RULE_OPERATIONS, ruleRoutes } from './rule-routes';

export const DISCOUNT_RULES_OPERATIONS = [
  ...CARD_OPERATIONS,
  ...RULE_OPERATIONS,
  ...BUDGET_OPERATIONS,
  ...AUDIT_OPERATIONS,
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
    auditRoutes(router, dependencies, access);
  };
}
