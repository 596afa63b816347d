/**
 * What every command runs with: the pool, the secrets, who acts and under which request id.
 * Its own module so that commands import it without importing each other (issue 13: merchants.ts
 * and api-keys.ts imported each other through it).
 */
import type { Checker, DualControl } from '@puhui/dual-control';
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
  /** The person acting (token subject and roles) when an operator acts; null for a merchant key. */
  operator: Checker | null;
  /** Records and decides the requests that need a second person (commands/approvals.ts). */
  dualControl: DualControl;
}

/** Who a step is recorded as: the audit trail's actor and request id. */
export type Actor = Pick<CommandContext, 'actor' | 'requestId'>;

/** A checker as this service's routes make them: with the request they decide in, for the audit trail. */
export interface CheckerInRequest extends Checker {
  requestId: string | null;
}

/** The checker as the audit trail and events name them, like any operator (the request id when known). */
export function actorOfChecker(checker: Checker): Actor {
  const { requestId } = checker as Partial<CheckerInRequest>;
  return {
    actor: `operator:${checker.subject}`,
    requestId: typeof requestId === 'string' ? requestId : null,
  };
}
