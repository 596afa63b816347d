/** transaction-settlement's API as documented: served as /openapi.json and written by `npm run docs`. */
import path from 'node:path';
import { apiTitleAndVersion } from '@puhui/http';
import type { ServiceApi } from '@puhui/service';
import { TRANSACTION_SETTLEMENT_OPERATIONS } from './routes';

export const transactionSettlementApi: ServiceApi = {
  ...apiTitleAndVersion('transaction-settlement', path.join(__dirname, '..', '..')),
  description:
    'Checkouts on an append-only double-entry ledger, refunds and voids, union budgets’ balances, daily settlement with merchants and reconciliation of the acquirer’s statements (DESIGN §5, §6, §11). Merchants call with their secret key and see only their own data; finance and admin with operator tokens. Money is integer fen with `currency`; every POST that moves money takes an `Idempotency-Key`. Errors are `application/problem+json` with a stable `code`.',
  tags: [
    { name: 'checkouts', description: 'Quote, capture, refund and void discounted sales.' },
    { name: 'budgets', description: 'Union budgets’ balances and top-ups.' },
    { name: 'ledger', description: 'Accounts, entries and the trial balance.' },
    {
      name: 'settlement',
      description: 'Business days, settlement runs, batches, payment files and statements.',
    },
    { name: 'reconciliation', description: 'Acquirer statements matched against the ledger.' },
    {
      name: 'approvals',
      description: 'Maker–checker: top-ups and payouts waiting for a second person, and their decisions.',
    },
  ],
  operations: TRANSACTION_SETTLEMENT_OPERATIONS,
};
