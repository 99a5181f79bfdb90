import { EventType, type HistoryEvent } from './history.js';

/**
 * Turns the action list a replay produced into the work the host must start, numbering it exactly as
 * durable-functions 3.5.0 does (durable-host-protocol.md §4.5): one counter per execution; every leaf of a
 * newly yielded action takes the next id depth-first; external-event waits and continueAsNew take none;
 * a failed retry attempt takes one id for its retry timer and a fired retry timer one id for the next
 * attempt. The host delivers one new message per episode, so these dynamic ids always precede the ids of
 * the actions user code yields in the same episode. Written by hand: no library models this contract.
 */

/** `RetryOptions` as the SDK serializes them. */
export interface RetryOptions {
  firstRetryIntervalInMilliseconds: number;
  maxNumberOfAttempts: number;
  backoffCoefficient?: number;
  maxRetryIntervalInMilliseconds?: number;
  retryTimeoutInMilliseconds?: number;
}

/** One entry of the SDK's action list (`IAction`), as JSON. */
export interface OrchestratorAction {
  actionType: number;
  functionName?: string;
  input?: unknown;
  instanceId?: string;
  version?: string;
  fireAt?: string;
  isCanceled?: boolean;
  externalEventName?: string;
  retryOptions?: RetryOptions;
  compoundActions?: OrchestratorAction[];
}

/** SDK `ActionType` numbers (§4.4). */
export const ActionType = {
  CallActivity: 0,
  CallActivityWithRetry: 1,
  CallSubOrchestrator: 2,
  CallSubOrchestratorWithRetry: 3,
  ContinueAsNew: 4,
  CreateTimer: 5,
  WaitForExternalEvent: 6,
  CallEntity: 7,
  CallHttp: 8,
  SignalEntity: 9,
  WhenAny: 11,
  WhenAll: 12,
  LockEntities: 13,
  ReleaseEntities: 14,
} as const;

/** Work the host started for an id and has not seen finish. */
export type OpenTask =
  | { kind: 'activity'; name: string; retryGroup?: number }
  | { kind: 'suborch'; name: string; instanceId: string; retryGroup?: number }
  | { kind: 'timer'; fireAt: string; retryGroup?: number; finalRetryTimer?: boolean };

/** Bookkeeping of one `callActivityWithRetry` / `callSubOrchestratorWithRetry`, keyed by its first id. */
export interface RetryGroup {
  kind: 'activity' | 'suborch';
  name: string;
  input: unknown;
  instanceId?: string;
  options: RetryOptions;
  /** Attempts started so far. */
  attempts: number;
}

/** Per-execution numbering state, persisted with the history so a restarted host continues it. */
export interface ExecutionBook {
  nextId: number;
  /** First id of each top-level action already numbered, by action index. */
  actionFirstIds: number[];
  open: Record<string, OpenTask>;
  retries: Record<string, RetryGroup>;
}

/** Something the host must start now. */
export type ScheduledWork =
  | { id: number; kind: 'activity'; name: string; input: unknown; retryGroup?: number }
  | {
      id: number;
      kind: 'suborch';
      name: string;
      instanceId: string | undefined;
      input: unknown;
      retryGroup?: number;
    }
  | { id: number; kind: 'timer'; fireAt: Date; retryGroup?: number; finalRetryTimer?: boolean };

/** Result of planning one episode. */
export interface EpisodePlan {
  scheduled: ScheduledWork[];
  canceledTimers: number[];
  continueAsNew?: { input: unknown };
  /** Set when the replay broke determinism or used a feature the local host lacks; the instance fails. */
  failure?: { message: string; errorType: string };
}

/** A fresh book for a new execution. */
export function newExecutionBook(): ExecutionBook {
  return { nextId: 0, actionFirstIds: [], open: {}, retries: {} };
}

const ndPrefix = 'Non-Deterministic workflow detected: ';
const ndSuffix =
  ' Was a change made to the orchestrator code after this instance had already started running?';

interface LeafSignature {
  kind: 'activity' | 'suborch' | 'timer';
  name?: string;
}

function describe(sig: LeafSignature): string {
  if (sig.kind === 'activity') return `an activity task named '${sig.name}'`;
  if (sig.kind === 'suborch') return `a sub-orchestration named '${sig.name}'`;
  return 'a timer task';
}

/** The kind of a numbered leaf, or undefined for leaves that take no id. */
function leafSignature(action: OrchestratorAction): LeafSignature | undefined {
  switch (action.actionType) {
    case ActionType.CallActivity:
    case ActionType.CallActivityWithRetry:
      return { kind: 'activity', name: action.functionName ?? '' };
    case ActionType.CallSubOrchestrator:
    case ActionType.CallSubOrchestratorWithRetry:
      return { kind: 'suborch', name: action.functionName ?? '' };
    case ActionType.CreateTimer:
      return { kind: 'timer' };
    default:
      return undefined;
  }
}

