import { runService } from '@puhui/service';
import { loadMerchantOnboardingConfig } from './config';
import { merchantOnboardingService } from './service';

runService(merchantOnboardingService(loadMerchantOnboardingConfig()));
