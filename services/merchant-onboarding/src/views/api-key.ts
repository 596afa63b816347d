/** How a merchant's API key is shown: never its secret or its hash. */
import type { ApiKeyRecord } from '../domain/api-key';

export function apiKeyView(key: ApiKeyRecord) {
  const now = Date.now();
  const working = key.expires_at === null || Date.parse(key.expires_at) > now;
  const revokedStatus = working ? ('expiring' as const) : ('revoked' as const);
  return {
    id: key.key_id,
    merchant_id: key.merchant_id,
    prefix: key.prefix,
    scopes: key.scopes,
    status: key.revoked_at === null ? (working ? ('active' as const) : ('expired' as const)) : revokedStatus,
    created_at: key.created_at,
    revoked_at: key.revoked_at,
    expires_at: key.expires_at,
  };
}
