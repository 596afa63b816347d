/** Calendar dates as the compact strings ID numbers carry, compared without time zones. */

function isLeapYear(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** True for a real Gregorian date, e.g. 2024-02-29 but not 2023-02-29. */
export function isCalendarDate(year: number, month: number, day: number): boolean {
  if (!Number.isInteger(year) || !Number.isInteger(month) || !Number.isInteger(day)) return false;
  if (month < 1 || month > 12 || day < 1) return false;
  const days = month === 2 && isLeapYear(year) ? 29 : (DAYS_IN_MONTH[month - 1] as number);
  return day <= days;
}

/** "YYYYMMDD" → true when it is a real date. */
export function isCompactDate(text: string): boolean {
  if (!/^\d{8}$/u.test(text)) return false;
  return isCalendarDate(Number(text.slice(0, 4)), Number(text.slice(4, 6)), Number(text.slice(6, 8)));
}

/** "2025-03-14" → "20250314"; throws for anything but a real date in that form (a caller's bug). */
export function compactIsoDate(isoDate: string): string {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/u.exec(isoDate);
  const compact = match ? `${match[1]}${match[2]}${match[3]}` : '';
  if (!isCompactDate(compact)) throw new RangeError(`today must be a date as YYYY-MM-DD, got "${isoDate}"`);
  return compact;
}
