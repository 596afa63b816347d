import { startService } from '@puhui/service';
import { loadMerchantOnboardingConfig } from './config';
import { merchantOnboardingService } from './service';

startService(merchantOnboardingService(loadMerchantOnboardingConfig()), { handleSignals: true }).catch(
  (error: unknown) => {
    process.stderr.write(`merchant-onboarding failed to start: ${String((error as Error).stack ?? error)}\n`);
    process.exit(1);
  },
);
