/** The ledger as finance reads it: an account (now or as of a time), its entries, the trial balance. */
import { NotFound } from '@puhui/errors';
import { answered, defineOperation, route } from '@puhui/http';
import { accountEntries, balanceAsOf, findAccount, trialBalance } from '../store/ledger';
import { ledgerAccountView, trialBalanceView } from '../views/ledger';
import { ledgerAccountSchema, ledgerEntryListSchema, trialBalanceSchema } from './responses';
import { operatorWith } from './route-support';
import type { SettlementRouting } from './route-support';
import { accountPath, accountQuery, entriesQuery } from './schemas';

const getLedgerAccount = defineOperation({
  method: 'get',
  path: '/v1/ledger/accounts/:code',
  operationId: 'getLedgerAccount',
  summary: 'A ledger account’s balance, now or `as_of` a point in time',
  tags: ['ledger'],
  callers: ['finance'],
  request: { path: accountPath, query: accountQuery },
  responses: { 200: { description: 'The account.', schema: ledgerAccountSchema } },
});

const listLedgerEntries = defineOperation({
  method: 'get',
  path: '/v1/ledger/accounts/:code/entries',
  operationId: 'listLedgerEntries',
  summary: 'An account’s entries',
  tags: ['ledger'],
  callers: ['finance'],
  request: { path: accountPath, query: entriesQuery },
  responses: { 200: { description: 'A page of entries, oldest first.', schema: ledgerEntryListSchema } },
});

const getTrialBalance = defineOperation({
  method: 'get',
  path: '/v1/ledger/trial_balance',
  operationId: 'getTrialBalance',
  summary: 'Every account; debits equal credits',
  tags: ['ledger'],
  callers: ['finance'],
  responses: { 200: { description: 'The trial balance.', schema: trialBalanceSchema } },
});

export const LEDGER_OPERATIONS = [getLedgerAccount, listLedgerEntries, getTrialBalance];

export function ledgerRoutes({ router, pool, auth }: SettlementRouting): void {
  const asFinance = operatorWith(auth, 'finance');

  route(router, '/v1/ledger/accounts/:code', {
    get: answered(getLedgerAccount, 200, asFinance, async (_finance, { path, query }) => {
      const account = await findAccount(pool, path.code);
      if (account === undefined) throw new NotFound(`Account ${path.code}`);
      const asOf =
        query.as_of === undefined
          ? undefined
          : { as_of: query.as_of, ...(await balanceAsOf(pool, path.code, query.as_of)) };
      return ledgerAccountView(account, asOf);
    }),
  });

  route(router, '/v1/ledger/accounts/:code/entries', {
    get: answered(listLedgerEntries, 200, asFinance, async (_finance, { path, query }) => {
      if ((await findAccount(pool, path.code)) === undefined) throw new NotFound(`Account ${path.code}`);
      return accountEntries(pool, path.code, query);
    }),
  });

  route(router, '/v1/ledger/trial_balance', {
    get: answered(getTrialBalance, 200, asFinance, async () => trialBalanceView(await trialBalance(pool))),
  });
}
