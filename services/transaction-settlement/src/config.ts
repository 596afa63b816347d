import type { z } from 'zod';
import { loadConfig } from '@puhui/config';
import { serviceEnvironment } from '@puhui/service';

export const transactionSettlementEnvironment = serviceEnvironment({
  port: 4103,
  databaseName: 'puhui_transaction_settlement',
});
export type TransactionSettlementConfig = z.infer<typeof transactionSettlementEnvironment>;

export function loadTransactionSettlementConfig(
  environment: Record<string, string | undefined> = process.env,
): TransactionSettlementConfig {
  return loadConfig(transactionSettlementEnvironment, environment);
}
