/** discount-rules' API as documented: served as /openapi.json and written by `npm run docs`. */
import path from 'node:path';
import { apiTitleAndVersion } from '@puhui/http';
import type { ServiceApi } from '@puhui/service';
import { DISCOUNT_RULES_OPERATIONS } from './routes';

export const discountRulesApi: ServiceApi = {
  ...apiTitleAndVersion('discount-rules', path.join(__dirname, '..', '..')),
  description:
    'Member cards (number in; token and last 4 out), streamed CSV card imports, versioned discount rules with preview, union budgets and each card’s rate sheet (DESIGN §4, §7, §11). Operators only: `admin` changes, `finance` reads. Errors are `application/problem+json` with a stable `code`.',
  tags: [
    { name: 'cards', description: 'Member cards and their rate sheets.' },
    { name: 'card imports', description: 'Bulk registration from CSV files.' },
    {
      name: 'rules',
      description: 'Discount rules: draft → published (immutable versions) → retired; previews.',
    },
    { name: 'budgets', description: 'Union budgets that fund subsidies.' },
    {
      name: 'approvals',
      description: 'Maker–checker: publishing a rule the union funds part of needs a second admin.',
    },
    { name: 'audit', description: 'The append-only audit trail.' },
  ],
  operations: DISCOUNT_RULES_OPERATIONS,
};
