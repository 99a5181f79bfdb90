import { CronExpressionParser } from 'cron-parser';

/** A timer schedule could not be parsed. */
export class ScheduleError extends Error {
  readonly code = 'BAD_TIMER_SCHEDULE';
}

/** When a timer fires. Times are UTC (the Functions host's default; WEBSITE_TIME_ZONE is not supported here). */
export interface TimerSchedule {
  readonly expression: string;
  readonly kind: 'cron' | 'timespan';
  /** The first occurrence strictly after `after`. */
  next(after: Date): Date;
}

const msPerDay = 86_400_000;
// NCrontab gives up on expressions that never match; so do we, after this many candidate days (~14 years).
const maxDaySkips = 5_200;

function parseTimeSpan(expression: string): number | undefined {
  const m = /^(?:(\d+)\.)?(\d{1,2}):(\d{2}):(\d{2})(?:\.(\d+))?$/.exec(expression);
  if (!m) return undefined;
  const [, days = '0', h = '0', min = '0', s = '0', frac = '0'] = m;
  const ms =
    Number(days) * msPerDay +
    Number(h) * 3_600_000 +
    Number(min) * 60_000 +
    Number(s) * 1000 +
    Math.round(Number(`0.${frac}`) * 1000);
  return ms;
}

class TimeSpanSchedule implements TimerSchedule {
  readonly kind = 'timespan';
  constructor(
    readonly expression: string,
    private readonly intervalMs: number,
  ) {}

  next(after: Date): Date {
    return new Date(after.getTime() + this.intervalMs);
  }
}

/**
 * NCRONTAB semantics on top of cron-parser: 6 fields (seconds first) or 5 (minute-level), and — unlike
 * Vixie cron, which cron-parser follows — day-of-month AND day-of-week must both match when both are set.
 */
class NcrontabSchedule implements TimerSchedule {
  readonly kind = 'cron';
  private readonly cron: string;
  private readonly daysOfWeek: Set<number> | undefined;

  constructor(readonly expression: string) {
    const fields = expression.trim().split(/\s+/);
    const six = fields.length === 5 ? ['0', ...fields] : fields;
    if (six.length !== 6) {
      throw new ScheduleError(
        `Timer schedule "${expression}" must have 6 fields (second minute hour day month day-of-week) or 5.`,
      );
    }
    if (six.some((f) => /[?LW#]/.test(f))) {
      throw new ScheduleError(`Timer schedule "${expression}": NCRONTAB has no ?, L, W or # syntax.`);
    }
    const [second, minute, hour, day, month, dow] = six as [string, string, string, string, string, string];
    try {
      const parsed = CronExpressionParser.parse(six.join(' '), { tz: 'UTC' });
      if (day !== '*' && dow !== '*') {
        // Both restricted: search on day-of-month alone, then keep only days whose weekday is listed.
        this.daysOfWeek = new Set(parsed.fields.dayOfWeek.values.map((d) => Number(d) % 7));
        this.cron = [second, minute, hour, day, month, '*'].join(' ');
        CronExpressionParser.parse(this.cron, { tz: 'UTC' });
      } else {
        this.cron = six.join(' ');
      }
    } catch (err) {
      throw new ScheduleError(`Timer schedule "${expression}" is not valid: ${(err as Error).message}`);
    }
  }

  next(after: Date): Date {
    let base = after;
    for (let i = 0; i < maxDaySkips; i++) {
      const candidate = CronExpressionParser.parse(this.cron, { currentDate: base, tz: 'UTC' })
        .next()
        .toDate();
      if (!this.daysOfWeek || this.daysOfWeek.has(candidate.getUTCDay())) return candidate;
      // Skip the rest of that day: just before the next UTC midnight, so midnight itself can match.
      base = new Date(Math.floor(candidate.getTime() / msPerDay) * msPerDay + msPerDay - 1);
    }
    throw new ScheduleError(
      `Timer schedule "${this.expression}" has no occurrence after ${after.toISOString()}.`,
    );
  }
}

/** Parses an NCRONTAB expression (6 or 5 fields) or a TimeSpan `[d.]hh:mm:ss`. */
export function parseSchedule(expression: string): TimerSchedule {
  const text = expression.trim();
  const intervalMs = parseTimeSpan(text);
  if (intervalMs !== undefined) {
    if (intervalMs <= 0) throw new ScheduleError(`Timer interval "${expression}" must be positive.`);
    return new TimeSpanSchedule(text, intervalMs);
  }
  return new NcrontabSchedule(text);
}

/** The Functions host's `useMonitor` default: off when the schedule fires more than once a minute. */
export function defaultUseMonitor(schedule: TimerSchedule, from: Date): boolean {
  const first = schedule.next(from);
  const second = schedule.next(first);
  return second.getTime() - first.getTime() >= 60_000;
}
