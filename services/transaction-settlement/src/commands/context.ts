import { createHmac } from 'node:crypto';
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
  /** Keyed so that a stored request hash cannot be brute-forced back to a card number. */
  requestHashKey: string;
  businessDayCutoffMinutes: number;
  checkoutLimits: CheckoutLimits;
  /** Test only (PUHUI_TEST_CRASH_AFTER_COMMIT): runs after a capture committed, before its answer. */
  afterCaptureCommitted?: AfterCaptureCommitted;
}

export interface IdempotentRequest {
  /** Whose key space: the merchant id, or `operator:<subject>`. */
  scope: string;
  key: string;
  /** What identifies the request: method, path and body. */
  fingerprint: unknown;
}

export function requestHash(
  context: Pick<SettlementContext, 'requestHashKey'>,
  fingerprint: unknown,
): string {
  return createHmac('sha256', context.requestHashKey).update(canonicalJson(fingerprint)).digest('hex');
}

/** JSON with object keys sorted, so that `{a,b}` and `{b,a}` hash alike. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, child]) => child !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([key, child]) => `${JSON.stringify(key)}:${canonicalJson(child)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}
