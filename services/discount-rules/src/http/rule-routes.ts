/** Rules, their versions and previews. */
import type { Router } from 'express';
import { NotFound } from '@puhui/errors';
import { parseRequest, route } from '@puhui/http';
import type { ServiceDependencies } from '@puhui/service';
import type { DiscountRulesConfig } from '../config';
import { previewRules } from '../commands/preview';
import { createRule, publishRule, retireRule, updateRule } from '../commands/rules';
import { viewOfRule, viewOfVersion } from '../domain/rule';
import { listRuleVersions } from '../store/rule-versions';
import { findRule, listRules } from '../store/rules';
import type { Access } from './access';
import {
  listRulesQuery,
  previewBody,
  publishBody,
  ruleChangesBody,
  ruleFieldsBody,
  rulePath,
} from './schemas';

export function ruleRoutes(
  router: Router,
  dependencies: ServiceDependencies<DiscountRulesConfig>,
  access: Access,
): void {
  const { pool } = dependencies;

  route(router, '/v1/rules', {
    post: async (request, response) => {
      const context = await access.asAdmin(request, response);
      const { body } = parseRequest(request, { body: ruleFieldsBody });
      response.status(201).json(await createRule(context, body));
    },
    get: async (request, response) => {
      await access.asReader(request, response);
      const { query } = parseRequest(request, { query: listRulesQuery });
      const page = await listRules(pool, query);
      response.json({
        data: page.slice(0, query.limit).map(viewOfRule),
        has_more: page.length > query.limit,
      });
    },
  });

  // Before /v1/rules/:id, whose 405 would otherwise answer a POST to "preview".
  route(router, '/v1/rules/preview', {
    post: async (request, response) => {
      await access.asReader(request, response);
      const { body } = parseRequest(request, { body: previewBody });
      response.json(await previewRules(pool, body));
    },
  });

  route(router, '/v1/rules/:id', {
    get: async (request, response) => {
      await access.asReader(request, response);
      const { path } = parseRequest(request, { path: rulePath });
      const record = await findRule(pool, path.id);
      if (record === undefined) throw new NotFound(`Rule ${path.id}`);
      const versions = await listRuleVersions(pool, path.id);
      response.json({ ...viewOfRule(record), versions: versions.map(viewOfVersion) });
    },
    patch: async (request, response) => {
      const context = await access.asAdmin(request, response);
      const { path, body } = parseRequest(request, { path: rulePath, body: ruleChangesBody });
      response.json(await updateRule(context, path.id, body));
    },
  });

  route(router, '/v1/rules/:id/publish', {
    post: async (request, response) => {
      const context = await access.asAdmin(request, response);
      const { path, body } = parseRequest(request, { path: rulePath, body: publishBody });
      response.json(await publishRule(context, path.id, body));
    },
  });

  route(router, '/v1/rules/:id/retire', {
    post: async (request, response) => {
      const context = await access.asAdmin(request, response);
      const { path } = parseRequest(request, { path: rulePath });
      response.json(await retireRule(context, path.id));
    },
  });
}
