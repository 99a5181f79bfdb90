/**
 * The generator's calendar of special days. Demand in the generated clickstream moves with these days
 * (uplift on traffic, a price factor on promotions), so a forecasting model that knows the same calendar
 * can beat a seasonal-naive baseline. Rules are yearly, so the calendar covers any date range.
 */

/** What kind of day it is: a public holiday, a store promotion, or a shopping season. */
export type SpecialDayKind = 'holiday' | 'promotion' | 'season';

/** One special calendar day and how the generator treats it. */
export interface SpecialDay {
  /** ISO date, YYYY-MM-DD (UTC). */
  date: string;
  name: string;
  kind: SpecialDayKind;
  /** Multiplier on traffic (views) that day; < 1 means quieter than usual. */
  uplift: number;
  /** Multiplier on shelf prices that day (promotions discount; 1 otherwise). */
  priceFactor: number;
}

interface Rule {
  name: string;
  kind: SpecialDayKind;
  uplift: number;
  priceFactor: number;
  /** Dates (UTC day numbers) the rule hits in a given year. */
  days: (year: number) => number[];
}

const DAY_MS = 86_400_000;

/** Days since 1970-01-01 for an ISO date (YYYY-MM-DD). */
export function dayNumber(isoDate: string): number {
  const ms = Date.parse(`${isoDate}T00:00:00Z`);
  if (!/^\d{4}-\d{2}-\d{2}$/.test(isoDate) || Number.isNaN(ms)) {
    throw new RangeError(`not an ISO date (YYYY-MM-DD): ${isoDate}`);
  }
  return Math.round(ms / DAY_MS);
}

/** ISO date (YYYY-MM-DD) of a day number. */
export function isoDate(day: number): string {
  return new Date(day * DAY_MS).toISOString().slice(0, 10);
}

/** Day of week of a day number: 0 = Monday … 6 = Sunday. */
export function weekday(day: number): number {
  // 1970-01-01 was a Thursday (index 3).
  return (((day + 3) % 7) + 7) % 7;
}

const md = (year: number, month: number, dayOfMonth: number): number =>
  Math.round(Date.UTC(year, month - 1, dayOfMonth) / DAY_MS);

/** n-th (1-based) given weekday (0 = Monday) of a month. */
const nthWeekday = (year: number, month: number, wd: number, n: number): number => {
  const first = md(year, month, 1);
  return first + ((wd - weekday(first) + 7) % 7) + 7 * (n - 1);
};

/** The day after Thanksgiving (the fourth Thursday of November). */
const blackFriday = (year: number): number => nthWeekday(year, 11, 3, 4) + 1;

const range = (from: number, count: number): number[] => Array.from({ length: count }, (_, i) => from + i);

/**
 * Yearly rules, strongest first: when two rules hit the same date the earlier one wins.
 * Modelled on a Russian multi-category store (the source data's origin): New Year holidays, Orthodox
 * Christmas, 8 March, May holidays, Singles' Day, Black Friday weekend, Cyber Monday, the December gift
 * season, and a store-wide sale on the second weekend of every month.
 */
const RULES: readonly Rule[] = [
  { name: 'black_friday', kind: 'promotion', uplift: 2.6, priceFactor: 0.8, days: (y) => [blackFriday(y)] },
  {
    name: 'black_friday_weekend',
    kind: 'promotion',
    uplift: 1.7,
    priceFactor: 0.85,
    days: (y) => [blackFriday(y) + 1, blackFriday(y) + 2],
  },
  {
    name: 'cyber_monday',
    kind: 'promotion',
    uplift: 1.9,
    priceFactor: 0.85,
    days: (y) => [blackFriday(y) + 3],
  },
  { name: 'singles_day', kind: 'promotion', uplift: 1.6, priceFactor: 0.9, days: (y) => [md(y, 11, 11)] },
  { name: 'new_year_eve', kind: 'holiday', uplift: 0.7, priceFactor: 1, days: (y) => [md(y, 12, 31)] },
  { name: 'new_year', kind: 'holiday', uplift: 0.5, priceFactor: 1, days: (y) => [md(y, 1, 1)] },
  {
    name: 'new_year_holidays',
    kind: 'holiday',
    uplift: 0.8,
    priceFactor: 1,
    days: (y) => range(md(y, 1, 2), 5),
  },
  { name: 'orthodox_christmas', kind: 'holiday', uplift: 0.75, priceFactor: 1, days: (y) => [md(y, 1, 7)] },
  {
    name: 'gift_season',
    kind: 'season',
    uplift: 1.45,
    priceFactor: 1,
    days: (y) => range(md(y, 12, 18), 13),
  },
  { name: 'valentines', kind: 'season', uplift: 1.3, priceFactor: 1, days: (y) => range(md(y, 2, 11), 4) },
  { name: 'womens_day', kind: 'season', uplift: 1.4, priceFactor: 1, days: (y) => range(md(y, 3, 4), 4) },
  { name: 'womens_day_holiday', kind: 'holiday', uplift: 0.8, priceFactor: 1, days: (y) => [md(y, 3, 8)] },
  {
    name: 'may_holidays',
    kind: 'holiday',
    uplift: 0.85,
    priceFactor: 1,
    days: (y) => [...range(md(y, 5, 1), 3), md(y, 5, 9)],
  },
  {
    name: 'monthly_sale',
    kind: 'promotion',
    uplift: 1.3,
    priceFactor: 0.9,
    days: (y) => range(1, 12).flatMap((m) => [nthWeekday(y, m, 5, 2), nthWeekday(y, m, 5, 2) + 1]),
  },
];

const byYear = new Map<number, Map<number, SpecialDay>>();

function yearCalendar(year: number): Map<number, SpecialDay> {
  const cached = byYear.get(year);
  if (cached) return cached;
  const days = new Map<number, SpecialDay>();
  for (const rule of RULES) {
    for (const day of rule.days(year)) {
      if (days.has(day)) continue;
      const { name, kind, uplift, priceFactor } = rule;
      days.set(day, { date: isoDate(day), name, kind, uplift, priceFactor });
    }
  }
  byYear.set(year, days);
  return days;
}

/** The special day on a day number, if any. */
export function specialDayAt(day: number): SpecialDay | undefined {
  const year = new Date(day * DAY_MS).getUTCFullYear();
  return yearCalendar(year).get(day);
}

/** The special day on an ISO date, if any. */
export function specialDayOn(date: string): SpecialDay | undefined {
  return specialDayAt(dayNumber(date));
}

/** All special days from `from` to `to` inclusive (ISO dates), in date order. */
export function specialDays(from: string, to: string): SpecialDay[] {
  const out: SpecialDay[] = [];
  for (let day = dayNumber(from); day <= dayNumber(to); day++) {
    const special = specialDayAt(day);
    if (special) out.push(special);
  }
  return out;
}

/** Names of every calendar rule (stable; usable as categorical feature levels). */
export const SPECIAL_DAY_NAMES: readonly string[] = RULES.map((r) => r.name);
