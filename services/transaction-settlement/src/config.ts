import { z } from 'zod';
import { loadConfig, platformEnvironment, port } from '@puhui/config';

export const transactionSettlementEnvironment = platformEnvironment.extend({
  PORT: port.default(4103),
  DATABASE_NAME: z.string().default('puhui_transaction_settlement'),
});
export type TransactionSettlementConfig = z.infer<typeof transactionSettlementEnvironment>;

export function loadTransactionSettlementConfig(
  environment: Record<string, string | undefined> = process.env,
): TransactionSettlementConfig {
  return loadConfig(transactionSettlementEnvironment, environment);
}
