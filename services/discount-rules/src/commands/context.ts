import type { Logger } from '@puhui/logging';
import type { Pool } from '@puhui/postgres';
import type { RateSheets } from './rate-sheets';

/** CloudEvents `source` of everything this service announces. */
export const EVENT_SOURCE = 'discount-rules';

/** What every command needs: where to write, what to tell the cache, and who asked. */
export interface CommandContext {
  pool: Pool;
  logger: Logger;
  sheets: RateSheets;
  actor: string;
  requestId: string | null;
}
