/**
 * Quote and capture (DESIGN §4, §5). A capture locks, in this order, the card's usage rows
 * and the ledger accounts it touches (commands/checkout-locks.ts), evaluates the discount under
 * those locks so that budgets and per-card caps are exact under concurrency, then posts its transfers,
 * its checkout row and its outbox event in the same transaction.
 */
import { checkoutCaptured, newId } from '@puhui/contracts';
import { evaluateCheckout, ruleMatchesMerchant } from '@puhui/discount';
import type { CheckoutResult, DiscountRule, RateSheet, RuleUsage } from '@puhui/discount';
import { tokenizePan, lastFour } from '@puhui/cards';
import { Conflict, Forbidden, Unprocessable } from '@puhui/errors';
import { appendEvent } from '@puhui/events';
import type { PoolClient } from '@puhui/postgres';
import { HOUR_MS } from '@puhui/config';
import { runIdempotently } from '@puhui/idempotency';
import { usagePeriods } from '../domain/business-day';
import {
  cardVelocityExceeded,
  requireOccurredAtNear,
  requireWithinCheckoutLimits,
} from '../domain/checkout-limits';
import { currentBusinessDate } from './business-days';
import { accountCodes, planTransfers, subsidyAccount, unionByBudget } from '../domain/ledger';
import { insertCheckoutAndUsage } from '../store/checkouts';
import { describedLines } from '../domain/checkout';
import type { Checkout } from '../domain/checkout';
import { postTransfers, readAccounts } from '../store/ledger';
import type { AccountBalance } from '../domain/ledger';
import type { MerchantReplica } from '../domain/merchant';
import { countUnionFundedCaptures, readUsage } from '../store/usage';
import { checkoutView, merchantViewer } from '../views/checkout';
import { quoteView } from '../views/quote';
import { lockCheckoutRows } from './checkout-locks';
import { EVENT_SOURCE } from './context';
import type { SettlementContext } from './context';

export interface CheckoutRequest {
  card_number?: string;
  card_token?: string;
  currency: 'CNY';
  reference: string;
  occurred_at?: string;
  lines: Array<{ category: string; amount_minor: number; quantity: number; description?: string }>;
}

interface Prepared {
  cardToken: string;
  sheet: RateSheet;
  rules: DiscountRule[];
  /** What the POS said, or the capture time: information only (statements, reconciliation). */
  occurredAt: string;
}

function requireActiveMerchant(merchant: MerchantReplica): void {
  if (merchant.status !== 'active') {
    throw new Forbidden(`This merchant is ${merchant.status} and cannot take checkouts.`);
  }
}

/** Card token (the number is tokenized here and forgotten), its rate sheet and the rules for this merchant. */
async function prepare(
  context: SettlementContext,
  merchant: MerchantReplica,
  request: CheckoutRequest,
): Promise<Prepared> {
  requireActiveMerchant(merchant);
  requireWithinCheckoutLimits(context.checkoutLimits, merchant, request.lines);
  const cardToken = request.card_token ?? tokenizePan(request.card_number ?? '', context.cardTokenKey);
  const sheet = await context.rateSheets.forCard(cardToken);
  if (request.card_number !== undefined && lastFour(request.card_number) !== sheet.card.card_last4) {
    throw new Unprocessable('unknown_card', 'This card is not registered in the programme.');
  }
  const rules = sheet.rules.filter((rule) =>
    ruleMatchesMerchant(rule, { merchant_id: merchant.merchant_id, category: merchant.category }),
  );
  return { cardToken, sheet, rules, occurredAt: request.occurred_at ?? new Date().toISOString() };
}

/** The discount at `checkoutTime`: its schedules, and the card's usage in its day and month. */
function evaluate(
  prepared: Prepared,
  merchant: MerchantReplica,
  request: CheckoutRequest,
  usage: Map<string, number>,
  budgets: Record<string, { remaining_minor: number }>,
  checkoutTime: Date,
): CheckoutResult {
  const periods = usagePeriods(checkoutTime);
  const usageByRule: Record<string, RuleUsage> = {};
  for (const rule of prepared.rules) {
    usageByRule[rule.rule_id] = {
      card_day_minor: usage.get(`${rule.rule_id}|${periods.day}`) ?? 0,
      card_month_minor: usage.get(`${rule.rule_id}|${periods.month}`) ?? 0,
    };
  }
  return evaluateCheckout(prepared.rules, {
    merchant: { merchant_id: merchant.merchant_id, category: merchant.category },
    card: {
      tier: prepared.sheet.card.tier,
      union_id: prepared.sheet.card.union_id,
      status: prepared.sheet.card.status,
    },
    occurred_at: checkoutTime.toISOString(),
    lines: request.lines.map(({ category, amount_minor, quantity }) => ({
      category,
      amount_minor,
      quantity,
    })),
    usage: usageByRule,
    budgets,
  });
}

