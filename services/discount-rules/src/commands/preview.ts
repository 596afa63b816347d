/**
 * Previews (`POST /v1/rules/preview`): the rules asked about — stored rules by id (their
 * pending draft if they have one, else their live version), rule bodies not yet stored, or
 * when neither is given the live ruleset — priced on one checkout or a list of past ones.
 */
import type { CheckoutResult, DiscountRule } from '@puhui/discount';
import { ValidationFailed } from '@puhui/errors';
import type { InvalidParam } from '@puhui/errors';
import type { Pool } from '@puhui/postgres';
import { previewBudgets, previewCheckout, previewTotals } from '../domain/preview';
import type { Budgets, PreviewCheckout, PreviewTotals } from '../domain/preview';
import { ruleOf, ruleProblems } from '../domain/rule';
import type { RuleFields } from '../domain/rule';
import { findRules, liveRules } from '../store/rules';

export interface PreviewRequest {
  rule_ids?: string[];
  rules?: RuleFields[];
  checkout?: PreviewCheckout;
  checkouts?: PreviewCheckout[];
  budgets?: Budgets;
}

export type PreviewAnswer =
  | (CheckoutResult & { rules: PreviewedRule[] })
  | { rules: PreviewedRule[]; results: CheckoutResult[]; totals: PreviewTotals };

interface PreviewedRule {
  rule_id: string;
  version: number;
  name: string;
}

async function storedRules(pool: Pool, ruleIds: readonly string[]): Promise<DiscountRule[]> {
  const records = new Map((await findRules(pool, ruleIds)).map((record) => [record.rule_id, record]));
  const problems: InvalidParam[] = [];
  const rules: DiscountRule[] = [];
  ruleIds.forEach((ruleId, index) => {
    const record = records.get(ruleId);
    const rule = record?.draft ?? record?.live;
    if (ruleIds.indexOf(ruleId) !== index)
      problems.push({ name: `rule_ids.${index}`, reason: 'is repeated' });
    else if (rule === undefined || rule === null)
      problems.push({ name: `rule_ids.${index}`, reason: 'is not a known rule' });
    else rules.push(rule);
  });
  if (problems.length > 0) throw new ValidationFailed(problems);
  return rules;
}

/** Unsaved rule bodies get ids `preview_1`, `preview_2`, … in the order given. */
function bodyRules(bodies: readonly RuleFields[]): DiscountRule[] {
  const rules = bodies.map((fields, index) => ruleOf(`preview_${index + 1}`, 1, fields));
  const problems = rules.flatMap((rule, index) =>
    ruleProblems(rule).map((problem) => ({ name: `rules.${index}.${problem.name}`, reason: problem.reason })),
  );
  if (problems.length > 0) throw new ValidationFailed(problems);
  return rules;
}

export async function previewRules(pool: Pool, request: PreviewRequest): Promise<PreviewAnswer> {
  const asked = request.rule_ids !== undefined || request.rules !== undefined;
  const rules = asked
    ? [
        ...(request.rule_ids === undefined ? [] : await storedRules(pool, request.rule_ids)),
        ...(request.rules === undefined ? [] : bodyRules(request.rules)),
      ]
    : await liveRules(pool);
  const budgets = previewBudgets(rules, request.budgets ?? {});
  const previewed = rules.map((rule) => ({ rule_id: rule.rule_id, version: rule.version, name: rule.name }));
  if (request.checkout !== undefined) {
    return { ...previewCheckout(rules, request.checkout, budgets), rules: previewed };
  }
  const results = (request.checkouts ?? []).map((checkout) => previewCheckout(rules, checkout, budgets));
  return { rules: previewed, results, totals: previewTotals(results) };
}
