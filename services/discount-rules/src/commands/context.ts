import type { Checker, DualControl } from '@puhui/dual-control';
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
  /** The person acting (token subject and roles); null for the service's own jobs. */
  operator: Checker | null;
  /** Records the publishes that need a second admin (commands/approvals.ts). */
  dualControl: DualControl;
}

/** A checker as this service's routes make them: with the request they decide in, for the audit trail. */
export interface CheckerInRequest extends Checker {
  requestId: string | null;
}

/** The checker as the audit trail and events name them, like any operator (the request id when known). */
export function actorOfChecker(checker: Checker): Pick<CommandContext, 'actor' | 'requestId'> {
  const { requestId } = checker as Partial<CheckerInRequest>;
  return {
    actor: `operator:${checker.subject}`,
    requestId: typeof requestId === 'string' ? requestId : null,
  };
}
