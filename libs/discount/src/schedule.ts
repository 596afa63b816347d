/**
 * Time as the programme sees it: Asia/Shanghai wall-clock time. China has used UTC+08:00 all
 * year since 1991 (no daylight saving), so a fixed offset is exact for every date a rule can
 * carry and needs no time-zone database.
 */
import assert from 'node:assert/strict';
import { parseInstant, type Schedule } from './schema';

const SHANGHAI_OFFSET_MS = 8 * 60 * 60 * 1000;
const MINUTES_PER_HOUR = 60;

export interface ShanghaiLocalTime {
  /** Local calendar day, `YYYY-MM-DD`: the bucket for per-card daily caps. */
  date: string;
  /** Local calendar month, `YYYY-MM`: the bucket for per-card monthly caps. */
  month: string;
  /** ISO day of the week, Monday = 1 … Sunday = 7. */
  day_of_week: number;
  /** Minutes since local midnight, 0 … 1439 (seconds are dropped). */
  minutes_of_day: number;
}

/** The Asia/Shanghai wall-clock reading of an RFC 3339 instant (which must carry an offset). */
export function shanghaiLocalTime(isoString: string): ShanghaiLocalTime {
  const instant = parseInstant(isoString);
  assert.ok(!Number.isNaN(instant), `not an RFC 3339 time with an offset: ${String(isoString)}`);
  // Shifting the instant by +8 h and reading it as UTC gives the Shanghai wall clock.
  const local = new Date(instant + SHANGHAI_OFFSET_MS);
  const date = local.toISOString().slice(0, 10);
  const weekday = local.getUTCDay();
  return {
    date,
    month: date.slice(0, 7),
    day_of_week: weekday === 0 ? 7 : weekday,
    minutes_of_day: local.getUTCHours() * MINUTES_PER_HOUR + local.getUTCMinutes(),
  };
}

function minutesOf(localTime: string): number {
  const [hours, minutes] = localTime.split(':').map(Number);
  return (hours as number) * MINUTES_PER_HOUR + (minutes as number);
}

/**
 * Whether a local minute falls in a `HH:MM` window: start inclusive, end exclusive. A window
 * whose end is before its start runs past midnight (22:00–02:00 covers 23:30 and 01:30).
 */
export function windowCovers(window: { start: string; end: string }, minutesOfDay: number): boolean {
  const start = minutesOf(window.start);
  const end = minutesOf(window.end);
  return start < end
    ? minutesOfDay >= start && minutesOfDay < end
    : minutesOfDay >= start || minutesOfDay < end;
}

/**
 * Whether a schedule covers an instant: valid_from ≤ instant < valid_to, and the Shanghai
 * day of the week and time of day are allowed. Days of the week and the time window are
 * checked independently against the instant's own local day, so a Friday-only rule with a
 * 22:00–02:00 window covers Friday 23:30 and Friday 01:30 but not Saturday 01:30.
 */
export function scheduleCovers(schedule: Schedule, isoString: string): boolean {
  const instant = parseInstant(isoString);
  assert.ok(!Number.isNaN(instant), `not an RFC 3339 time with an offset: ${String(isoString)}`);
  const validFrom = parseInstant(schedule.valid_from);
  const validTo = schedule.valid_to === null ? Number.POSITIVE_INFINITY : parseInstant(schedule.valid_to);
  // NaN compares false both ways, which would make a broken bound cover everything.
  assert.ok(!Number.isNaN(validFrom) && !Number.isNaN(validTo), 'schedule bounds must be RFC 3339 times');
  if (instant < validFrom || instant >= validTo) return false;
  const local = shanghaiLocalTime(isoString);
  if (schedule.days_of_week !== null && !schedule.days_of_week.includes(local.day_of_week)) return false;
  return schedule.time_of_day === null || windowCovers(schedule.time_of_day, local.minutes_of_day);
}
