/**
 * Business days (DESIGN §6) in Asia/Shanghai (UTC+08:00, no daylight saving): a day closes at
 * the cut-off (default 23:00), so a checkout at 23:30 belongs to the next business day.
 */
import type { BatchStatus } from './settlement';

const SHANGHAI_OFFSET_MS = 8 * 3600 * 1000;
const DAY_MS = 24 * 3600 * 1000;

/** `HH:MM` → minutes after midnight. */
/** An instant as Asia/Shanghai wall-clock time with its offset: 2026-12-01T18:30:05.000+08:00. */
export function shanghaiTimestamp(instant: Date): string {
  return `${new Date(instant.getTime() + SHANGHAI_OFFSET_MS).toISOString().slice(0, -1)}+08:00`;
}

export function parseCutoff(cutoff: string): number {
  const match = /^([01]\d|2[0-3]):([0-5]\d)$/u.exec(cutoff);
  if (match === null) throw new Error(`cut-off must be HH:MM, got ${cutoff}`);
  return Number(match[1]) * 60 + Number(match[2]);
}

export function businessDate(instant: Date, cutoffMinutes: number): string {
  const local = new Date(instant.getTime() + SHANGHAI_OFFSET_MS);
  const minutes = local.getUTCHours() * 60 + local.getUTCMinutes();
  if (minutes >= cutoffMinutes) local.setUTCDate(local.getUTCDate() + 1);
  return local.toISOString().slice(0, 10);
}

/** Shanghai calendar day and month of an instant, for per-card day and month caps. */
export function usagePeriods(instant: Date): { day: string; month: string } {
  const local = new Date(instant.getTime() + SHANGHAI_OFFSET_MS).toISOString();
  return { day: `day:${local.slice(0, 10)}`, month: `month:${local.slice(0, 7)}` };
}

/** The calendar date `days` after `date` (YYYY-MM-DD). */
export function addDays(date: string, days: number): string {
  return new Date(Date.parse(`${date}T00:00:00Z`) + days * DAY_MS).toISOString().slice(0, 10);
}

/** When a business day closes by the clock: its cut-off, Asia/Shanghai. */
export function cutoffInstant(date: string, cutoffMinutes: number): string {
  return new Date(
    Date.parse(`${date}T00:00:00Z`) + cutoffMinutes * 60_000 - SHANGHAI_OFFSET_MS,
  ).toISOString();
}

export interface BusinessDayClosure {
  business_date: string;
  closed_by: string;
  request_id: string | null;
  closed_at: string;
}

/** A business day's movements and batches, summed (all of the day's rows, every merchant). */
export interface DayTotals {
  captures: {
    count: number;
    gross_minor: number;
    discount_minor: number;
    union_funded_minor: number;
    merchant_funded_minor: number;
    net_minor: number;
  };
  voids: { count: number; gross_minor: number; discount_minor: number };
  refunds: {
    count: number;
    amount_minor: number;
    member_refund_minor: number;
    union_reversed_minor: number;
    merchant_reversed_minor: number;
  };
  settlement_runs: number;
  batches: { status: BatchStatus; count: number; net_minor: number }[];
  reconciliations: { runs: number; exceptions_open: number };
}
