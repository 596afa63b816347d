/**
 * The checks a rule must pass before it is stored or published, beyond its own shape: the
 * merchants it names must be known (from the merchants replica) and not terminated, and the
 * budget it draws on must exist. A merchant approved a moment ago may not have reached the
 * replica yet: while its id says so, the rule answers `not_yet_available` (retry), not a 400.
 */
import { NOT_YET_AVAILABLE_RETRY_AFTER_SECONDS, idCreatedAt, mayBeReplicating } from '@puhui/contracts';
import type { DiscountRule } from '@puhui/discount';
import { NotYetAvailable, ValidationFailed } from '@puhui/errors';
import type { InvalidParam } from '@puhui/errors';
import type { Queryable } from '@puhui/postgres';
import { publishProblems, ruleProblems } from '../domain/rule';
import { findBudget } from '../store/budgets';
import { merchantStatuses } from '../store/merchants';

const NOT_YET_REPLICATED = 'is not known here yet (approved a moment ago?); retry shortly';

async function referenceProblems(client: Queryable, rule: DiscountRule): Promise<InvalidParam[]> {
  const problems: InvalidParam[] = [];
  const merchantIds = rule.scope.merchant_ids ?? [];
  const statuses = merchantIds.length > 0 ? await merchantStatuses(client, merchantIds) : new Map();
  merchantIds.forEach((merchantId, index) => {
    const status = statuses.get(merchantId);
    if (status !== undefined && status !== 'terminated') return;
    const pending = status === undefined && mayBeReplicating(idCreatedAt(merchantId, 'mer'));
    problems.push({
      name: `scope.merchant_ids.${index}`,
      reason: pending ? NOT_YET_REPLICATED : 'is not a known, live merchant',
    });
  });
  if (rule.budget_id !== null && (await findBudget(client, rule.budget_id)) === undefined) {
    problems.push({ name: 'budget_id', reason: 'is not a known budget' });
  }
  return problems;
}

/**
 * A 400 naming every problem; but when the only ones are merchants that may still be on their
 * way to the replica, `not_yet_available`: the same request succeeds once they arrive.
 */
function refuse(problems: InvalidParam[], detail: string): void {
  if (problems.length === 0) return;
  if (problems.every((problem) => problem.reason === NOT_YET_REPLICATED)) {
    const named = problems.map((problem) => problem.name).join(', ');
    throw new NotYetAvailable(`The merchant of ${named}`, NOT_YET_AVAILABLE_RETRY_AFTER_SECONDS, problems);
  }
  throw new ValidationFailed(problems, detail);
}

/** Throws a 400 naming every problem of a rule about to be stored as a draft. */
export async function assertDraftValid(client: Queryable, rule: DiscountRule): Promise<void> {
  refuse([...ruleProblems(rule), ...(await referenceProblems(client, rule))], 'The rule has invalid fields.');
}

/** Throws a 400 naming every problem of a draft about to go live at `now`. */
export async function assertPublishable(client: Queryable, rule: DiscountRule, now: Date): Promise<void> {
  refuse(
    [...publishProblems(rule, now), ...(await referenceProblems(client, rule))],
    `Version ${rule.version} of the rule cannot be published.`,
  );
}