function leaves(action: OrchestratorAction, out: OrchestratorAction[] = []): OrchestratorAction[] {
  if (action.actionType === ActionType.WhenAll || action.actionType === ActionType.WhenAny) {
    for (const child of action.compoundActions ?? []) leaves(child, out);
  } else {
    out.push(action);
  }
  return out;
}

/** What the history says each id was scheduled as (TaskScheduled, SubOrchestrationInstanceCreated, TimerCreated). */
export function scheduledSignatures(history: readonly HistoryEvent[]): Map<number, LeafSignature> {
  const map = new Map<number, LeafSignature>();
  for (const e of history) {
    if (e.EventType === EventType.TaskScheduled)
      map.set(e.EventId, { kind: 'activity', name: String(e.Name) });
    else if (e.EventType === EventType.SubOrchestrationInstanceCreated)
      map.set(e.EventId, { kind: 'suborch', name: String(e.Name) });
    else if (e.EventType === EventType.TimerCreated) map.set(e.EventId, { kind: 'timer' });
  }
  return map;
}

/** DTFx `RetryInterceptor.ComputeNextDelay` with `retryCount` starting at 0. */
export function retryDelayMs(options: RetryOptions, retryCount: number): number {
  const coefficient = options.backoffCoefficient ?? 1;
  const max = options.maxRetryIntervalInMilliseconds ?? 6 * 24 * 3600 * 1000;
  return Math.min(options.firstRetryIntervalInMilliseconds * coefficient ** retryCount, max);
}

/**
 * Applies the delivered message to the book before the new actions are numbered: closes the completed
 * task and allocates the ids the SDK takes dynamically for retries. Mutates `book`.
 */
export function applyDeliveredEvent(book: ExecutionBook, event: HistoryEvent, now: Date): ScheduledWork[] {
  const key =
    event.EventType === EventType.TimerFired
      ? event.TimerId
      : event.EventType === EventType.TaskCompleted ||
          event.EventType === EventType.TaskFailed ||
          event.EventType === EventType.SubOrchestrationInstanceCompleted ||
          event.EventType === EventType.SubOrchestrationInstanceFailed
        ? event.TaskScheduledId
        : undefined;
  if (typeof key !== 'number') return [];
  const task = book.open[key];
  if (!task) return [];
  delete book.open[key];
  const group = task.retryGroup !== undefined ? book.retries[task.retryGroup] : undefined;
  if (!group || task.retryGroup === undefined) return [];
  const failed =
    event.EventType === EventType.TaskFailed || event.EventType === EventType.SubOrchestrationInstanceFailed;
  if (failed) {
    const last = group.attempts >= group.options.maxNumberOfAttempts;
    // After the last attempt DTFx still schedules a timer that fires at once; the SDK waits for it
    // before it surfaces the error (§4.9).
    const fireAt = last ? now : new Date(now.getTime() + retryDelayMs(group.options, group.attempts - 1));
    const id = book.nextId++;
    book.open[id] = {
      kind: 'timer',
      fireAt: fireAt.toISOString(),
      retryGroup: task.retryGroup,
      finalRetryTimer: last,
    };
    return [{ id, kind: 'timer', fireAt, retryGroup: task.retryGroup, finalRetryTimer: last }];
  }
  if (event.EventType === EventType.TimerFired && task.kind === 'timer' && !task.finalRetryTimer) {
    const id = book.nextId++;
    group.attempts += 1;
    return [openWork(book, id, group, task.retryGroup)];
  }
  return [];
}

function openWork(book: ExecutionBook, id: number, group: RetryGroup, retryGroup: number): ScheduledWork {
  if (group.kind === 'activity') {
    book.open[id] = { kind: 'activity', name: group.name, retryGroup };
    return { id, kind: 'activity', name: group.name, input: group.input, retryGroup };
  }
  const instanceId = group.instanceId;
  book.open[id] = { kind: 'suborch', name: group.name, instanceId: instanceId ?? '', retryGroup };
  return { id, kind: 'suborch', name: group.name, instanceId, input: group.input, retryGroup };
}

const unsupported: Record<number, string> = {
  [ActionType.CallEntity]: 'entity calls',
  [ActionType.SignalEntity]: 'entity signals',
  [ActionType.LockEntities]: 'entity locks',
  [ActionType.ReleaseEntities]: 'entity locks',
  [ActionType.CallHttp]: 'callHttp',
};

/**
 * Checks the replayed actions against what earlier episodes scheduled (DTFx non-determinism rules, §4.6)
 * and numbers the actions yielded for the first time. Mutates `book` (ids, open tasks, retry groups).
 */
