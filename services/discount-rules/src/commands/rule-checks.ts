/**
 * The checks a rule must pass before it is stored or published, beyond its own shape: the
 * merchants it names must be known (from the merchants replica) and not terminated, and the
 * budget it draws on must exist.
 */
import type { DiscountRule } from '@puhui/discount';
import { ValidationFailed } from '@puhui/errors';
import type { InvalidParam } from '@puhui/errors';
import type { Queryable } from '@puhui/postgres';
import { publishProblems, ruleProblems } from '../domain/rule';
import { findBudget } from '../store/budgets';
import { usableMerchantIds } from '../store/merchants';

async function referenceProblems(client: Queryable, rule: DiscountRule): Promise<InvalidParam[]> {
  const problems: InvalidParam[] = [];
  const merchantIds = rule.scope.merchant_ids ?? [];
  if (merchantIds.length > 0) {
    const usable = await usableMerchantIds(client, merchantIds);
    merchantIds.forEach((merchantId, index) => {
      if (!usable.has(merchantId)) {
        problems.push({ name: `scope.merchant_ids.${index}`, reason: 'is not a known, live merchant' });
      }
    });
  }
  if (rule.budget_id !== null && (await findBudget(client, rule.budget_id)) === undefined) {
    problems.push({ name: 'budget_id', reason: 'is not a known budget' });
  }
  return problems;
}

/** Throws a 400 naming every problem of a rule about to be stored as a draft. */
export async function assertDraftValid(client: Queryable, rule: DiscountRule): Promise<void> {
  const problems = [...ruleProblems(rule), ...(await referenceProblems(client, rule))];
  if (problems.length > 0) throw new ValidationFailed(problems, 'The rule has invalid fields.');
}

/** Throws a 400 naming every problem of a draft about to go live at `now`. */
export async function assertPublishable(client: Queryable, rule: DiscountRule, now: Date): Promise<void> {
  const problems = [...publishProblems(rule, now), ...(await referenceProblems(client, rule))];
  if (problems.length > 0) {
    throw new ValidationFailed(problems, `Version ${rule.version} of the rule cannot be published.`);
  }
}
