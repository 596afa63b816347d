import type { DualControl } from '@puhui/dual-control';
import type { Logger } from '@puhui/logging';
import type { Pool } from '@puhui/postgres';
import type { AfterCaptureCommitted } from '../crash-after-commit';
import type { CheckoutLimits } from '../domain/checkout-limits';
import type { RateSheets } from '../rates/rate-sheets';

export const EVENT_SOURCE = 'transaction-settlement';

export interface SettlementContext {
  pool: Pool;
  logger: Logger;
  rateSheets: RateSheets;
  cardTokenKey: string;
  /** CARD_HANDLE_KEY: keys the card handles merchants see (views/checkout.ts), not the card tokens. */
  cardHandleKey: string;
  /** Keyed so that a stored request hash cannot be brute-forced back to a card number. */
  requestHashKey: string;
  businessDayCutoffMinutes: number;
  checkoutLimits: CheckoutLimits;
  /** Top-ups and payouts wait for a second person (commands/approvals.ts). */
  approvals: DualControl;
  /** Test only (PUHUI_TEST_CRASH_AFTER_COMMIT): runs after a capture committed, before its answer. */
  afterCaptureCommitted?: AfterCaptureCommitted;
}
