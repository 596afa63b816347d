/**
 * What every command runs with: the pool, the secrets, who acts and under which request id.
 * Its own module so that commands import it without importing each other (issue 13: merchants.ts
 * and api-keys.ts imported each other through it).
 */
import type { Pool } from '@puhui/postgres';

export const EVENT_SOURCE = 'merchant-onboarding';

export interface Secrets {
  /** AES-256-GCM key (base64) sealing settlement account numbers. */
  fieldKey: string;
  /** HMAC key for hashes that let us match ID and account numbers without keeping them. */
  identityHashKey: string;
}

export interface CommandContext {
  pool: Pool;
  secrets: Secrets;
  actor: string;
  requestId: string | null;
}
