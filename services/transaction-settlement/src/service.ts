import path from 'node:path';
import { TOPICS } from '@puhui/contracts';
import type { ServiceDefinition } from '@puhui/service';
import type { TransactionSettlementConfig } from './config';

export const SERVICE_NAME = 'transaction-settlement';

export function transactionSettlementService(
  config: TransactionSettlementConfig,
): ServiceDefinition<TransactionSettlementConfig> {
  return {
    name: SERVICE_NAME,
    config,
    migrationsDirectory: path.join(__dirname, '..', 'migrations'),
    publishes: [TOPICS.checkouts, TOPICS.settlements],
  };
}