/** What the member would pay now: no locks, no side effects. Budgets as they stand. */
export async function quoteCheckout(
  context: SettlementContext,
  merchant: MerchantReplica,
  request: CheckoutRequest,
) {
  const now = new Date();
  requireOccurredAtNear(request.occurred_at, now);
  const prepared = await prepare(context, merchant, request);
  const budgetIds = budgetIdsOf(prepared.rules);
  const accounts = await readAccounts(context.pool, budgetIds.map(accountCodes.budget));
  const usage = await readUsage(
    context.pool,
    prepared.cardToken,
    prepared.rules.map((rule) => rule.rule_id),
  );
  const budgets = remainingByBudget(budgetIds, accounts);
  const result = evaluate(prepared, merchant, request, usage, budgets, now);
  return quoteView(result, {
    card_last4: prepared.sheet.card.card_last4,
    ruleset_version: prepared.sheet.ruleset_version,
    lines: describedLines(result.lines, request.lines),
  });
}

/** The budgets the rules draw their union part from. */
function budgetIdsOf(rules: readonly DiscountRule[]): string[] {
  return [...new Set(rules.flatMap((rule) => (rule.budget_id === null ? [] : [rule.budget_id])))];
}

/** What each budget has left; a budget settlement has not heard of yet funds nothing. */
function remainingByBudget(budgetIds: readonly string[], accounts: ReadonlyMap<string, AccountBalance>) {
  const budgets: Record<string, { remaining_minor: number }> = {};
  for (const budgetId of budgetIds) {
    budgets[budgetId] = {
      remaining_minor: Math.max(0, accounts.get(accountCodes.budget(budgetId))?.balance_minor ?? 0),
    };
  }
  return budgets;
}

/**
 * Locks what the capture reads and changes, and answers the card's usage and what each budget
 * has left under those locks: per-card caps and budgets are exact under concurrency.
 */
async function lockForCapture(client: PoolClient, prepared: Prepared, merchantId: string, now: Date) {
  const budgetIds = budgetIdsOf(prepared.rules);
  const { usage, accounts } = await lockCheckoutRows(client, {
    card_token: prepared.cardToken,
    merchant_id: merchantId,
    rule_ids: prepared.rules.map((rule) => rule.rule_id),
    usage_at: now,
    budget_ids: budgetIds,
    movement: 'capture',
  });
  return { usage, budgets: remainingByBudget(budgetIds, accounts) };
}

export async function captureCheckout(
  context: SettlementContext,
  merchant: MerchantReplica,
  request: CheckoutRequest,
  idempotencyKey: string,
) {
  const prepared = await prepare(context, merchant, request);
  const outcome = await runIdempotently(
    context,
    {
      scope: merchant.merchant_id,
      key: idempotencyKey,
      fingerprint: { path: 'POST /v1/checkouts', request },
    },
    201,
    async (client, { beforeCommit }) => {
      // Checked here, not before the key is claimed: a retry of a stored capture is answered
      // however late it comes; only a first attempt must be near the clock.
      const now = new Date();
      requireOccurredAtNear(request.occurred_at, now);
      const { usage, budgets } = await lockForCapture(client, prepared, merchant.merchant_id, now);
      const result = evaluate(prepared, merchant, request, usage, budgets, now);
      await requireCardVelocity(context, client, prepared.cardToken, result, now);
      const businessDate = await currentBusinessDate(context, client, now);
      const checkout = capturedCheckout(prepared, merchant, request, result, now, businessDate);
      await insertCheckoutAndUsage(
        client,
        checkout,
        usageDeltas(result.rule_grants, now.toISOString(), 1),
      ).catch(rethrowDuplicateReference);
      await appendEvent(client, EVENT_SOURCE, {
        definition: checkoutCaptured,
        subject: checkout.checkout_id,
        key: checkout.merchant_id,
        data: capturedEventData(checkout),
      });
      // The transfers move the programme's shared accounts (acquirer clearing, the
      // merchant-funded memo), which every capture updates: posted last, just before commit,
      // their row locks are held for one statement and the commit instead of the whole capture.
      // Same transaction, so the checkout, its transfers, its event and its key stay atomic.
      beforeCommit((last) => postCheckoutTransfers(last, checkout, false));
      return checkoutView(checkout, merchantViewer(context.cardHandleKey));
    },
  );
  // Committed, not yet answered: where the crash tests' hook kills the process. A replay is
  // left alone, so that the retry after the kill gets its answer.
  if (!outcome.replayed) context.afterCaptureCommitted?.(request.reference);
  return outcome;
}

