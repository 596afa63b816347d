/**
 * What one card saved over a period of business days: its checkouts (voided ones apart) net of
 * their refunds (whenever refunded), by merchant and by month, through checkouts_card.
 */
import type { Queryable } from '@puhui/postgres';

export interface SavingsFigures {
  checkouts: number;
  gross_minor: number;
  refunded_minor: number;
  discount_minor: number;
  union_funded_minor: number;
  merchant_funded_minor: number;
}

export interface MerchantSavings extends SavingsFigures {
  merchant_id: string;
  display_name: string;
  merchant_category: string;
}

export interface MonthSavings extends SavingsFigures {
  month: string;
}

/**
 * Merchants one answer lists at most, by discount: a member uses dozens a year; the totals and
 * months always count every checkout.
 */
export const SAVINGS_MERCHANTS_MAX = 200;

const FIGURES = `count(*)::int AS checkouts, sum(gross_minor)::float8 AS gross_minor,
  sum(refunded)::float8 AS refunded_minor, sum(discount_minor - discount_back)::float8 AS discount_minor,
  sum(union_funded_minor - union_back)::float8 AS union_funded_minor,
  sum(merchant_funded_minor - merchant_back)::float8 AS merchant_funded_minor`;

const NET_OF_REFUNDS = `WITH sales AS (
    SELECT c.checkout_id, c.merchant_id, m.display_name, m.category AS merchant_category,
           to_char(c.business_date, 'YYYY-MM') AS month, c.gross_minor, c.discount_minor,
           c.union_funded_minor, c.merchant_funded_minor
    FROM checkouts c JOIN merchants m USING (merchant_id)
    WHERE c.card_token = $1 AND c.business_date BETWEEN $2 AND $3 AND c.status <> 'voided'),
  back AS (
    SELECT r.checkout_id, sum(r.amount_minor) AS refunded, sum(r.discount_reversed_minor) AS discount_back,
           sum(r.union_reversed_minor) AS union_back, sum(r.merchant_reversed_minor) AS merchant_back
    FROM refunds r JOIN sales s USING (checkout_id) GROUP BY r.checkout_id),
  net AS (
    SELECT s.*, coalesce(b.refunded, 0) AS refunded, coalesce(b.discount_back, 0) AS discount_back,
           coalesce(b.union_back, 0) AS union_back, coalesce(b.merchant_back, 0) AS merchant_back
    FROM sales s LEFT JOIN back b USING (checkout_id))`;

export async function cardSavings(
  client: Queryable,
  cardToken: string,
  period: { from: string; to: string },
): Promise<{ total: SavingsFigures; merchants: MerchantSavings[]; months: MonthSavings[] }> {
  const { rows } = await client.query<{
    total: SavingsFigures;
    merchants: MerchantSavings[] | null;
    months: MonthSavings[] | null;
  }>({
    name: 'settlement-card-savings',
    text: `${NET_OF_REFUNDS}
      SELECT (SELECT row_to_json(t) FROM (SELECT ${FIGURES} FROM net) t) AS total,
             (SELECT json_agg(t ORDER BY t.discount_minor DESC, t.merchant_id) FROM (
                SELECT merchant_id, display_name, merchant_category, ${FIGURES} FROM net
                GROUP BY merchant_id, display_name, merchant_category
                ORDER BY sum(discount_minor - discount_back) DESC, merchant_id LIMIT $4) t) AS merchants,
             (SELECT json_agg(t ORDER BY t.month) FROM (
                SELECT month, ${FIGURES} FROM net GROUP BY month) t) AS months`,
    values: [cardToken, period.from, period.to, SAVINGS_MERCHANTS_MAX],
  });
  const row = rows[0] as {
    total: SavingsFigures;
    merchants: MerchantSavings[] | null;
    months: MonthSavings[] | null;
  };
  const zero = (value: number | null) => value ?? 0;
  const total = row.total;
  return {
    total: {
      checkouts: total.checkouts,
      gross_minor: zero(total.gross_minor),
      refunded_minor: zero(total.refunded_minor),
      discount_minor: zero(total.discount_minor),
      union_funded_minor: zero(total.union_funded_minor),
      merchant_funded_minor: zero(total.merchant_funded_minor),
    },
    merchants: row.merchants ?? [],
    months: row.months ?? [],
  };
}
