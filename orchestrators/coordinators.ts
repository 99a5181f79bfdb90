import type * as df from 'durable-functions';
import {
  ActivityName,
  type DatasetRef,
  type NotifyInput,
  type ReleaseInput,
  type TrainingRunInput,
} from '../activities/contracts.js';
import { compareVersions } from './ids.js';
import { ExternalEvent, OrchestratorName, releaseInstanceId } from './names.js';
import { secondsFromNow } from './steps.js';

/** Work for the training coordinator: one arrival (a blob, a drift event, a schedule, an HTTP start). */
export interface TrainingRequest {
  /** Instance id for the run this request starts (chosen by the trigger from the work itself). */
  runId: string;
  /** Identifies the arrival (blob path + eTag, event id): a repeat is ignored. */
  dedupeKey: string;
  run: TrainingRunInput;
  /** Arrivals within this many seconds of the first are trained together in one run. */
  quietWindowSeconds: number;
}

export interface TrainingCoordinatorState {
  modelName: string;
  pending: TrainingRequest[];
  /** Recent dedupe keys, newest last, bounded. */
  seen: string[];
  runs: number;
}

/** Work for the release coordinator: one model version to release. */
export interface ReleaseRequest {
  release: ReleaseInput;
  /** The event that asked (duplicates share it). */
  dedupeKey: string;
}

export interface ReleaseCoordinatorState {
  endpointName: string;
  pending: ReleaseRequest[];
  /** Newest version released or attempted; older requests are superseded. */
  lastVersion?: string;
  seen: string[];
  releases: number;
}

const maxSeen = 500;
// Keep each execution's history short: an eternal orchestration restarts itself after this many runs.
const runsPerExecution = 10;

function remember(seen: string[], key: string): void {
  seen.push(key);
  if (seen.length > maxSeen) seen.splice(0, seen.length - maxSeen);
}

/**
 * The coordinator's `work` events. The SDK hands an event to any waiter still open, even one that lost a
 * race, so exactly one waiter is kept open at a time and replaced only once it has its event.
 */
class WorkInbox {
  #waiter: df.Task | undefined;

  constructor(private readonly context: df.OrchestrationContext) {}

  /** The open waiter for the next `work` event. */
  next(): df.Task {
    if (!this.#waiter || this.#waiter.isCompleted) {
      this.#waiter = this.context.df.waitForExternalEvent(ExternalEvent.work);
    }
    return this.#waiter;
  }

  /** Waits for work until `until`; returns the event's data, or undefined when the time came first. */
  *takeUntil(until: Date): Generator<df.Task, unknown, unknown> {
    const work = this.next();
    const timer = this.context.df.createTimer(until);
    const winner = yield this.context.df.Task.any([work, timer]);
    if (winner !== work) return undefined;
    if (!timer.isCompleted) timer.cancel();
    return work.result;
  }

  /** Takes every event already waiting, without blocking (buffered events beat a timer due now). */
  *drain<T>(accept: (item: T) => void): Generator<df.Task, void, unknown> {
    for (;;) {
      const item = yield* this.takeUntil(this.context.df.currentUtcDateTime);
      if (item === undefined) return;
      accept(item as T);
    }
  }
}

function mergeDatasets(requests: TrainingRequest[]): DatasetRef {
  const first = requests[0]!.run.dataset;
  if (requests.some((r) => !r.run.dataset.blobs)) return { container: first.container, prefix: first.prefix };
  const blobs = [...new Set(requests.flatMap((r) => r.run.dataset.blobs ?? []))].sort();
  return { container: first.container, prefix: first.prefix, blobs };
}

/**
 * One training at a time per model. Arrivals within the quiet window of the first are merged into one run;
 * repeats of the same arrival (same blob eTag, same event id) are ignored.
 */
