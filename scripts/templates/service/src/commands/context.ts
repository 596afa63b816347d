/** What every command runs with: the pool, who acts and under which request id. */
import type { Pool } from '@puhui/postgres';

/** CloudEvents `source` of everything this service announces. */
export const EVENT_SOURCE = 'starter-kit';

export interface CommandContext {
  pool: Pool;
  actor: string;
  requestId: string | null;
}
