import type * as df from 'durable-functions';
import type { GetJobStatusOutput, PollPolicy, RetryPolicy } from '../activities/contracts.js';
import {
  ActivityName,
  type NotifyInput,
  type RecordDecisionInput,
  type RunKind,
} from '../activities/contracts.js';
import { activityFailureOf, callActivity } from './activityCalls.js';
import { ExternalEvent } from './names.js';

/** One step of a saga as shown in its custom status and the dashboard. */
export interface StepRecord {
  name: string;
  status: 'running' | 'succeeded' | 'failed' | 'skipped';
  startedAt: string;
  endedAt?: string;
  detail?: string;
}

/** The custom status every saga publishes: where it is and what happened so far. */
export interface SagaStatus {
  step: string;
  progress?: string;
  steps: StepRecord[];
}

/** A saga was asked to stop by the `cancel` event. */
export class RunCanceledError extends Error {
  readonly code = 'RUN_CANCELED';
}

/** A step ended in a state the saga cannot continue from; the message says which and why. */
export class StepFailedError extends Error {
  readonly code = 'STEP_FAILED';
  constructor(
    readonly step: string,
    message: string,
  ) {
    super(message);
  }
}

/** Tracks step timings from the orchestration clock and publishes them as custom status. */
export class StepTracker {
  readonly steps: StepRecord[] = [];

  constructor(private readonly context: df.OrchestrationContext) {}

  /** Marks the running step done and starts `name`. */
  begin(name: string, progress?: string): void {
    this.#closeRunning('succeeded');
    this.steps.push({ name, status: 'running', startedAt: this.#now() });
    this.publish(progress);
  }

  /** Updates the progress text of the running step. */
  progress(text: string): void {
    this.publish(text);
  }

  /** Ends the running step with an outcome and a detail line. */
  end(status: StepRecord['status'], detail?: string): void {
    this.#closeRunning(status, detail);
    this.publish();
  }

  /** Records a step that was decided not to run. */
  skip(name: string, detail: string): void {
    const now = this.#now();
    this.steps.push({ name, status: 'skipped', startedAt: now, endedAt: now, detail });
    this.publish();
  }

  publish(progress?: string): void {
    const running = this.steps.findLast((s) => s.status === 'running');
    const status: SagaStatus = {
      step: running?.name ?? this.steps.at(-1)?.name ?? 'starting',
      steps: this.steps,
    };
    if (progress) status.progress = progress;
    this.context.df.setCustomStatus(status);
  }

  #closeRunning(status: StepRecord['status'], detail?: string): void {
    const running = this.steps.findLast((s) => s.status === 'running');
    if (!running) return;
    running.status = status;
    running.endedAt = this.#now();
    if (detail) running.detail = detail;
  }

  #now(): string {
    return this.context.df.currentUtcDateTime.toISOString();
  }
}

/** The orchestration time `seconds` from now (replay-safe: from the orchestration clock). */
export function secondsFromNow(context: df.OrchestrationContext, seconds: number): Date {
  return new Date(context.df.currentUtcDateTime.getTime() + seconds * 1000);
}

/**
 * Waits on a durable timer that a `cancel` event can interrupt; the losing timer is cancelled so the
 * instance can complete (an open timer keeps it Running).
 */
export function* sleepOrCancel(
  context: df.OrchestrationContext,
  cancelEvent: df.Task,
  seconds: number,
): Generator<df.Task, void, unknown> {
  const timer = context.df.createTimer(secondsFromNow(context, seconds));
  const winner = yield context.df.Task.any([timer, cancelEvent]);
  if (winner === cancelEvent) {
    if (!timer.isCompleted) timer.cancel();
    const data = cancelEvent.result as { reason?: string } | undefined;
    throw new RunCanceledError(data?.reason ? `canceled: ${data.reason}` : 'canceled by request');
  }
}

/** Polls a job until it reaches a terminal state, on timers with backoff, bounded by the policy's timeout. */
export function* waitForJob(
  context: df.OrchestrationContext,
  cancelEvent: df.Task,
  jobName: string,
  policy: PollPolicy,
  onProgress: (status: GetJobStatusOutput, elapsedSeconds: number) => void,
  retry?: RetryPolicy,
): Generator<df.Task, GetJobStatusOutput, unknown> {
  const startedAt = context.df.currentUtcDateTime.getTime();
  let delay = policy.initialDelaySeconds;
  for (;;) {
    const status: GetJobStatusOutput = yield* callActivity(
      context,
      ActivityName.getJobStatus,
      { jobName },
      retry,
    );
    const elapsed = (context.df.currentUtcDateTime.getTime() - startedAt) / 1000;
    onProgress(status, elapsed);
    if (status.terminal) return status;
    if (elapsed + delay > policy.timeoutSeconds) {
      throw new StepFailedError(
        jobName,
        `job ${jobName} did not finish within ${policy.timeoutSeconds} s (last status ${status.status})`,
      );
    }
    yield* sleepOrCancel(context, cancelEvent, delay);
    delay = Math.min(policy.maxDelaySeconds, delay * policy.backoffFactor);
  }
}

/** Records a run's outcome (with its steps) and notifies about it: the last two steps of every saga. */
export function* recordOutcome(
  context: df.OrchestrationContext,
  kind: RunKind,
  outcome: { status: string; reason: string },
  steps: StepTracker,
  properties: Record<string, string>,
  retry?: RetryPolicy,
): Generator<df.Task, void, unknown> {
  const runId = context.df.instanceId;
  const decision: RecordDecisionInput = {
    runId,
    kind,
    status: outcome.status,
    reason: outcome.reason,
    details: { ...outcome, steps: steps.steps },
  };
  yield* callActivity(context, ActivityName.recordDecision, decision, retry);
  const note: NotifyInput = {
    runId,
    kind,
    event: `${kind}.${outcome.status}`,
    message: outcome.reason,
    properties: { status: outcome.status, ...properties },
  };
  yield* callActivity(context, ActivityName.notify, note, retry);
}

/** The message of anything thrown, for run records (an activity's failure as `CODE: message`). */
export function describeError(err: unknown): string {
  const failure = activityFailureOf(err);
  if (failure) return `${failure.code}: ${failure.message}`;
  if (err instanceof Error) return err.message;
  return typeof err === 'string' ? err : JSON.stringify(err);
}

export { ExternalEvent };
