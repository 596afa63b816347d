// Tracing starts before anything else is required: its instrumentations patch http, express,
// pg, ioredis and kafkajs as they load (decision 0026). Off (a no-op) unless OTEL_TRACES_EXPORTER=otlp.
import { startTracing } from '@puhui/tracing';
startTracing({ service: 'transaction-settlement' });

import { runService } from '@puhui/service';
import { loadTransactionSettlementConfig } from './config';
import { transactionSettlementService } from './service';

runService(transactionSettlementService(loadTransactionSettlementConfig()));
