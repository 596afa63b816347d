/**
 * discount-rules' HTTP API (DESIGN §11): cards and their imports and rate sheets, rules and
 * previews, budgets, and the audit trail. Operators only (see access.ts).
 */
import type { Router } from 'express';
import { NotFound } from '@puhui/errors';
import { parseRequest, route } from '@puhui/http';
import type { ServiceDependencies } from '@puhui/service';
import type { DiscountRulesConfig } from '../config';
import { createBudget } from '../commands/budgets';
import type { RateSheets } from '../commands/rate-sheets';
import { listAudit } from '../store/audit';
import { findBudget, listBudgets } from '../store/budgets';
import { accessFor } from './access';
import type { Access } from './access';
import { cardRoutes } from './card-routes';
import { ruleRoutes } from './rule-routes';
import { auditQuery, budgetPath, createBudgetBody, listBudgetsQuery } from './schemas';

function budgetRoutes(router: Router, dependencies: ServiceDependencies, access: Access): void {
  const { pool } = dependencies;
  route(router, '/v1/budgets', {
    post: async (request, response) => {
      const context = await access.asAdmin(request, response);
      const { body } = parseRequest(request, { body: createBudgetBody });
      response.status(201).json(await createBudget(context, body));
    },
    get: async (request, response) => {
      await access.asReader(request, response);
      const { query } = parseRequest(request, { query: listBudgetsQuery });
      const page = await listBudgets(pool, query);
      response.json({ data: page.slice(0, query.limit), has_more: page.length > query.limit });
    },
  });
  route(router, '/v1/budgets/:id', {
    get: async (request, response) => {
      await access.asReader(request, response);
      const { path } = parseRequest(request, { path: budgetPath });
      const budget = await findBudget(pool, path.id);
      if (budget === undefined) throw new NotFound(`Budget ${path.id}`);
      response.json(budget);
    },
  });
}

function auditRoutes(router: Router, dependencies: ServiceDependencies, access: Access): void {
  route(router, '/v1/audit_events', {
    get: async (request, response) => {
      await access.asAdmin(request, response);
      const { query } = parseRequest(request, { query: auditQuery });
      const page = await listAudit(dependencies.pool, query);
      response.json({ data: page.slice(0, query.limit), has_more: page.length > query.limit });
    },
  });
}

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
