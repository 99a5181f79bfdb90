import { describe, expect, it } from 'vitest';
import { defaultUseMonitor, parseSchedule, ScheduleError } from './schedule.js';

const at = (iso: string) => new Date(iso);

describe('timer schedules', () => {
  it('reads 6-field NCRONTAB with seconds, strictly after the base time', () => {
    const s = parseSchedule('*/1 * * * * *');
    expect(s.next(at('2026-01-05T00:00:00.000Z')).toISOString()).toBe('2026-01-05T00:00:01.000Z');
    expect(parseSchedule('0 */5 * * * *').next(at('2026-01-05T00:03:10Z')).toISOString()).toBe(
      '2026-01-05T00:05:00.000Z',
    );
  });

  it('reads 5-field cron as minute-level', () => {
    expect(parseSchedule('30 2 * * *').next(at('2026-01-05T03:00:00Z')).toISOString()).toBe(
      '2026-01-06T02:30:00.000Z',
    );
  });

  it('ANDs day-of-month and day-of-week like NCrontab (Friday the 13th)', () => {
    // Vixie cron (cron-parser alone) would fire on 2026-01-02, a Friday that is not the 13th.
    const s = parseSchedule('0 0 0 13 * Fri');
    expect(s.next(at('2026-01-01T00:00:00Z')).toISOString()).toBe('2026-02-13T00:00:00.000Z');
    expect(s.next(at('2026-02-13T00:00:00Z')).toISOString()).toBe('2026-03-13T00:00:00.000Z');
  });

  it('reads weekday names and ranges', () => {
    // 2026-01-10 is a Saturday
    expect(parseSchedule('0 0 9 * * Mon-Fri').next(at('2026-01-10T12:00:00Z')).toISOString()).toBe(
      '2026-01-12T09:00:00.000Z',
    );
  });

  it('reads TimeSpan intervals', () => {
    const s = parseSchedule('00:00:30');
    expect(s.kind).toBe('timespan');
    expect(s.next(at('2026-01-05T00:00:00Z')).toISOString()).toBe('2026-01-05T00:00:30.000Z');
    expect(parseSchedule('1.00:00:00').next(at('2026-01-05T00:00:00Z')).toISOString()).toBe(
      '2026-01-06T00:00:00.000Z',
    );
  });

  it('rejects what NCRONTAB does not accept', () => {
    expect(() => parseSchedule('0 0 * * ? *')).toThrow(ScheduleError);
    expect(() => parseSchedule('* * *')).toThrow(/6 fields/);
    expect(() => parseSchedule('0 0 99 * * *')).toThrow(ScheduleError);
  });

  it('turns the monitor off by default for schedules firing more than once a minute', () => {
    const from = at('2026-01-05T00:00:00Z');
    expect(defaultUseMonitor(parseSchedule('*/10 * * * * *'), from)).toBe(false);
    expect(defaultUseMonitor(parseSchedule('0 */5 * * * *'), from)).toBe(true);
  });
});
