/** A merchant's API key as stored: its hash, never the key itself (DESIGN §3). */
import type { MerchantKeyScope } from '@puhui/contracts';

export interface ApiKeyRecord {
  key_id: string;
  merchant_id: string;
  prefix: string;
  key_hash: string;
  created_at: string;
  created_by: string;
  expires_at: string | null;
  revoked_at: string | null;
  scopes: MerchantKeyScope[];
}
