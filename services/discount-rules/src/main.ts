// Tracing starts before anything else is required: its instrumentations patch http, express,
// pg, ioredis and kafkajs as they load (decision 0026). Off (a no-op) unless OTEL_TRACES_EXPORTER=otlp.
import { startTracing } from '@puhui/tracing';
startTracing({ service: 'discount-rules' });

import { runService } from '@puhui/service';
import { loadDiscountRulesConfig } from './config';
import { discountRulesService } from './service';

runService(discountRulesService(loadDiscountRulesConfig()));
