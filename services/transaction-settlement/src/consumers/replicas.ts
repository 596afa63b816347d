/**
 * Replicas of merchants (libs/events' merchantReplicaConsumer, with its per-merchant sequence
 * guard), their API key hashes and union budgets, fed by events so that checkouts keep working
 * while merchant-onboarding or discount-rules is down.
 */
import { apiKeyCreated, apiKeyRevoked } from '@puhui/contracts';
import { budgetCreated } from '@puhui/discount';
import { EventConsumer, merchantReplicaConsumer, onEvent } from '@puhui/events';
import type { ServiceDependencies } from '@puhui/service';
import { accountCodes, budgetAccount, merchantAccounts } from '../domain/ledger';
import { ensureAccounts } from '../store/ledger';
import { insertBudget, upsertApiKey, upsertMerchant } from '../store/replicas';

export function replicaConsumers(dependencies: ServiceDependencies): EventConsumer[] {
  const { kafka, pool, logger, config } = dependencies;
  const common = { kafka, pool, logger, topicPrefix: config.KAFKA_TOPIC_PREFIX };
  const merchants = merchantReplicaConsumer({
    ...common,
    groupId: 'transaction-settlement.merchants',
    store: { upsertMerchant },
    afterSnapshot: (client, merchant) => ensureAccounts(client, merchantAccounts(merchant.merchant_id)),
    handlers: [
      onEvent(apiKeyCreated, (event, client) =>
        upsertApiKey(client, {
          key_hash: event.data.key_hash,
          key_id: event.data.key_id,
          merchant_id: event.data.merchant_id,
          prefix: event.data.prefix,
          works_until: event.data.expires_at,
          scopes: event.data.scopes,
        }),
      ),
      onEvent(apiKeyRevoked, (event, client) =>
        upsertApiKey(client, {
          key_hash: event.data.key_hash,
          key_id: event.data.key_id,
          merchant_id: event.data.merchant_id,
          prefix: event.data.prefix,
          works_until: event.data.effective_at,
        }),
      ),
    ],
  });
  const budgets = new EventConsumer({
    ...common,
    groupId: 'transaction-settlement.budgets',
    handlers: [
      onEvent(budgetCreated, async (event, client) => {
        const account = budgetAccount(event.data.budget_id, event.data.name);
        await ensureAccounts(client, [account]);
        await insertBudget(client, {
          budget_id: event.data.budget_id,
          name: event.data.name,
          union_id: event.data.union_id,
          account_code: accountCodes.budget(event.data.budget_id),
        });
      }),
    ],
  });
  return [merchants, budgets];
}
