import type * as df from 'durable-functions';
import { activityFailurePrefix, type ActivityFailure, type RetryPolicy } from '../activities/contracts.js';
import { secondsFromNow } from './steps.js';

/** An activity failed: its code and transience as the activity raised them (see ActivityFailure). */
export class ActivityFailedError extends Error {
  readonly code: string;
  readonly transient: boolean;

  constructor(
    readonly activity: string,
    failure: ActivityFailure,
    readonly attempts: number,
  ) {
    super(`${failure.code}: ${failure.message}${attempts > 1 ? ` (${activity}, ${attempts} attempts)` : ''}`);
    this.code = failure.code;
    this.transient = failure.transient;
  }
}

function isFailure(value: unknown): value is ActivityFailure {
  const v = value as Partial<ActivityFailure> | null;
  return (
    typeof v === 'object' &&
    v !== null &&
    typeof v.code === 'string' &&
    typeof v.transient === 'boolean' &&
    typeof v.message === 'string'
  );
}

/**
 * The ActivityFailure in an error that crossed the Durable boundary, if it carries one. Hosts wrap the
 * activity's message in their own text ("Activity function 'x' failed: ... \n {details}"); the envelope is
 * the one line of JSON after the prefix.
 */
export function activityFailureOf(err: unknown): ActivityFailure | undefined {
  const text = err instanceof Error ? err.message : typeof err === 'string' ? err : '';
  const at = text.indexOf(activityFailurePrefix);
  if (at < 0) return undefined;
  const line = (text.slice(at + activityFailurePrefix.length).split('\n')[0] ?? '').trim();
  for (const candidate of [line, line.slice(0, line.lastIndexOf('}') + 1)]) {
    try {
      const parsed: unknown = JSON.parse(candidate);
      if (isFailure(parsed)) return parsed;
    } catch {
      // Not this candidate; try the next.
    }
  }
  return undefined;
}

/**
 * Calls an activity; a transient failure is retried on durable timers as the policy allows, anything else
 * (and the last transient one) is thrown as an ActivityFailedError with the activity's code. DF's own
 * RetryOptions would retry every failure alike, permanent ones too.
 */
export function* callActivity<T>(
  context: df.OrchestrationContext,
  name: string,
  input: unknown,
  retry?: RetryPolicy,
): Generator<df.Task, T, unknown> {
  let delay = retry?.firstDelaySeconds ?? 0;
  for (let attempt = 1; ; attempt++) {
    try {
      return (yield context.df.callActivity(name, input)) as T;
    } catch (err) {
      const failure = activityFailureOf(err);
      if (!failure) throw err;
      if (!failure.transient || !retry || attempt >= retry.maxAttempts) {
        throw new ActivityFailedError(name, failure, attempt);
      }
      yield context.df.createTimer(secondsFromNow(context, delay));
      delay = Math.min(retry.maxDelaySeconds, delay * retry.backoffFactor);
    }
  }
}
