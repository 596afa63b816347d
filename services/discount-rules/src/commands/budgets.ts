/** Budget definitions: created once, announced for settlement to open their ledger accounts. */
import { newId } from '@puhui/contracts';
import { budgetCreated } from '@puhui/discount';
import { appendEvent } from '@puhui/events';
import { withTransaction } from '@puhui/postgres';
import { appendAudit } from '../store/audit';
import { insertBudget } from '../store/budgets';
import type { Budget } from '../domain/budget';
import { EVENT_SOURCE } from './context';
import type { CommandContext } from './context';

export async function createBudget(
  context: CommandContext,
  input: { name: string; union_id: string; currency: 'CNY' },
): Promise<Budget> {
  const budget: Budget = {
    budget_id: newId('bud'),
    ...input,
    created_by: context.actor,
    created_at: new Date().toISOString(),
  };
  return withTransaction(context.pool, async (client) => {
    await insertBudget(client, budget);
    await appendAudit(client, {
      budget_id: budget.budget_id,
      action: 'budget_created',
      actor: context.actor,
      request_id: context.requestId,
      before: null,
      after: budget,
    });
    await appendEvent(client, EVENT_SOURCE, {
      definition: budgetCreated,
      subject: budget.budget_id,
      key: budget.budget_id,
      data: {
        budget_id: budget.budget_id,
        name: budget.name,
        union_id: budget.union_id,
        currency: budget.currency,
        created_at: budget.created_at,
      },
    });
    return budget;
  });
}
