/**
 * What one checkout may claim (issue 14): a ceiling on its gross by merchant category (a
 * merchant may have its own), on its total quantity, and on how many union-funded captures one
 * card may make in an hour. Before these a POS could capture ¥10,000,000,000 and draw the
 * union's budget within the rules as coded. The defaults fit the Shangrao programme (an average
 * ¥2,700 on a card): a hospital stay or a hotel week are the largest single bills.
 */
import type { MerchantCategory } from '@puhui/contracts';
import { DomainError } from '@puhui/errors';

const YUAN = 100;

export const CHECKOUT_GROSS_MINOR_MAX_BY_CATEGORY: Readonly<Record<MerchantCategory, number>> = {
  scenic_spot: 5_000 * YUAN,
  supermarket: 20_000 * YUAN,
  pharmacy: 10_000 * YUAN,
  hospital: 100_000 * YUAN,
  hotel: 50_000 * YUAN,
  restaurant: 10_000 * YUAN,
  retail: 20_000 * YUAN,
  transport: 5_000 * YUAN,
  leisure: 10_000 * YUAN,
  other: 10_000 * YUAN,
};

/** Units in one checkout (Σ quantity): a supermarket's largest baskets hold a few hundred. */
export const CHECKOUT_QUANTITY_TOTAL_MAX = 1_000;

export interface CheckoutLimits {
  grossMinorMaxByCategory: Readonly<Record<string, number>>;
  /** Per merchant id, replacing its category's ceiling (a wholesale outlet, a hospital group). */
  grossMinorMaxByMerchant: Readonly<Record<string, number>>;
  quantityTotalMax: number;
  /** Union-funded captures one card may make in any hour; the next one is refused. */
  unionFundedCapturesPerCardHourMax: number;
}

function refused(
  code: string,
  name: string,
  reason: string,
  extensions: Record<string, unknown>,
): DomainError {
  return new DomainError('unprocessable', code, 'Unprocessable request', {
    detail: `${name} ${reason}.`,
    invalidParams: [{ name, reason }],
    extensions,
  });
}

/** Throws a 422 naming the field when a checkout claims more than its merchant may take at once. */
export function requireWithinCheckoutLimits(
  limits: CheckoutLimits,
  merchant: { merchant_id: string; category: string },
  lines: ReadonlyArray<{ amount_minor: number; quantity: number }>,
): void {
  const grossMax =
    limits.grossMinorMaxByMerchant[merchant.merchant_id] ?? limits.grossMinorMaxByCategory[merchant.category];
  const gross = lines.reduce((sum, line) => sum + line.amount_minor, 0);
  if (grossMax !== undefined && gross > grossMax) {
    throw refused(
      'checkout_gross_exceeds_limit',
      'lines',
      `add up to ${gross} fen, more than this merchant's ${grossMax} fen for one checkout`,
      {
        gross_minor_max: grossMax,
      },
    );
  }
  const quantity = lines.reduce((sum, line) => sum + line.quantity, 0);
  if (quantity > limits.quantityTotalMax) {
    throw refused(
      'checkout_quantity_exceeds_limit',
      'lines',
      `hold ${quantity} units, more than ${limits.quantityTotalMax} in one checkout`,
      {
        quantity_total_max: limits.quantityTotalMax,
      },
    );
  }
}

export function cardVelocityExceeded(limit: number): DomainError {
  return new DomainError('unprocessable', 'card_velocity_exceeded', 'Unprocessable request', {
    detail: `This card has had ${limit} union-funded checkouts in the last hour; try again later.`,
    extensions: { union_funded_captures_per_hour_max: limit },
  });
}

/**
 * How far a POS's `occurred_at` may lie from the service's clock, either way. It decides no
 * money (schedules, caps and usage periods are evaluated at the capture time, DESIGN §4.0): it
 * is kept for statements and reconciliation, whose time tolerance matches the acquirer's
 * transaction time against it. 15 minutes covers terminal clocks that drift without NTP and a
 * store-and-forward resend of an offline sale; a time further off is a broken clock or a
 * back-dating attempt, and is refused rather than stored.
 */
export const OCCURRED_AT_WINDOW_MS = 15 * 60_000;

export function requireOccurredAtNear(occurredAt: string | undefined, now: Date): void {
  if (occurredAt === undefined) return;
  const skewMs = Date.parse(occurredAt) - now.getTime();
  if (Math.abs(skewMs) <= OCCURRED_AT_WINDOW_MS) return;
  const reason = `must be within ${OCCURRED_AT_WINDOW_MS / 60_000} minutes of now (it is ${Math.round(Math.abs(skewMs) / 60_000)} minutes ${skewMs < 0 ? 'earlier' : 'later'})`;
  throw new DomainError('unprocessable', 'occurred_at_out_of_window', 'Unprocessable request', {
    detail: `occurred_at ${reason}; discounts are evaluated at the time the capture is recorded.`,
    invalidParams: [{ name: 'occurred_at', reason }],
    extensions: { window_minutes: OCCURRED_AT_WINDOW_MS / 60_000 },
  });
}
