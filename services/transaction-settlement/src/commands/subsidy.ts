/**
 * The union pays a subsidy only for sales the acquirer confirmed (DESIGN §6). A capture's
 * union part waits in `merchant:<id>:subsidy_held`; this is where it leaves, once:
 * - a statement line matched to the capture confirms it: held → subsidy_payable, in the
 *   transaction that stores the match;
 * - finance resolving the capture's exception releases it (held → subsidy_payable) or cancels
 *   it (held → its budgets), in the transaction that resolves the item and writes its audit row.
 * Each decision is a row of subsidy_decisions (once per sale) with what the sale still held (its
 * union part less what refunds took back); transfers name the run (a resolution's, the checkout
 * too), and the batches that count the sale move the same amounts. Merchant-funded amounts and
 * the net are not touched.
 */
import assert from 'node:assert/strict';
import { DomainError } from '@puhui/errors';
import type { PoolClient } from '@puhui/postgres';
import { lockCheckout } from '../store/checkouts';
import type { Checkout } from '../domain/checkout';
import type { ReconciliationItem } from '../domain/reconciliation';
import {
  confirmMatchedCaptures,
  decideHeldSubsidy,
  lockDecidedAccounts,
  lockMatchedHeldCaptures,
  lockSubsidyDecisions,
  moveBatchSubsidies,
  postDecidedTransfers,
} from '../store/subsidy';
import type { DecisionSet } from '../store/subsidy';

/** What finance may do with a held subsidy when it resolves the exception that holds it. */
export const RESOLUTION_SUBSIDY_CHOICES = ['release', 'cancel'] as const;
export type ResolutionSubsidyChoice = (typeof RESOLUTION_SUBSIDY_CHOICES)[number];

export interface DecidedSubsidy {
  checkout_id: string;
  decision: 'released' | 'cancelled';
  /** What moved out of held: the union part less what refunds had taken back. */
  amount_minor: number;
}

/** Batches first, then accounts: the order mark_paid takes them in. */
async function applyDecisions(client: PoolClient, set: DecisionSet): Promise<number> {
  await moveBatchSubsidies(client, set);
  await lockDecidedAccounts(client, set);
  return postDecidedTransfers(client, set);
}

/**
 * Makes payable the held subsidies of the captures the run matched, exactly once: a sale is
 * confirmed only while it is held, so a later run matching it again moves nothing.
 */
export async function confirmMatchedSubsidies(
  client: PoolClient,
  run: { run_id: string; settlement_date: string; decided_by: string },
): Promise<{ confirmed_count: number; amount_minor: number }> {
  await lockSubsidyDecisions(client);
  await lockMatchedHeldCaptures(client, run.run_id, run.settlement_date);
  const confirmed = await confirmMatchedCaptures(client, run);
  if (confirmed === 0) return { confirmed_count: 0, amount_minor: 0 };
  const amount = await applyDecisions(client, { run_id: run.run_id, resolved_item_id: null });
  return { confirmed_count: confirmed, amount_minor: amount };
}

/** A sale whose union part is still waiting for the acquirer (or for finance). */
function holdsSubsidy(checkout: Checkout): boolean {
  return checkout.subsidy_state === 'held' && checkout.status !== 'voided' && checkout.union_funded_minor > 0;
}

/** The capture an exception is about, when it can hold a subsidy: its line is missing or differs. */
function captureOf(item: ReconciliationItem): string | undefined {
  const exception = item.category === 'missing_in_statement' || item.category === 'amount_mismatch';
  return exception && item.ledger?.kind === 'capture' ? item.ledger.checkout_id : undefined;
}

function subsidyProblem(code: string, reason: string, detail: string): DomainError {
  return new DomainError('unprocessable', code, 'Unprocessable request', {
    detail,
    invalidParams: [{ name: 'subsidy', reason }],
  });
}

/**
 * The sale whose held subsidy a resolution of `item` must decide, locked, or undefined when
 * there is none; refuses a choice that does not fit: a capture exception whose sale still holds
 * a subsidy must say `release` or `cancel` (resolved once, it could not say later); any other
 * item must not. Checked when a correction is asked for too, so that its approval cannot fail on it.
 */
export async function heldSaleToDecide(
  client: PoolClient,
  item: ReconciliationItem,
  choice: ResolutionSubsidyChoice | undefined,
): Promise<Checkout | undefined> {
  const checkoutId = captureOf(item);
  let checkout: Checkout | undefined;
  if (checkoutId !== undefined) {
    await lockSubsidyDecisions(client);
    checkout = await lockCheckout(client, checkoutId);
  }
  if (checkout === undefined || !holdsSubsidy(checkout)) {
    if (choice === undefined) return undefined;
    throw subsidyProblem(
      'no_held_subsidy',
      'must be left out: nothing is held for this item',
      'This item holds no subsidy to release or cancel (not a capture exception, or its subsidy was decided already).',
    );
  }
  if (choice === undefined) {
    throw subsidyProblem(
      'subsidy_decision_required',
      'must be release or cancel',
      `The sale ${checkout.checkout_id} holds a union subsidy: resolving its exception must release it (payable) or cancel it (back to the budget).`,
    );
  }
  return checkout;
}

/** For a resolution: decides the held subsidy of the item's capture as finance chose (heldSaleToDecide). */
export async function decideItemSubsidy(
  client: PoolClient,
  item: ReconciliationItem,
  choice: ResolutionSubsidyChoice | undefined,
  decidedBy: string,
): Promise<DecidedSubsidy | null> {
  const checkout = await heldSaleToDecide(client, item, choice);
  if (checkout === undefined || choice === undefined) return null;
  const decision = choice === 'release' ? 'released' : 'cancelled';
  const decided = await decideHeldSubsidy(client, {
    checkout_id: checkout.checkout_id,
    decision,
    run_id: item.run_id,
    item_id: item.item_id,
    decided_by: decidedBy,
  });
  assert.ok(decided, 'a locked held subsidy is decided');
  const set: DecisionSet = { run_id: item.run_id, resolved_item_id: item.item_id };
  return { checkout_id: checkout.checkout_id, decision, amount_minor: await applyDecisions(client, set) };
}
