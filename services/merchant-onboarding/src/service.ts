import path from 'node:path';
import { TOPICS } from '@puhui/contracts';
import { DUAL_CONTROL_MIGRATIONS } from '@puhui/dual-control';
import type { ServiceDefinition } from '@puhui/service';
import type { MerchantOnboardingConfig } from './config';
import { merchantOnboardingApi } from './http/api';
import { merchantOnboardingRoutes } from './http/routes';

export const SERVICE_NAME = 'merchant-onboarding';

export function merchantOnboardingService(
  config: MerchantOnboardingConfig,
): ServiceDefinition<MerchantOnboardingConfig> {
  return {
    name: SERVICE_NAME,
    config,
    migrationsDirectory: path.join(__dirname, '..', 'migrations'),
    libraryMigrations: [DUAL_CONTROL_MIGRATIONS],
    redis: true,
    kafka: { publishes: [TOPICS.merchants] },
    routes: merchantOnboardingRoutes,
    api: merchantOnboardingApi,
  };
}
