import { runService } from '@puhui/service';
import { loadDiscountRulesConfig } from './config';
import { discountRulesService } from './service';

runService(discountRulesService(loadDiscountRulesConfig()));
