import { evaluateCheckout, scheduleCovers, shanghaiLocalTime, type Schedule } from '@puhui/discount';
import { makeContext, makeRule } from './support';

function schedule(overrides: Partial<Schedule>): Schedule {
  return {
    valid_from: '2025-01-01T00:00:00+08:00',
    valid_to: null,
    days_of_week: null,
    time_of_day: null,
    ...overrides,
  };
}

function discountAt(ruleSchedule: Schedule, occurred_at: string): number {
  const rules = [makeRule({ rule_id: 'scheduled', schedule: ruleSchedule })];
  return evaluateCheckout(rules, makeContext({ occurred_at })).discount_minor;
}

describe('Shanghai local time', () => {
  it('reads an instant on the Shanghai wall clock', () => {
    expect(shanghaiLocalTime('2025-06-10T10:15:42+08:00')).toEqual({
      date: '2025-06-10',
      month: '2025-06',
      day_of_week: 2,
      minutes_of_day: 615,
    });
  });

  it('puts a UTC evening on the next Shanghai day, month and weekday', () => {
    expect(shanghaiLocalTime('2025-01-31T16:00:00Z')).toEqual({
      date: '2025-02-01',
      month: '2025-02',
      day_of_week: 6,
      minutes_of_day: 0,
    });
  });

  it('numbers Sunday 7', () => {
    expect(shanghaiLocalTime('2025-06-08T12:00:00+08:00').day_of_week).toBe(7);
  });

  it('reads other offsets correctly', () => {
    expect(shanghaiLocalTime('2025-06-10T00:30:00-05:00')).toMatchObject({
      date: '2025-06-10',
      minutes_of_day: 810,
    });
  });

  it('refuses a time without an offset', () => {
    expect(() => shanghaiLocalTime('2025-06-10T10:00:00')).toThrow(/offset/);
  });
});

describe('schedules', () => {
  it('start at valid_from inclusive and stop at valid_to exclusive', () => {
    const window = schedule({
      valid_from: '2025-06-01T00:00:00+08:00',
      valid_to: '2025-07-01T00:00:00+08:00',
    });
    expect(discountAt(window, '2025-05-31T23:59:59+08:00')).toBe(0);
    expect(discountAt(window, '2025-06-01T00:00:00+08:00')).toBe(1_000);
    expect(discountAt(window, '2025-06-30T23:59:59.999+08:00')).toBe(1_000);
    expect(discountAt(window, '2025-07-01T00:00:00+08:00')).toBe(0);
    expect(discountAt(window, '2025-06-30T16:00:00Z')).toBe(0); // the same instant as valid_to
  });

  it('apply only on the listed ISO days of the week', () => {
    const weekends = schedule({ days_of_week: [6, 7] });
    expect(discountAt(weekends, '2025-06-10T10:00:00+08:00')).toBe(0); // Tuesday
    expect(discountAt(weekends, '2025-06-07T10:00:00+08:00')).toBe(1_000); // Saturday
    expect(discountAt(weekends, '2025-06-08T23:59:00+08:00')).toBe(1_000); // Sunday
  });

  it('judge the day of the week in Shanghai, not in UTC', () => {
    const sundays = schedule({ days_of_week: [7] });
    // Saturday 16:30 UTC is Sunday 00:30 in Shanghai.
    expect(discountAt(sundays, '2025-06-07T16:30:00Z')).toBe(1_000);
    // Sunday 16:30 UTC is already Monday in Shanghai.
    expect(discountAt(sundays, '2025-06-08T16:30:00Z')).toBe(0);
  });

  it('apply within a time window, start inclusive and end exclusive', () => {
    const lunch = schedule({ time_of_day: { start: '11:30', end: '13:30' } });
    expect(discountAt(lunch, '2025-06-10T11:29:59+08:00')).toBe(0);
    expect(discountAt(lunch, '2025-06-10T11:30:00+08:00')).toBe(1_000);
    expect(discountAt(lunch, '2025-06-10T13:29:59+08:00')).toBe(1_000);
    expect(discountAt(lunch, '2025-06-10T13:30:00+08:00')).toBe(0);
  });

  it('run a window that ends before it starts past midnight', () => {
    const night = schedule({ time_of_day: { start: '22:00', end: '02:00' } });
    expect(discountAt(night, '2025-06-10T21:59:00+08:00')).toBe(0);
    expect(discountAt(night, '2025-06-10T22:00:00+08:00')).toBe(1_000);
    expect(discountAt(night, '2025-06-10T23:30:00+08:00')).toBe(1_000);
    expect(discountAt(night, '2025-06-11T01:30:00+08:00')).toBe(1_000);
    expect(discountAt(night, '2025-06-11T02:00:00+08:00')).toBe(0);
    expect(discountAt(night, '2025-06-10T15:30:00Z')).toBe(1_000); // 23:30 in Shanghai
  });

  it('check the day of the week and the window each against the instant’s own local day', () => {
    const fridayNights = schedule({ days_of_week: [5], time_of_day: { start: '22:00', end: '02:00' } });
    expect(scheduleCovers(fridayNights, '2025-06-13T23:30:00+08:00')).toBe(true); // Friday
    expect(scheduleCovers(fridayNights, '2025-06-13T01:30:00+08:00')).toBe(true); // Friday, early
    expect(scheduleCovers(fridayNights, '2025-06-14T01:30:00+08:00')).toBe(false); // Saturday
  });
});