export function* trainingCoordinator(context: df.OrchestrationContext): Generator<df.Task, void, unknown> {
  const state = context.df.getInput() as TrainingCoordinatorState;
  const inbox = new WorkInbox(context);
  const accept = (request: TrainingRequest) => {
    if (
      state.seen.includes(request.dedupeKey) ||
      state.pending.some((p) => p.dedupeKey === request.dedupeKey)
    )
      return;
    state.pending.push(request);
  };

  for (let i = 0; i < runsPerExecution; i++) {
    if (state.pending.length === 0) {
      context.df.setCustomStatus({ state: 'idle', runs: state.runs });
      accept((yield inbox.next()) as TrainingRequest);
      if (state.pending.length === 0) continue;
    }
    const first = state.pending[0]!;
    context.df.setCustomStatus({ state: 'collecting', runId: first.runId, arrivals: state.pending.length });
    const quietEnds = secondsFromNow(context, first.quietWindowSeconds);
    for (;;) {
      const item = yield* inbox.takeUntil(quietEnds);
      if (item === undefined) break;
      accept(item as TrainingRequest);
    }
    const batch = state.pending.splice(0, state.pending.length);
    for (const r of batch) remember(state.seen, r.dedupeKey);
    const run: TrainingRunInput = { ...first.run, dataset: mergeDatasets(batch) };
    context.df.setCustomStatus({ state: 'training', runId: first.runId, arrivals: batch.length });
    try {
      yield context.df.callSubOrchestrator(OrchestratorName.trainingSaga, run, first.runId);
    } catch {
      // The run recorded its own failure; the coordinator goes on with the next arrivals.
    }
    state.runs += 1;
    yield* inbox.drain(accept);
  }
  context.df.continueAsNew(state);
}

/**
 * One release at a time per endpoint. While a release runs, newer versions wait and go next (only the
 * newest); older ones and repeats are skipped as superseded.
 */
export function* releaseCoordinator(context: df.OrchestrationContext): Generator<df.Task, void, unknown> {
  const state = context.df.getInput() as ReleaseCoordinatorState;
  const inbox = new WorkInbox(context);
  const accept = (request: ReleaseRequest) => {
    if (state.seen.includes(request.dedupeKey)) return;
    remember(state.seen, request.dedupeKey);
    state.pending.push(request);
  };

  for (let i = 0; i < runsPerExecution; i++) {
    if (state.pending.length === 0) {
      context.df.setCustomStatus({ state: 'idle', releases: state.releases, lastVersion: state.lastVersion });
      accept((yield inbox.next()) as ReleaseRequest);
      if (state.pending.length === 0) continue;
    }
    state.pending.sort((a, b) => compareVersions(a.release.model.version, b.release.model.version));
    const next = state.pending.pop()!;
    const superseded = state.pending.splice(0, state.pending.length);
    const last = state.lastVersion;
    if (last !== undefined && compareVersions(next.release.model.version, last) <= 0) superseded.push(next);
    for (const skipped of superseded) {
      const note: NotifyInput = {
        runId: releaseInstanceId(skipped.release.model.name, skipped.release.model.version),
        kind: 'release',
        event: 'release.superseded',
        message: `${skipped.release.model.name}:${skipped.release.model.version} skipped: a newer version (${
          skipped === next ? last : next.release.model.version
        }) was released or is next`,
      };
      yield context.df.callActivity(ActivityName.notify, note);
    }
    if (superseded.includes(next)) continue;

    state.lastVersion = next.release.model.version;
    context.df.setCustomStatus({ state: 'releasing', version: state.lastVersion, releases: state.releases });
    try {
      yield context.df.callSubOrchestrator(
        OrchestratorName.releaseSaga,
        next.release,
        releaseInstanceId(next.release.model.name, next.release.model.version),
      );
    } catch {
      // The release recorded its own failure and rolled back; the coordinator goes on.
    }
    state.releases += 1;
    yield* inbox.drain(accept);
  }
  context.df.continueAsNew(state);
}
