import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { resolveSettingPlaceholders } from '../config/settings.js';
import type { RegisteredFunction } from '../core/registry.js';
import type { HostContext, HostExtension } from '../extension.js';
import { invokeWithRetry } from './retry.js';
import { BlobScheduleMonitor, formatStatusTime, hostIdFrom, type ScheduleStatus } from './scheduleMonitor.js';
import { defaultUseMonitor, parseSchedule, type TimerSchedule } from './schedule.js';

/** `ScheduleMonitor.DefaultDateTime`: the `Last` of a timer that never ran. */
const neverRan = '0001-01-01T00:00:00+00:00';

interface TimerJob {
  fn: RegisteredFunction;
  schedule: TimerSchedule;
  runOnStartup: boolean;
  useMonitor: boolean;
  status: ScheduleStatus | undefined;
  /** Invocations of one timer run one after another (the real listener holds a semaphore). */
  queue: Promise<void>;
  loop: Promise<void> | undefined;
}

const isAbort = (err: unknown) => err instanceof Error && err.name === 'AbortError';

async function hostIdOf(ctx: HostContext): Promise<string> {
  const configured = ctx.settings.AzureFunctionsWebHost__hostid;
  if (configured) return hostIdFrom(configured);
  try {
    const pkg = JSON.parse(await readFile(path.join(ctx.appDir, 'package.json'), 'utf8')) as {
      name?: string;
    };
    return hostIdFrom(pkg.name ?? path.basename(ctx.appDir));
  } catch {
    return hostIdFrom(path.basename(ctx.appDir));
  }
}

/**
 * Built-in timer trigger extension: NCRONTAB / TimeSpan schedules on the host's Clock, `runOnStartup`, and
 * `useMonitor` status in blob storage so a restart after a missed occurrence runs once with `isPastDue`.
 * A failing invocation is logged and never stops its schedule.
 */
export function timerExtension(): HostExtension {
  const jobs = new Map<string, TimerJob>();
  const abort = new AbortController();
  let ctx: HostContext | undefined;
  let monitor: BlobScheduleMonitor | undefined;

  const saveStatus = async (job: TimerJob, status: ScheduleStatus) => {
    job.status = status;
    if (!job.useMonitor || !monitor) return;
    try {
      await monitor.update(job.fn.name, status);
    } catch (err) {
      // storage trouble must not stop the schedule; the next run writes again
      ctx?.logger.warn('Timer status not saved', { function: job.fn.name, error: (err as Error).message });
    }
  };

  const invokeOnce = async (job: TimerJob, isPastDue: boolean) => {
    if (!ctx) return;
    const invocationTime = ctx.clock.now();
    const timerInfo = {
      Schedule: { AdjustForDST: true },
      ScheduleStatus: job.useMonitor ? (job.status ?? null) : null,
      IsPastDue: isPastDue,
    };
    try {
      await invokeWithRetry(
        ctx.invoker,
        ctx.clock,
        job.fn,
        { triggerData: { json: JSON.stringify(timerInfo) } },
        abort.signal,
      );
    } catch (err) {
      // already logged by the host's invocation log; the schedule goes on
      ctx.logger.debug('Timer invocation failed; schedule continues', {
        function: job.fn.name,
        error: (err as Error).message,
      });
    }
    const now = ctx.clock.now();
    await saveStatus(job, {
      Last: formatStatusTime(invocationTime),
      Next: formatStatusTime(job.schedule.next(now)),
      LastUpdated: formatStatusTime(now),
    });
  };

  const enqueue = (job: TimerJob, isPastDue: boolean): Promise<void> => {
    const run = job.queue.then(() => invokeOnce(job, isPastDue));
    job.queue = run.catch(() => undefined);
    return run;
  };

  /** The real ScheduleMonitor.CheckPastDueAsync: past due when now is after the recorded (or recomputed) Next. */
  const checkPastDue = async (job: TimerJob, now: Date): Promise<boolean> => {
    if (!job.useMonitor || !monitor) return false;
    const stored = await monitor.get(job.fn.name);
    if (!stored) return false;
    const expected =
      stored.Last === neverRan ? new Date(stored.Next) : job.schedule.next(new Date(stored.Last));
    let status = stored;
    if (expected.getTime() !== new Date(stored.Next).getTime()) {
      // the schedule changed since the status was written
      status = { ...stored, Next: formatStatusTime(expected), LastUpdated: formatStatusTime(now) };
      await saveStatus(job, status);
    }
    job.status = status;
    return now.getTime() > new Date(status.Next).getTime();
  };

  const runLoop = async (job: TimerJob) => {
    if (!ctx) return;
    const { clock } = ctx;
    try {
      const pastDue = await checkPastDue(job, clock.now());
      if (pastDue) await enqueue(job, true);
      else if (job.runOnStartup) await enqueue(job, false);
      if (job.useMonitor && !job.status) {
        const now = clock.now();
        await saveStatus(job, {
          Last: neverRan,
          Next: formatStatusTime(job.schedule.next(now)),
          LastUpdated: formatStatusTime(now),
        });
      }
      while (!abort.signal.aborted) {
        // computed from "now" after the previous run, so an overrunning run skips occurrences, never queues them
        const next = job.schedule.next(clock.now());
        await clock.sleepUntil(next, abort.signal);
        await enqueue(job, false);
      }
    } catch (err) {
      if (isAbort(err)) return;
      ctx.logger.error('Timer stopped unexpectedly', {
        function: job.fn.name,
        error: (err as Error).message,
      });
    }
  };

  return {
    name: 'timer',
    triggerTypes: ['timerTrigger'],
    async init(context) {
      ctx = context;
      monitor = new BlobScheduleMonitor(context.storageConnectionString, await hostIdOf(context));
      for (const fn of context.registry.byTriggerType('timerTrigger')) {
        let schedule: TimerSchedule;
        try {
          schedule = parseSchedule(
            resolveSettingPlaceholders(String(fn.trigger.schedule ?? ''), context.settings),
          );
        } catch (err) {
          // like the Functions host: the function is reported and skipped, the rest of the app runs
          context.logger.error(`Timer "${fn.name}" is disabled: ${(err as Error).message}`, {
            function: fn.name,
          });
          continue;
        }
        const useMonitor =
          typeof fn.trigger.useMonitor === 'boolean'
            ? fn.trigger.useMonitor
            : defaultUseMonitor(schedule, context.clock.now());
        jobs.set(fn.name, {
          fn,
          schedule,
          runOnStartup: fn.trigger.runOnStartup === true,
          useMonitor,
          status: undefined,
          queue: Promise.resolve(),
          loop: undefined,
        });
      }
    },
    start() {
      for (const job of jobs.values()) job.loop = runLoop(job);
    },
    async stop() {
      abort.abort();
      await Promise.all(
        [...jobs.values()].flatMap((job) => (job.loop ? [job.loop, job.queue] : [job.queue])),
      );
    },
    describe(functionName) {
      const job = jobs.get(functionName);
      if (!job) return 'timerTrigger (disabled: bad schedule)';
      return `timerTrigger ${job.schedule.expression}${job.runOnStartup ? ' (runOnStartup)' : ''}`;
    },
    async manualInvoke(fn) {
      const job = jobs.get(fn.name);
      if (!job) throw new Error(`Timer "${fn.name}" is disabled.`);
      await enqueue(job, false);
    },
  };
}
