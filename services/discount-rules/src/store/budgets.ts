/** Budget definitions. One SQL statement per function. */
import { pageOf, pageRowsLimit } from '@puhui/postgres';
import type { Page, PageRequest, Queryable } from '@puhui/postgres';
import type { Budget } from '../domain/budget';

type BudgetRow = Omit<Budget, 'created_at'> & { created_at: Date };

const COLUMNS = 'budget_id, name, union_id, currency, created_by, created_at';
const toBudget = (row: BudgetRow): Budget => ({ ...row, created_at: row.created_at.toISOString() });

export async function insertBudget(client: Queryable, budget: Budget): Promise<void> {
  await client.query(`INSERT INTO budgets (${COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6)`, [
    budget.budget_id,
    budget.name,
    budget.union_id,
    budget.currency,
    budget.created_by,
    budget.created_at,
  ]);
}

export async function findBudget(client: Queryable, budgetId: string): Promise<Budget | undefined> {
  const { rows } = await client.query<BudgetRow>(`SELECT ${COLUMNS} FROM budgets WHERE budget_id = $1`, [
    budgetId,
  ]);
  return rows[0] === undefined ? undefined : toBudget(rows[0]);
}

export async function listBudgets(
  client: Queryable,
  filter: PageRequest & { union_id?: string },
): Promise<Page<Budget>> {
  const { rows } = await client.query<BudgetRow>(
    `SELECT ${COLUMNS} FROM budgets
     WHERE ($1::text IS NULL OR union_id = $1) AND ($2::text IS NULL OR budget_id > $2)
     ORDER BY budget_id LIMIT $3`,
    [filter.union_id ?? null, filter.starting_after ?? null, pageRowsLimit(filter)],
  );
  return pageOf(rows.map(toBudget), filter);
}
