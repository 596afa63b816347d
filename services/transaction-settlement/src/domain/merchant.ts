/** What settlement knows of a merchant: its replica of merchant-onboarding's facts (DESIGN §3). */
import type { MerchantCategory } from '@puhui/contracts';

export interface MerchantReplica {
  merchant_id: string;
  status: 'active' | 'suspended' | 'terminated';
  category: MerchantCategory;
  display_name: string;
}
