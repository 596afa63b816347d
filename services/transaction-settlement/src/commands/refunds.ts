/**
 * Refunds and voids. The checkout row is locked first, so two refunds of one sale are
 * serialised and never together exceed it; then usage rows and accounts in the same order
 * a capture takes them (commands/checkout-locks.ts). A refund reverses discount and subsidy in proportion (DESIGN §4.7)
 * with transfers that reference the sale; nothing posted before is ever changed.
 */
import { checkoutRefunded, checkoutVoided, newId } from '@puhui/contracts';
import { computeRefund } from '@puhui/discount';
import type { RefundResult, ReversedBefore } from '@puhui/discount';
import { Conflict, NotFound } from '@puhui/errors';
import { appendEvent } from '@puhui/events';
import type { PoolClient } from '@puhui/postgres';
import { runIdempotently } from '@puhui/idempotency';
import { currentBusinessDate } from './business-days';
import { planTransfers, subsidyAccount, unionByBudget } from '../domain/ledger';
import {
  insertRefund,
  lockCheckout,
  markVoided,
  recordRefundOnCheckout,
  refundsOf,
} from '../store/checkouts';
import type { Checkout, Refund } from '../domain/checkout';
import { postTransfers } from '../store/ledger';
import { addUsage } from '../store/usage';
import { merchantViewer, voidedCheckoutView } from '../views/checkout';
import { refundView } from '../views/refund';
import { lockCheckoutRows } from './checkout-locks';
import { checkoutEventFacts, postCheckoutTransfers, usageDeltas } from './checkouts';
import { EVENT_SOURCE } from './context';
import type { SettlementContext } from './context';

async function lockOwnCheckout(
  client: PoolClient,
  merchantId: string,
  checkoutId: string,
): Promise<Checkout> {
  const checkout = await lockCheckout(client, checkoutId);
  // Another merchant's checkout does not exist, as far as this merchant can tell.
  if (checkout === undefined || checkout.merchant_id !== merchantId)
    throw new NotFound(`Checkout ${checkoutId}`);
  return checkout;
}

/**
 * Locks what a reversal of this checkout touches, in the capture's order. The checkout's row,
 * locked first, fixes where its subsidy is (a decision on it waits for this transaction).
 */
async function lockForReversal(client: PoolClient, checkout: Checkout): Promise<void> {
  await lockCheckoutRows(client, {
    card_token: checkout.card_token,
    merchant_id: checkout.merchant_id,
    rule_ids: checkout.grants.map((grant) => grant.rule_id),
    usage_at: new Date(checkout.usage_at),
    budget_ids: unionByBudget(checkout.grants).map((entry) => entry.budget_id),
    movement: 'reversal',
  });
}

function reversedSoFar(refunds: readonly Refund[]): Record<string, ReversedBefore> {
  const totals: Record<string, ReversedBefore> = {};
  for (const refund of refunds) {
    for (const reversal of refund.reversals as Array<{
      rule_id: string;
      discount_reversed_minor: number;
      union_reversed_minor: number;
    }>) {
      const current = totals[reversal.rule_id] ?? { discount_minor: 0, union_funded_minor: 0 };
      totals[reversal.rule_id] = {
        discount_minor: current.discount_minor + reversal.discount_reversed_minor,
        union_funded_minor: current.union_funded_minor + reversal.union_reversed_minor,
      };
    }
  }
  return totals;
}

/** The refund's transfers, opposite to the sale's and naming it; nothing posted before changes. */
async function postRefundTransfers(
  client: PoolClient,
  checkout: Checkout,
  refund: Refund,
  result: RefundResult,
): Promise<void> {
  const transfers = planTransfers(
    {
      merchant_id: checkout.merchant_id,
      net_minor: result.member_refund_minor,
      merchant_funded_minor: result.merchant_reversed_minor,
      union_by_budget: unionByBudget(
        result.reversals.map((r) => ({
          budget_id: r.budget_id,
          union_funded_minor: r.union_reversed_minor,
        })),
      ),
      // From held or payable, wherever the sale's subsidy is; a cancelled one is in its
      // budgets already, so its union part moves nothing.
      subsidy_account: subsidyAccount(checkout.merchant_id, checkout.subsidy_state),
    },
    true,
  );
  await postTransfers(client, transfers, {
    checkout_id: checkout.checkout_id,
    refund_id: refund.refund_id,
    occurred_at: refund.created_at,
  });
}

