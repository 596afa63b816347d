import path from 'node:path';
import { TOPICS } from '@puhui/contracts';
import type { ServiceDefinition } from '@puhui/service';
import type { DiscountRulesConfig } from './config';

export const SERVICE_NAME = 'discount-rules';

export function discountRulesService(config: DiscountRulesConfig): ServiceDefinition<DiscountRulesConfig> {
  return {
    name: SERVICE_NAME,
    config,
    migrationsDirectory: path.join(__dirname, '..', 'migrations'),
    publishes: [TOPICS.rules, TOPICS.cards],
  };
}
