/** Checkouts and refunds. One statement per function; callers pass the transaction. */
import { pageOf } from '@puhui/postgres';
import type { Page, PageRequest, PoolClient, Queryable } from '@puhui/postgres';
import { linesAsKept } from '../domain/checkout';
import type { Checkout, CheckoutStatus, Refund, StoredLine } from '../domain/checkout';
import { listParams } from './list-query';

type MoneyColumn =
  | 'gross_minor'
  | 'discount_minor'
  | 'merchant_funded_minor'
  | 'union_funded_minor'
  | 'net_minor'
  | 'refunded_minor';
const COLUMNS = `checkout_id, merchant_id, card_token, card_last4, currency, reference, status, gross_minor, discount_minor,
  merchant_funded_minor, union_funded_minor, net_minor, refunded_minor, budget_exhausted, no_discount_reason,
  ruleset_version, lines, grants, occurred_at, to_char(business_date, 'YYYY-MM-DD') AS business_date, created_at,
  COALESCE(usage_at, occurred_at) AS usage_at, voided_at, settlement_batch_id, subsidy_state`;

type CheckoutRow = Omit<
  Checkout,
  MoneyColumn | 'lines' | 'occurred_at' | 'created_at' | 'usage_at' | 'voided_at'
> &
  Record<MoneyColumn, string> & {
    lines: StoredLine[];
    occurred_at: Date;
    created_at: Date;
    usage_at: Date;
    voided_at: Date | null;
  };

function toCheckout(row: CheckoutRow): Checkout {
  return {
    ...row,
    gross_minor: Number(row.gross_minor),
    discount_minor: Number(row.discount_minor),
    merchant_funded_minor: Number(row.merchant_funded_minor),
    union_funded_minor: Number(row.union_funded_minor),
    net_minor: Number(row.net_minor),
    refunded_minor: Number(row.refunded_minor),
    occurred_at: row.occurred_at.toISOString(),
    created_at: row.created_at.toISOString(),
    usage_at: row.usage_at.toISOString(),
    voided_at: row.voided_at?.toISOString() ?? null,
    lines: linesAsKept(row.lines, row.grants),
  };
}

/**
 * A capture's checkout row and the per-card usage its discount adds (rows the capture has
 * locked), in one statement: a data-modifying WITH always runs, read or not.
 */
export async function insertCheckoutAndUsage(
  client: Queryable,
  checkout: Checkout,
  usage: ReadonlyArray<{ rule_id: string; period: string; delta_minor: number }>,
): Promise<void> {
  const changes = usage.filter((change) => change.delta_minor !== 0);
  await client.query({
    name: 'settlement-insert-checkout-and-usage',
    text: `WITH usage AS (
       UPDATE card_rule_usage u SET discount_minor = u.discount_minor + c.delta
       FROM unnest($22::text[], $23::text[], $24::bigint[]) AS c(rule_id, period, delta)
       WHERE u.card_token = $3 AND u.rule_id = c.rule_id AND u.period = c.period)
     INSERT INTO checkouts (checkout_id, merchant_id, card_token, card_last4, currency, reference, status, gross_minor,
       discount_minor, merchant_funded_minor, union_funded_minor, net_minor, refunded_minor, budget_exhausted,
       no_discount_reason, ruleset_version, lines, grants, occurred_at, business_date, created_at, usage_at, subsidy_state)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $25, $26)`,
    values: [
      checkout.checkout_id,
      checkout.merchant_id,
      checkout.card_token,
      checkout.card_last4,
      checkout.currency,
      checkout.reference,
      checkout.status,
      checkout.gross_minor,
      checkout.discount_minor,
      checkout.merchant_funded_minor,
      checkout.union_funded_minor,
      checkout.net_minor,
      checkout.refunded_minor,
      checkout.budget_exhausted,
      checkout.no_discount_reason,
      checkout.ruleset_version,
      JSON.stringify(checkout.lines),
      JSON.stringify(checkout.grants),
      checkout.occurred_at,
      checkout.business_date,
      checkout.created_at,
      changes.map((change) => change.rule_id),
      changes.map((change) => change.period),
      changes.map((change) => change.delta_minor),
      checkout.usage_at,
      checkout.subsidy_state,
    ],
  });
}

export async function findCheckout(client: Queryable, checkoutId: string): Promise<Checkout | undefined> {
  const { rows } = await client.query<CheckoutRow>(
    `SELECT ${COLUMNS} FROM checkouts WHERE checkout_id = $1`,
    [checkoutId],
  );
  return rows[0] === undefined ? undefined : toCheckout(rows[0]);
}

/** Locks a checkout: refunds and voids of one sale are serialised here. */
export async function lockCheckout(client: PoolClient, checkoutId: string): Promise<Checkout | undefined> {
  const { rows } = await client.query<CheckoutRow>(
    `SELECT ${COLUMNS} FROM checkouts WHERE checkout_id = $1 FOR UPDATE`,
    [checkoutId],
  );
  return rows[0] === undefined ? undefined : toCheckout(rows[0]);
}

