/** Rules, their versions and previews. */
import type { Router } from 'express';
import { NotFound } from '@puhui/errors';
import { approvalRequestAcceptedSchema } from '@puhui/dual-control';
import { answered, defineOperation, documented, parseRequest, respond, route } from '@puhui/http';
import { mapPage } from '@puhui/postgres';
import type { ServiceDependencies } from '@puhui/service';
import type { DiscountRulesConfig } from '../config';
import { PreviewWorkers, previewRules } from '../commands/preview';
import { createRule, publishRule, retireRule, updateRule } from '../commands/rules';
import { ruleVersionView, ruleView } from '../views/rule';
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
import {
  previewSchema,
  publishedRuleSchema,
  ruleListSchema,
  ruleSchema,
  ruleWithVersionsSchema,
} from './responses';

const ruleResponse = { description: 'The rule.', schema: ruleSchema };

const createRuleOperation = defineOperation({
  method: 'post',
  path: '/v1/rules',
  operationId: 'createRule',
  summary: 'Create a rule (draft)',
  description:
    '`name`, `scope`, `benefit` and `schedule.valid_from` are required; lists left out mean "any", caps "none". Send `union_share_bps` or `merchant_share_bps` (they make 10000).',
  tags: ['rules'],
  callers: ['admin'],
  request: { body: ruleFieldsBody },
  responses: { 201: { description: 'The new draft.', schema: ruleSchema } },
});

const listRulesOperation = defineOperation({
  method: 'get',
  path: '/v1/rules',
  operationId: 'listRules',
  summary: 'List rules',
  tags: ['rules'],
  callers: ['admin', 'finance'],
  request: { query: listRulesQuery },
  responses: { 200: { description: 'A page of rules.', schema: ruleListSchema } },
});

const previewRulesOperation = defineOperation({
  method: 'post',
  path: '/v1/rules/preview',
  operationId: 'previewRules',
  summary: 'Price checkouts with rules, storing nothing',
  description:
    'Stored rules by id (their pending draft if any), unsaved rule bodies, or by default the live ruleset; on one checkout or up to 10,000. Budgets are unlimited unless stated. By default one preview prices at most 50,000 lines in all (400 past it) and lists at most 250,000 applied rules over its lines (422 `preview_too_large`); while every preview worker is busy and the queue is full, 429 `previews_busy` with Retry-After.',
  tags: ['rules'],
  callers: ['admin', 'finance'],
  request: { body: previewBody },
  responses: { 200: { description: 'What the rules would give.', schema: previewSchema } },
  problems: [422, 429],
});

const getRule = defineOperation({
  method: 'get',
  path: '/v1/rules/:id',
  operationId: 'getRule',
  summary: 'Get a rule with its published versions',
  tags: ['rules'],
  callers: ['admin', 'finance'],
  request: { path: rulePath },
  responses: { 200: { description: 'The rule and every version.', schema: ruleWithVersionsSchema } },
});

const updateRuleOperation = defineOperation({
  method: 'patch',
  path: '/v1/rules/:id',
  operationId: 'updateRule',
  summary: 'Edit a rule',
  description:
    'A draft changes in place; a published rule gets a pending draft of its next version, live only once published.',
  tags: ['rules'],
  callers: ['admin'],
  request: { path: rulePath, body: ruleChangesBody },
  responses: { 200: ruleResponse },
  problems: [409],
});

const publishRuleOperation = defineOperation({
  method: 'post',
  path: '/v1/rules/:id/publish',
  operationId: 'publishRule',
  summary: 'Publish the draft, now or at `effective_at`',
  description:
    'Freezes the draft as an immutable version and switches every card’s rate sheet. A draft the union funds part of (`union_share_bps` above 0) is not published by one admin: the answer is 202 with the approval request, and the draft is published (now, or at `effective_at` if that is still ahead) when a second admin approves it (`POST /v1/approval_requests/{id}/approve`; the requester is refused, 403 `self_approval_refused`). Meanwhile the rule shows `pending_approval`, and another publish or an edit answers 409 `approval_pending`.',
  tags: ['rules'],
  callers: ['admin'],
  request: { path: rulePath, body: publishBody },
  responses: {
    200: { description: 'The rule, with the ruleset version it made live.', schema: publishedRuleSchema },
    202: {
      description: 'The union-funded draft waits for a second admin: the approval request.',
      schema: approvalRequestAcceptedSchema,
    },
  },
  problems: [409],
});

const retireRuleOperation = defineOperation({
  method: 'post',
  path: '/v1/rules/:id/retire',
  operationId: 'retireRule',
  summary: 'Retire a rule for good',
  tags: ['rules'],
  callers: ['admin'],
  request: { path: rulePath },
  responses: { 200: ruleResponse },
  problems: [409],
});

export const RULE_OPERATIONS = [
  createRuleOperation,
  listRulesOperation,
  previewRulesOperation,
  getRule,
  updateRuleOperation,
  publishRuleOperation,
  retireRuleOperation,
];

export function ruleRoutes(
  router: Router,
  dependencies: ServiceDependencies<DiscountRulesConfig>,
  access: Access,
): void {
  const { pool } = dependencies;

  route(router, '/v1/rules', {
    post: answered(createRuleOperation, 201, access.asAdmin, (context, { body }) =>
      createRule(context, body),
    ),
    get: answered(listRulesOperation, 200, access.asReader, async (_reader, { query }) =>
      mapPage(await listRules(pool, query), ruleView),
    ),
  });

  // The worker checks the body and writes the answer's JSON (commands/preview.ts): not `answered`.
  const previews = new PreviewWorkers(dependencies.config, dependencies.logger);
  dependencies.closeOnShutdown({ name: 'preview workers', close: () => previews.close() });
  // Before /v1/rules/:id, whose 405 would otherwise answer a POST to "preview".
  route(
    router,
    '/v1/rules/preview',
    {
      post: documented(previewRulesOperation, async (request, response) => {
        await access.asReader(request, response);
        const json = await previewRules(pool, previews, request.body);
        response.status(200).type('application/json').send(json);
      }),
    },
    // 10,000 checkouts are about 2.5 MB: this route alone takes more than the platform's 100 KiB.
    { bodyLimitBytes: dependencies.config.PREVIEW_BODY_LIMIT_BYTES },
  );

  route(router, '/v1/rules/:id', {
    get: answered(getRule, 200, access.asReader, async (_reader, { path }) => {
      const record = await findRule(pool, path.id);
      if (record === undefined) throw new NotFound(`Rule ${path.id}`);
      const versions = await listRuleVersions(pool, path.id);
      return { ...ruleView(record), versions: versions.map(ruleVersionView) };
    }),
    patch: answered(updateRuleOperation, 200, access.asAdmin, (context, { path, body }) =>
      updateRule(context, path.id, body),
    ),
  });

  route(router, '/v1/rules/:id/publish', {
    post: documented(publishRuleOperation, async (request, response) => {
      const context = await access.asAdmin(request, response);
      const { path, body } = parseRequest(request, publishRuleOperation.request);
      const answer = await publishRule(context, path.id, body);
      if (answer.status === 202) {
        respond(response, publishRuleOperation, 202, { approval_request: answer.approval_request });
      } else {
        respond(response, publishRuleOperation, 200, answer.rule);
      }
    }),
  });

  route(router, '/v1/rules/:id/retire', {
    post: answered(retireRuleOperation, 200, access.asAdmin, (context, { path }) =>
      retireRule(context, path.id),
    ),
  });
}
