import { dayOfWeek, epochDayOf, parseIsoDay, yearOf, type EpochDay } from './dates.js';

/**
 * Retail special days that move demand. Rules are per year so any date range works; extra days
 * (promotions, local holidays) come from configuration as ISO dates and are stored in model.json
 * so training and inference use the same calendar.
 */
export interface SpecialDayCalendar {
  /** Extra special days from configuration, `YYYY-MM-DD`. */
  readonly extraDays: readonly string[];
}

/** The n-th given weekday (0 = Sunday) of a month, e.g. the 4th Thursday of November. */
function nthWeekday(year: number, month: number, weekday: number, n: number): EpochDay {
  const first = epochDayOf(year, month, 1);
  const offset = (weekday - dayOfWeek(first) + 7) % 7;
  return first + offset + 7 * (n - 1);
}

/** Special days of one calendar year by built-in rules. */
export function builtInSpecialDays(year: number): EpochDay[] {
  const thanksgiving = nthWeekday(year, 11, 4, 4);
  return [
    epochDayOf(year, 1, 1), // New Year
    epochDayOf(year, 2, 14), // Valentine's Day
    nthWeekday(year, 5, 0, 2), // Mother's Day (2nd Sunday of May)
    thanksgiving + 1, // Black Friday
    thanksgiving + 4, // Cyber Monday
    epochDayOf(year, 12, 24),
    epochDayOf(year, 12, 25),
    epochDayOf(year, 12, 31),
  ];
}

/** A fast membership test for special days over any range of years. */
export class SpecialDays {
  private readonly days = new Set<EpochDay>();
  private readonly coveredYears = new Set<number>();
  private readonly extra: readonly EpochDay[];

  constructor(calendar: SpecialDayCalendar = { extraDays: [] }) {
    this.extra = calendar.extraDays.map(parseIsoDay);
    for (const day of this.extra) this.days.add(day);
  }

  /** True when the day is a special day. */
  has(day: EpochDay): boolean {
    this.coverYear(yearOf(day));
    return this.days.has(day);
  }

  /** Days from `day` to the next special day (0 if it is one), capped at `cap`. */
  daysUntilNext(day: EpochDay, cap: number): number {
    for (let d = 0; d < cap; d++) if (this.has(day + d)) return d;
    return cap;
  }

  private coverYear(year: number): void {
    if (this.coveredYears.has(year)) return;
    this.coveredYears.add(year);
    for (const day of builtInSpecialDays(year)) this.days.add(day);
  }
}