export async function recordRefundOnCheckout(
  client: PoolClient,
  checkoutId: string,
  refundedMinor: number,
  status: CheckoutStatus,
): Promise<void> {
  await client.query('UPDATE checkouts SET refunded_minor = $2, status = $3 WHERE checkout_id = $1', [
    checkoutId,
    refundedMinor,
    status,
  ]);
}

export async function markVoided(client: PoolClient, checkoutId: string): Promise<void> {
  await client.query("UPDATE checkouts SET status = 'voided', voided_at = now() WHERE checkout_id = $1", [
    checkoutId,
  ]);
}

export interface CheckoutFilter extends PageRequest {
  merchant_id?: string;
  status?: CheckoutStatus;
  business_date_from?: string;
  business_date_to?: string;
  card_last4?: string;
  reference?: string;
  card_token?: string;
}

export async function listCheckouts(client: Queryable, filter: CheckoutFilter): Promise<Page<Checkout>> {
  const { rows } = await client.query<CheckoutRow>(
    `SELECT ${COLUMNS} FROM checkouts
     WHERE ($1::text IS NULL OR merchant_id = $1) AND ($2::text IS NULL OR status = $2)
       AND ($3::date IS NULL OR business_date >= $3) AND ($4::date IS NULL OR business_date <= $4)
       AND ($5::text IS NULL OR card_last4 = $5) AND ($6::text IS NULL OR reference = $6)
       AND ($7::text IS NULL OR card_token = $7) AND ($8::text IS NULL OR checkout_id > $8)
     ORDER BY checkout_id LIMIT $9`,
    listParams(filter, [
      'merchant_id',
      'status',
      'business_date_from',
      'business_date_to',
      'card_last4',
      'reference',
      'card_token',
      'starting_after',
    ]),
  );
  return pageOf(rows.map(toCheckout), filter);
}

export async function insertRefund(client: PoolClient, refund: Refund): Promise<void> {
  await client.query(
    `INSERT INTO refunds (refund_id, checkout_id, merchant_id, amount_minor, discount_reversed_minor, union_reversed_minor,
       merchant_reversed_minor, member_refund_minor, reversals, reason, business_date, created_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
    [
      refund.refund_id,
      refund.checkout_id,
      refund.merchant_id,
      refund.amount_minor,
      refund.discount_reversed_minor,
      refund.union_reversed_minor,
      refund.merchant_reversed_minor,
      refund.member_refund_minor,
      JSON.stringify(refund.reversals),
      refund.reason,
      refund.business_date,
      refund.created_at,
    ],
  );
}

export interface RefundWithTotal extends Refund {
  /** What the checkout's refunds up to and including this one add up to. */
  refunded_total_minor: number;
}

/**
 * A page of a checkout's refunds, oldest first, each with the running total after it;
 * `starting_after` is the last refund id of the page before.
 */
export async function listRefundsOf(
  client: Queryable,
  checkoutId: string,
  page: PageRequest,
): Promise<Page<RefundWithTotal>> {
  const { rows } = await client.query<RefundWithTotal & Record<string, unknown>>(
    `WITH ordered AS (
       SELECT refund_id, checkout_id, merchant_id, amount_minor::float8 AS amount_minor,
              discount_reversed_minor::float8 AS discount_reversed_minor,
              union_reversed_minor::float8 AS union_reversed_minor,
              merchant_reversed_minor::float8 AS merchant_reversed_minor,
              member_refund_minor::float8 AS member_refund_minor, reversals, reason,
              to_char(business_date, 'YYYY-MM-DD') AS business_date, created_at,
              (sum(amount_minor) OVER (ORDER BY created_at, refund_id))::float8 AS refunded_total_minor,
              row_number() OVER (ORDER BY created_at, refund_id) AS position
       FROM refunds WHERE checkout_id = $1)
     SELECT * FROM ordered
     WHERE $2::text IS NULL OR position > (SELECT position FROM ordered WHERE refund_id = $2)
     ORDER BY position LIMIT $3`,
    [checkoutId, ...listParams(page, ['starting_after'])],
  );
  return pageOf(
    rows.map(({ position: _position, ...row }) => ({
      ...row,
      created_at: (row.created_at as unknown as Date).toISOString(),
    })),
    page,
  );
}

/** What earlier refunds of a checkout reversed, per rule, for the cumulative refund method. */
export async function refundsOf(client: Queryable, checkoutId: string): Promise<Refund[]> {
  const { rows } = await client.query<Refund & Record<string, unknown>>(
    `SELECT refund_id, checkout_id, merchant_id, amount_minor::float8 AS amount_minor,
            discount_reversed_minor::float8 AS discount_reversed_minor, union_reversed_minor::float8 AS union_reversed_minor,
            merchant_reversed_minor::float8 AS merchant_reversed_minor, member_refund_minor::float8 AS member_refund_minor,
            reversals, reason, to_char(business_date, 'YYYY-MM-DD') AS business_date, created_at
     FROM refunds WHERE checkout_id = $1 ORDER BY created_at, refund_id`,
    [checkoutId],
  );
  return rows.map((row) => ({ ...row, created_at: (row.created_at as unknown as Date).toISOString() }));
}
