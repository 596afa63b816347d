import { startService } from '@puhui/service';
import { loadTransactionSettlementConfig } from './config';
import { transactionSettlementService } from './service';

startService(transactionSettlementService(loadTransactionSettlementConfig()), { handleSignals: true }).catch(
  (error: unknown) => {
    process.stderr.write(
      `transaction-settlement failed to start: ${String((error as Error).stack ?? error)}\n`,
    );
    process.exit(1);
  },
);