function refundedEventData(checkout: Checkout, refund: Refund, refundedTotalMinor: number) {
  return {
    ...checkoutEventFacts(checkout, refund.business_date),
    refund_id: refund.refund_id,
    amount_minor: refund.amount_minor,
    discount_reversed_minor: refund.discount_reversed_minor,
    union_reversed_minor: refund.union_reversed_minor,
    member_refund_minor: refund.member_refund_minor,
    refunded_total_minor: refundedTotalMinor,
    refunded_at: refund.created_at,
  };
}

export async function refundCheckout(
  context: SettlementContext,
  merchantId: string,
  checkoutId: string,
  request: { amount_minor: number; reason?: string },
  idempotencyKey: string,
) {
  return runIdempotently(
    context,
    {
      scope: merchantId,
      key: idempotencyKey,
      fingerprint: { path: `POST /v1/checkouts/${checkoutId}/refunds`, request },
    },
    201,
    async (client) => {
      const checkout = await lockOwnCheckout(client, merchantId, checkoutId);
      if (checkout.status === 'voided')
        throw new Conflict('checkout_voided', 'A voided checkout cannot be refunded.');
      const earlier = await refundsOf(client, checkoutId);
      const result = computeRefund({
        gross_minor: checkout.gross_minor,
        grants: checkout.grants,
        refunded_before_minor: checkout.refunded_minor,
        reversed_before: reversedSoFar(earlier),
        refund_minor: request.amount_minor,
      });
      await lockForReversal(client, checkout);
      const now = new Date();
      const refund: Refund = {
        refund_id: newId('ref'),
        checkout_id: checkoutId,
        merchant_id: merchantId,
        amount_minor: result.refund_gross_minor,
        discount_reversed_minor: result.discount_reversed_minor,
        union_reversed_minor: result.union_reversed_minor,
        merchant_reversed_minor: result.merchant_reversed_minor,
        member_refund_minor: result.member_refund_minor,
        reversals: result.reversals,
        reason: request.reason ?? null,
        business_date: await currentBusinessDate(context, client, now),
        created_at: now.toISOString(),
      };
      await insertRefund(client, refund);
      await postRefundTransfers(client, checkout, refund, result);
      await addUsage(
        client,
        checkout.card_token,
        usageDeltas(
          result.reversals.map((r) => ({ rule_id: r.rule_id, discount_minor: r.discount_reversed_minor })),
          checkout.usage_at,
          -1,
        ),
      );
      const refundedTotal = checkout.refunded_minor + refund.amount_minor;
      const status = refundedTotal === checkout.gross_minor ? 'refunded' : 'partially_refunded';
      await recordRefundOnCheckout(client, checkoutId, refundedTotal, status);
      await appendEvent(client, EVENT_SOURCE, {
        definition: checkoutRefunded,
        subject: checkoutId,
        key: merchantId,
        data: refundedEventData(checkout, refund, refundedTotal),
      });
      return refundView(refund, { status, refunded_total_minor: refundedTotal });
    },
  );
}

/** Cancels a sale in full on the business day it was captured, before settlement, without refunds. */
export async function voidCheckout(
  context: SettlementContext,
  merchantId: string,
  checkoutId: string,
  idempotencyKey: string,
) {
  return runIdempotently(
    context,
    {
      scope: merchantId,
      key: idempotencyKey,
      fingerprint: { path: `POST /v1/checkouts/${checkoutId}/void` },
    },
    200,
    async (client) => {
      const checkout = await lockOwnCheckout(client, merchantId, checkoutId);
      const today = await currentBusinessDate(context, client);
      if (checkout.status !== 'captured') {
        throw new Conflict('not_voidable', `A checkout that is ${checkout.status} cannot be voided.`, {
          current_status: checkout.status,
        });
      }
      if (checkout.settlement_batch_id !== null || checkout.business_date !== today) {
        throw new Conflict(
          'void_window_closed',
          'Only an unsettled checkout of the current business day can be voided; refund it instead.',
          {
            business_date: checkout.business_date,
          },
        );
      }
      await lockForReversal(client, checkout);
      await postCheckoutTransfers(client, checkout, true);
      await addUsage(client, checkout.card_token, usageDeltas(checkout.grants, checkout.usage_at, -1));
      await markVoided(client, checkoutId);
      const voidedAt = new Date().toISOString();
      await appendEvent(client, EVENT_SOURCE, {
        definition: checkoutVoided,
        subject: checkoutId,
        key: merchantId,
        data: {
          ...checkoutEventFacts(checkout, checkout.business_date),
          gross_minor: checkout.gross_minor,
          voided_at: voidedAt,
        },
      });
      return voidedCheckoutView(checkout, merchantViewer(context.cardHandleKey), voidedAt);
    },
  );
}
