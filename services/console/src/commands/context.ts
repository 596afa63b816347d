/** What every command runs with: the pool, the config, and who calls from where. */
import type { Logger } from '@puhui/logging';
import type { Pool } from '@puhui/postgres';
import type { ConsoleConfig } from '../config';

export interface ConsoleContext {
  pool: Pool;
  config: ConsoleConfig;
  logger: Logger;
}

/** Where a request comes from, for sessions and the audit trail. */
export interface Origin {
  ip: string | null;
  userAgent: string | null;
  requestId: string | null;
}

/** How a person appears in audit trails and logs: `person:<account id>`. */
export function personActor(accountId: string): string {
  return `person:${accountId}`;
}
