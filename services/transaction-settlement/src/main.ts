import { runService } from '@puhui/service';
import { loadTransactionSettlementConfig } from './config';
import { transactionSettlementService } from './service';

runService(transactionSettlementService(loadTransactionSettlementConfig()));
