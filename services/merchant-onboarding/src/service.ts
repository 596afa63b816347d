import path from 'node:path';
import { TOPICS } from '@puhui/contracts';
import { DUAL_CONTROL_MIGRATIONS } from '@puhui/dual-control';
import type { ServiceDefinition } from '@puhui/service';
import type { Secrets } from './commands/context';
import { personalDataSealingJob } from './commands/personal-data-sealing';
import type { MerchantOnboardingConfig } from './config';
import { merchantOnboardingApi } from './http/api';
import { merchantOnboardingRoutes } from './http/routes';
import { personalDataRetentionJob } from './jobs/personal-data-retention';
import { merchantOnboardingMetrics } from './metrics';

export const SERVICE_NAME = 'merchant-onboarding';

/** The keys the commands seal and hash with. */
export function secretsOf(config: MerchantOnboardingConfig): Secrets {
  return { fieldKey: config.FIELD_ENCRYPTION_KEY, identityHashKey: config.IDENTITY_HASH_KEY };
}

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
    metrics: merchantOnboardingMetrics,
    jobs: ({ pool, logger }) => [
      // Before HTTP answers: what was stored before decision 0016 is sealed, v1 seals upgraded.
      personalDataSealingJob(pool, secretsOf(config), logger),
      // Terminated merchants' personal fields erased once their retention ends (decision 0017).
      personalDataRetentionJob(pool, logger.child({ component: 'retention' }), {
        retentionDays: config.PERSONAL_DATA_RETENTION_DAYS,
        intervalMs: config.PERSONAL_DATA_RETENTION_INTERVAL_MS,
      }),
    ],
  };
}
