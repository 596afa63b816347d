import { startService } from '@puhui/service';
import { expectServiceBootsAndStops } from '@puhui/testing';
import { loadTransactionSettlementConfig } from '../src/config';
import { transactionSettlementService } from '../src/service';

it('boots on the real Postgres, Redis and Kafka, reports ready, and shuts down', async () => {
  await expectServiceBootsAndStops((environment) =>
    startService(transactionSettlementService(loadTransactionSettlementConfig(environment))),
  );
});
