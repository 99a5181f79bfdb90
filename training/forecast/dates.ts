/** Calendar days as integers (days since 1970-01-01 UTC): cheap arithmetic, no time-zone drift. */
export type EpochDay = number;

const MS_PER_DAY = 86_400_000;
const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** Parses `YYYY-MM-DD` into an epoch day; throws RangeError on anything else. */
export function parseIsoDay(iso: string): EpochDay {
  const match = ISO_DATE.exec(iso);
  if (!match) throw new RangeError(`not a YYYY-MM-DD date: ${JSON.stringify(iso)}`);
  const ms = Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3]));
  const day = ms / MS_PER_DAY;
  if (formatIsoDay(day) !== iso) throw new RangeError(`not a calendar date: ${iso}`);
  return day;
}

/** Formats an epoch day as `YYYY-MM-DD`. */
export function formatIsoDay(day: EpochDay): string {
  return new Date(day * MS_PER_DAY).toISOString().slice(0, 10);
}

/** Day of week, 0 = Sunday … 6 = Saturday (1970-01-01 was a Thursday). */
export function dayOfWeek(day: EpochDay): number {
  return (((day + 4) % 7) + 7) % 7;
}

/** Day of month, 1…31. */
export function dayOfMonth(day: EpochDay): number {
  return new Date(day * MS_PER_DAY).getUTCDate();
}

/** Epoch day of a UTC calendar date (month 1…12). */
export function epochDayOf(year: number, month: number, dayInMonth: number): EpochDay {
  return Date.UTC(year, month - 1, dayInMonth) / MS_PER_DAY;
}

/** Calendar year of an epoch day. */
export function yearOf(day: EpochDay): number {
  return new Date(day * MS_PER_DAY).getUTCFullYear();
}
