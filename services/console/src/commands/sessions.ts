/** A person's own sessions: sign out here, end one elsewhere, or sign out everywhere. */
import { NotFound } from '@puhui/errors';
import { recordAudit } from '../store/audit';
import { endAccountSessions, endSession } from '../store/sessions';
import type { LiveSession } from '../store/sessions';
import type { ConsoleContext, Origin } from './context';
import { personActor } from './context';

function audit(context: ConsoleContext, live: LiveSession, origin: Origin, action: string, detail: unknown) {
  return recordAudit(context.pool, {
    actor: personActor(live.account.id),
    action,
    accountId: live.account.id,
    ip: origin.ip,
    requestId: origin.requestId,
    detail,
  });
}

export async function signOut(context: ConsoleContext, live: LiveSession, origin: Origin): Promise<void> {
  await endSession(context.pool, live.session.id, live.account.id, 'signed_out');
  await audit(context, live, origin, 'session.signed_out', { session_id: live.session.id });
}

/** Ends one of the person's own sessions; another person's id is "not found". */
export async function endOwnSession(
  context: ConsoleContext,
  live: LiveSession,
  sessionId: string,
  origin: Origin,
): Promise<void> {
  if (!(await endSession(context.pool, sessionId, live.account.id, 'ended_by_owner')))
    throw new NotFound(`Session ${sessionId}`);
  await audit(context, live, origin, 'session.ended', { session_id: sessionId });
}

export async function signOutEverywhere(
  context: ConsoleContext,
  live: LiveSession,
  origin: Origin,
): Promise<void> {
  const ended = await endAccountSessions(context.pool, live.account.id, 'signed_out_everywhere');
  await audit(context, live, origin, 'session.signed_out_everywhere', { sessions_ended: ended });
}
