import { startService } from '@puhui/service';
import { loadDiscountRulesConfig } from './config';
import { discountRulesService } from './service';

startService(discountRulesService(loadDiscountRulesConfig()), { handleSignals: true }).catch(
  (error: unknown) => {
    process.stderr.write(`discount-rules failed to start: ${String((error as Error).stack ?? error)}\n`);
    process.exit(1);
  },
);