/** The checkout a capture records: the evaluation's figures, captured now, its subsidy held. */
function capturedCheckout(
  prepared: Prepared,
  merchant: MerchantReplica,
  request: CheckoutRequest,
  result: CheckoutResult,
  now: Date,
  businessDate: string,
): Checkout {
  return {
    checkout_id: newId('chk'),
    merchant_id: merchant.merchant_id,
    card_token: prepared.cardToken,
    card_last4: prepared.sheet.card.card_last4,
    currency: 'CNY',
    reference: request.reference,
    status: 'captured',
    gross_minor: result.gross_minor,
    discount_minor: result.discount_minor,
    merchant_funded_minor: result.merchant_funded_minor,
    union_funded_minor: result.union_funded_minor,
    net_minor: result.net_minor,
    refunded_minor: 0,
    budget_exhausted: result.budget_exhausted,
    no_discount_reason: result.no_discount_reason,
    ruleset_version: prepared.sheet.ruleset_version,
    lines: describedLines(result.lines, request.lines),
    grants: result.rule_grants,
    occurred_at: new Date(prepared.occurredAt).toISOString(),
    business_date: businessDate,
    created_at: now.toISOString(),
    usage_at: now.toISOString(),
    voided_at: null,
    settlement_batch_id: null,
    // Payable only once the acquirer's statement confirms the sale (DESIGN §6).
    subsidy_state: 'held',
  };
}

/** At most N union-funded captures per card in any hour; only a capture that would be funded counts. */
async function requireCardVelocity(
  context: SettlementContext,
  client: PoolClient,
  cardToken: string,
  result: CheckoutResult,
  now: Date,
): Promise<void> {
  if (result.union_funded_minor === 0) return;
  const limit = context.checkoutLimits.unionFundedCapturesPerCardHourMax;
  const recent = await countUnionFundedCaptures(client, cardToken, new Date(now.getTime() - HOUR_MS));
  if (recent >= limit) throw cardVelocityExceeded(limit);
}

function rethrowDuplicateReference(error: unknown): never {
  if ((error as { constraint?: string }).constraint === 'checkouts_merchant_id_reference_key') {
    throw new Conflict(
      'duplicate_reference',
      'This merchant already captured a checkout with this reference.',
    );
  }
  throw error;
}

export async function postCheckoutTransfers(
  client: PoolClient,
  checkout: Checkout,
  reverse: boolean,
): Promise<void> {
  const transfers = planTransfers(
    {
      merchant_id: checkout.merchant_id,
      net_minor: checkout.net_minor,
      merchant_funded_minor: checkout.merchant_funded_minor,
      union_by_budget: unionByBudget(checkout.grants),
      subsidy_account: subsidyAccount(checkout.merchant_id, checkout.subsidy_state),
    },
    reverse,
  );
  await postTransfers(client, transfers, {
    checkout_id: checkout.checkout_id,
    occurred_at: checkout.occurred_at,
  });
}

/** Usage changes per rule for the day and month of the purchase (sign +1 capture, −1 reversal). */
export function usageDeltas(
  grants: ReadonlyArray<{ rule_id: string; discount_minor: number }>,
  occurredAt: string,
  sign: 1 | -1,
) {
  const periods = usagePeriods(new Date(occurredAt));
  return grants.flatMap((grant) => [
    { rule_id: grant.rule_id, period: periods.day, delta_minor: sign * grant.discount_minor },
    { rule_id: grant.rule_id, period: periods.month, delta_minor: sign * grant.discount_minor },
  ]);
}

/** What every checkout event says about the sale (the card as token and last 4 only). */
export function checkoutEventFacts(checkout: Checkout, businessDate: string) {
  return {
    checkout_id: checkout.checkout_id,
    merchant_id: checkout.merchant_id,
    card_token: checkout.card_token,
    card_last4: checkout.card_last4,
    reference: checkout.reference,
    business_date: businessDate,
  };
}

function capturedEventData(checkout: Checkout) {
  return {
    ...checkoutEventFacts(checkout, checkout.business_date),
    gross_minor: checkout.gross_minor,
    discount_minor: checkout.discount_minor,
    merchant_funded_minor: checkout.merchant_funded_minor,
    union_funded_minor: checkout.union_funded_minor,
    net_minor: checkout.net_minor,
    budget_exhausted: checkout.budget_exhausted,
    ruleset_version: checkout.ruleset_version,
    grants: checkout.grants.map((grant) => ({
      rule_id: grant.rule_id,
      version: grant.version,
      budget_id: grant.budget_id,
      discount_minor: grant.discount_minor,
      union_funded_minor: grant.union_funded_minor,
    })),
    occurred_at: checkout.occurred_at,
    captured_at: checkout.created_at,
  };
}
