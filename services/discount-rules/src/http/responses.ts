/**
 * What the API answers, as zod schemas: the OpenAPI document is generated from them, the
 * handlers' answers are typed by them, and the tests check every real answer against them.
 */
import { z } from 'zod';
import { pageSchema } from '@puhui/http';
import {
  cardFacts,
  discountRuleSchema,
  rateSheetSchema,
  resultLineSchema,
  resultTotalsShape,
  ruleFundingShape,
  ruleOutcomeSchema,
} from '@puhui/discount';
import { RULE_STATUSES } from '../domain/rule';

const timestamp = z.iso.datetime({ offset: true });
const fen = z.int().min(0);

export const cardSchema = cardFacts
  .extend({ created_at: timestamp, updated_at: timestamp })
  .meta({ id: 'Card', description: 'A member card: token and last 4 only, never its number.' });

export const cardImportSchema = z
  .strictObject({
    import_id: z.string(),
    status: z.enum(['running', 'succeeded', 'failed']),
    rows_total: fen,
    inserted: fen,
    unchanged: fen,
    rejected: fen,
    errors: z.array(
      z.strictObject({
        line: z.int().min(1),
        field: z.enum(['card_number', 'member_id', 'union_id', 'tier']).nullable(),
        reason: z.string(),
      }),
    ),
    errors_truncated: z.boolean().meta({ description: 'More rows were rejected than `errors` lists.' }),
    failure_reason: z.string().nullable(),
    started_by: z.string(),
    started_at: timestamp,
    updated_at: timestamp,
    finished_at: timestamp.nullable(),
  })
  .meta({ id: 'CardImport' });

const shownRule = discountRuleSchema.extend({
  merchant_share_bps: z.int().min(0).max(10_000),
  benefit_description: z.string().meta({ description: 'For people, e.g. "7.8折 · 22% off".' }),
});

export const ruleSchema = shownRule
  .extend({
    status: z.enum(RULE_STATUSES),
    pending_draft: shownRule
      .nullable()
      .meta({ description: 'The next version being edited, while the live one applies.' }),
    scheduled_publish_at: timestamp.nullable(),
    pending_approval: z
      .strictObject({
        approval_request_id: z.uuid(),
        action: z.literal('rule_publish'),
        requested_by: z
          .string()
          .meta({ description: 'The requester’s account id; someone else must approve.' }),
        requested_at: timestamp,
      })
      .nullable()
      .meta({
        description:
          'A publish of the (union-funded) draft waiting for a second admin (`POST /v1/approval_requests/{id}/approve`); nothing is live from it until then.',
      }),
    created_at: timestamp,
    updated_at: timestamp,
    published_at: timestamp.nullable(),
    retired_at: timestamp.nullable(),
  })
  .meta({ id: 'Rule', description: 'The live version (or the draft of a never-published rule).' });

export const publishedRuleSchema = ruleSchema
  .extend({
    ruleset_version: z.int().min(1).nullable().meta({
      description:
        'The ruleset version this publish made live (rate sheets and checkouts carry it as `ruleset_version`); null for a publish scheduled at `effective_at`, which gets its own when it goes live.',
    }),
  })
  .meta({ id: 'PublishedRule' });

export const ruleVersionSchema = z
  .strictObject({
    version: z.int().min(1),
    ruleset_version: z.int().min(1),
    published_at: timestamp,
    published_by: z.string(),
    rule: discountRuleSchema,
  })
  .meta({ id: 'RuleVersion', description: 'An immutable published version.' });

export const ruleWithVersionsSchema = ruleSchema
  .extend({ versions: z.array(ruleVersionSchema) })
  .meta({ id: 'RuleWithVersions' });

const checkoutResultShape = {
  ...resultTotalsShape,
  lines: z.array(resultLineSchema),
  rule_grants: z.array(
    z.strictObject({ ...ruleFundingShape, budget_id: z.string().nullable(), budget_shortfall_minor: fen }),
  ),
};
const previewResultShape = { ...checkoutResultShape, rule_outcomes: z.array(ruleOutcomeSchema) };
const previewedRules = z.array(z.strictObject({ rule_id: z.string(), version: z.int(), name: z.string() }));

export const previewSchema = z
  .union([
    z.strictObject({ ...previewResultShape, rules: previewedRules }),
    z.strictObject({
      rules: previewedRules,
      results: z.array(z.strictObject(previewResultShape)),
      totals: z.strictObject({
        checkouts: z.int(),
        gross_minor: fen,
        discount_minor: fen,
        union_funded_minor: fen,
        merchant_funded_minor: fen,
        net_minor: fen,
      }),
    }),
  ])
  .meta({
    id: 'Preview',
    description: 'One checkout priced (`checkout`), or each of a list with totals (`checkouts`).',
  });

export const budgetSchema = z
  .strictObject({
    budget_id: z.string(),
    name: z.string(),
    union_id: z.string(),
    currency: z.literal('CNY'),
    created_by: z.string(),
    created_at: timestamp,
  })
  .meta({
    id: 'Budget',
    description: 'A union budget’s definition; its balance is in transaction-settlement.',
  });

export const auditEventSchema = z
  .strictObject({
    audit_id: z.string(),
    rule_id: z.string().nullable(),
    card_token: z.string().nullable(),
    budget_id: z.string().nullable(),
    import_id: z.string().nullable(),
    action: z.string(),
    actor: z.string(),
    request_id: z.string().nullable(),
    before: z.unknown(),
    after: z.unknown(),
    occurred_at: timestamp,
  })
  .meta({ id: 'AuditEvent' });

export const rateSheetResponseSchema = rateSheetSchema.meta({
  id: 'RateSheet',
  description: 'The published rules that can apply to the card, as stored in Redis.',
});

export const cardImportListSchema = pageSchema(cardImportSchema, 'CardImportList');
export const cardListSchema = pageSchema(cardSchema, 'CardList');
export const ruleListSchema = pageSchema(ruleSchema, 'RuleList');
export const budgetListSchema = pageSchema(budgetSchema, 'BudgetList');
export const auditEventListSchema = pageSchema(auditEventSchema, 'AuditEventList');
