import { startService } from '@puhui/service';
import { expectServiceBootsAndStops } from '@puhui/testing';
import { loadMerchantOnboardingConfig } from '../src/config';
import { merchantOnboardingService } from '../src/service';

it('boots on the real Postgres, Redis and Kafka, reports ready, and shuts down', async () => {
  await expectServiceBootsAndStops((environment) =>
    startService(merchantOnboardingService(loadMerchantOnboardingConfig(environment))),
  );
});
