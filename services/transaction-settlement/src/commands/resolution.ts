/**
 * Finance resolves a reconciliation exception (DESIGN §6): who, when and why, on the item and in
 * the append-only audit, once. When the exception holds a capture's subsidy, the resolution
 * also releases or cancels it (commands/subsidy.ts), in the same transaction and on the same
 * audit row. A resolution that corrects the ledger (an adjustment or a write-off) waits for a
 * second person (commands/corrections.ts) and resolves through `resolveWithin` when approved.
 */
import { Conflict, NotFound } from '@puhui/errors';
import { withTransaction } from '@puhui/postgres';
import type { PoolClient } from '@puhui/postgres';
import { findItem, resolveItem } from '../store/reconciliation';
import { appendAudit } from '../store/reconciliation-audit';
import type { AuditEntry } from '../store/reconciliation-audit';
import type { ReconciliationItem } from '../domain/reconciliation';
import type { ReconciliationContext } from './reconciliation';
import { decideItemSubsidy } from './subsidy';
import type { DecidedSubsidy, ResolutionSubsidyChoice } from './subsidy';

export interface Resolution {
  item: ReconciliationItem;
  /** The held subsidy this resolution released or cancelled; null when the item held none. */
  subsidy: DecidedSubsidy | null;
}

export interface ResolutionRequest {
  note: string;
  subsidy?: ResolutionSubsidyChoice;
}

/** Why an exception cannot be resolved (or corrected): unknown, matched, or resolved already. */
export function refuseUnresolvable(
  item: ReconciliationItem | undefined,
  runId: string,
  itemId: string,
): never {
  if (item === undefined) throw new NotFound(`Item ${itemId} of reconciliation ${runId}`);
  if (item.category === 'matched') {
    throw new Conflict('not_an_exception', 'A matched item has nothing to resolve.', {
      category: item.category,
    });
  }
  throw new Conflict('already_resolved', 'This item has been resolved already.', {
    resolution: item.resolution,
  });
}

/**
 * Resolves the item in the caller's transaction: the item, its held subsidy's decision and the
 * audit row (with the correction, when one was approved: the caller posts its transfer).
 */
export async function resolveWithin(
  client: PoolClient,
  who: Pick<ReconciliationContext, 'actor' | 'requestId'>,
  target: { runId: string; itemId: string },
  request: ResolutionRequest,
  correction: AuditEntry['correction'] = null,
): Promise<Resolution> {
  const { runId, itemId } = target;
  const resolved = await resolveItem(client, runId, itemId, { resolved_by: who.actor, note: request.note });
  if (resolved === undefined) refuseUnresolvable(await findItem(client, runId, itemId), runId, itemId);
  const subsidy = await decideItemSubsidy(client, resolved, request.subsidy, who.actor);
  await appendAudit(client, {
    run_id: runId,
    item_id: itemId,
    action: 'item_resolved',
    actor: who.actor,
    note: request.note,
    request_id: who.requestId,
    subsidy,
    correction,
  });
  return { item: resolved, subsidy };
}

/** Resolves with a note (and the subsidy decision), unless a correction of the item waits for approval. */
export async function resolveReconciliationItem(
  context: ReconciliationContext,
  runId: string,
  itemId: string,
  request: ResolutionRequest,
  refusePendingCorrection: (client: PoolClient, itemId: string) => Promise<void>,
): Promise<Resolution> {
  return withTransaction(context.pool, async (client) => {
    await refusePendingCorrection(client, itemId);
    return resolveWithin(client, context, { runId, itemId }, request);
  });
}

/** Items one bulk resolution takes at most: a screenful of identical exceptions, in one transaction. */
export const BULK_RESOLUTION_ITEMS_MAX = 500;

/**
 * Resolves several exceptions of a run with one note (and one subsidy decision), all or none: an
 * item unknown, matched, resolved already or with a correction waiting refuses the whole request,
 * naming it. Items are taken in id order, so two bulk resolutions never deadlock.
 */
export async function resolveReconciliationItems(
  context: ReconciliationContext,
  runId: string,
  itemIds: readonly string[],
  request: ResolutionRequest,
  refusePendingCorrection: (client: PoolClient, itemId: string) => Promise<void>,
): Promise<Resolution[]> {
  const ordered = [...itemIds].sort((a, b) => Number(a) - Number(b));
  return withTransaction(context.pool, async (client) => {
    const resolutions: Resolution[] = [];
    for (const itemId of ordered) {
      await refusePendingCorrection(client, itemId);
      resolutions.push(await resolveWithin(client, context, { runId, itemId }, request));
    }
    return resolutions;
  });
}