export function planActions(
  book: ExecutionBook,
  actions: readonly OrchestratorAction[],
  /** The history to check replayed actions against; undefined when nothing was replayed. */
  history: readonly HistoryEvent[] | undefined,
  now: Date,
): EpisodePlan {
  const plan: EpisodePlan = { scheduled: [], canceledTimers: [] };
  const known = book.actionFirstIds.length;
  const signatures = known > 0 && history ? scheduledSignatures(history) : new Map<number, LeafSignature>();
  if (actions.length < known) {
    const firstMissing = book.actionFirstIds[actions.length] ?? 0;
    const sig = signatures.get(firstMissing);
    if (sig) {
      plan.failure = {
        errorType: 'NonDeterministicOrchestrationException',
        message:
          `${ndPrefix}A previous execution of this orchestration scheduled ${describe(sig)} with sequence ID ` +
          `${firstMissing}${sig.name !== undefined ? ` and name '${sig.name}' (version '')` : ''}, but the ` +
          `current replay execution hasn't (yet?) scheduled this task.${ndSuffix}`,
      };
      return plan;
    }
  }
  for (let index = 0; index < actions.length; index++) {
    const action = actions[index]!;
    const actionLeaves = leaves(action);
    for (const leaf of actionLeaves) {
      const what = unsupported[leaf.actionType];
      if (what) {
        plan.failure = {
          errorType: 'NotSupportedException',
          message: `The local durable task hub does not support ${what} (action type ${leaf.actionType}).`,
        };
        return plan;
      }
    }
    if (index < known) {
      let id = book.actionFirstIds[index]!;
      for (const leaf of actionLeaves) {
        const actual = leafSignature(leaf);
        if (!actual) continue;
        const expected = signatures.get(id);
        const mismatch =
          history !== undefined &&
          (!expected ||
            expected.kind !== actual.kind ||
            (expected.name ?? '').toLowerCase() !== (actual.name ?? '').toLowerCase());
        if (mismatch) {
          plan.failure = {
            errorType: 'NonDeterministicOrchestrationException',
            message: expected
              ? expected.kind === actual.kind
                ? `${ndPrefix}A previous execution of this orchestration scheduled ${describe(expected)} with ` +
                  `sequence number ${id}, but the current orchestration replay instead scheduled ` +
                  `${describe(actual)} with this sequence number.${ndSuffix}`
                : `${ndPrefix}A previous execution of this orchestration scheduled ${describe(expected)} with ` +
                  `sequence number ${id}, but the current orchestration replay instead produced ` +
                  `${describe(actual)} with this sequence number.${ndSuffix}`
              : `${ndPrefix}The current orchestration replay produced ${describe(actual)} with sequence number ` +
                `${id}, which a previous execution of this orchestration never scheduled.${ndSuffix}`,
          };
          return plan;
        }
        if (leaf.actionType === ActionType.CreateTimer && leaf.isCanceled && book.open[id]) {
          delete book.open[id];
          plan.canceledTimers.push(id);
        }
        id++;
      }
      continue;
    }
    book.actionFirstIds.push(book.nextId);
    for (const leaf of actionLeaves) {
      if (leaf.actionType === ActionType.ContinueAsNew) {
        plan.continueAsNew = { input: leaf.input };
        continue;
      }
      if (!leafSignature(leaf)) continue;
      const id = book.nextId++;
      plan.scheduled.push(numberLeaf(book, id, leaf, now));
    }
  }
  return plan;
}

function numberLeaf(book: ExecutionBook, id: number, leaf: OrchestratorAction, now: Date): ScheduledWork {
  const name = leaf.functionName ?? '';
  switch (leaf.actionType) {
    case ActionType.CallActivity:
      book.open[id] = { kind: 'activity', name };
      return { id, kind: 'activity', name, input: leaf.input };
    case ActionType.CallActivityWithRetry:
    case ActionType.CallSubOrchestratorWithRetry: {
      const group: RetryGroup = {
        kind: leaf.actionType === ActionType.CallActivityWithRetry ? 'activity' : 'suborch',
        name,
        input: leaf.input,
        ...(leaf.instanceId !== undefined ? { instanceId: leaf.instanceId } : {}),
        options: leaf.retryOptions ?? { firstRetryIntervalInMilliseconds: 1000, maxNumberOfAttempts: 1 },
        attempts: 1,
      };
      book.retries[id] = group;
      return openWork(book, id, group, id);
    }
    case ActionType.CallSubOrchestrator:
      book.open[id] = { kind: 'suborch', name, instanceId: leaf.instanceId ?? '' };
      return { id, kind: 'suborch', name, instanceId: leaf.instanceId, input: leaf.input };
    default: {
      const fireAt = leaf.fireAt ? new Date(leaf.fireAt) : now;
      if (!leaf.isCanceled) book.open[id] = { kind: 'timer', fireAt: fireAt.toISOString() };
      return { id, kind: 'timer', fireAt };
    }
  }
}

/** True while a task the host must wait for is open (cancelled timers and event waits do not count, §4.7). */
export function hasOpenTasks(book: ExecutionBook): boolean {
  return Object.keys(book.open).length > 0;
}
