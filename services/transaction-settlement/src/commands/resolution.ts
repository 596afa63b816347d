/**
 * Finance resolves a reconciliation exception (DESIGN §6): who, when and why, on the item and in
 * the append-only audit, once. When the exception holds a capture's subsidy, the resolution
 * also releases or cancels it (commands/subsidy.ts), in the same transaction and on the same
 * audit row.
 */
import { Conflict, NotFound } from '@puhui/errors';
import { withTransaction } from '@puhui/postgres';
import { findItem, resolveItem } from '../store/reconciliation';
import { appendAudit } from '../store/reconciliation-audit';
import type { ReconciliationItem } from '../domain/reconciliation';
import type { ReconciliationContext } from './reconciliation';
import { decideItemSubsidy } from './subsidy';
import type { DecidedSubsidy, ResolutionSubsidyChoice } from './subsidy';

export interface Resolution {
  item: ReconciliationItem;
  /** The held subsidy this resolution released or cancelled; null when the item held none. */
  subsidy: DecidedSubsidy | null;
}

export async function resolveReconciliationItem(
  context: ReconciliationContext,
  runId: string,
  itemId: string,
  request: { note: string; subsidy?: ResolutionSubsidyChoice },
): Promise<Resolution> {
  return withTransaction(context.pool, async (client) => {
    const resolved = await resolveItem(client, runId, itemId, {
      resolved_by: context.actor,
      note: request.note,
    });
    if (resolved === undefined) {
      const item = await findItem(client, runId, itemId);
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
    const subsidy = await decideItemSubsidy(client, resolved, request.subsidy, context.actor);
    await appendAudit(client, {
      run_id: runId,
      item_id: itemId,
      action: 'item_resolved',
      actor: context.actor,
      note: request.note,
      request_id: context.requestId,
      subsidy,
    });
    return { item: resolved, subsidy };
  });
}
