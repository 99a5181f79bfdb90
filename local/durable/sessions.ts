import type { RegisteredFunction } from '../core/registry.js';
import type { HistoryEvent } from './history.js';
import type { OrchestratorState } from './protocol.js';

/**
 * Extended sessions (host.json `extendedSessionsEnabled`): keep an orchestration's in-memory executor
 * between episodes and feed it only the new events, instead of replaying the whole history each time.
 * Like the real extension's extended sessions, a replay (and with it non-determinism detection) happens
 * only when the session is lost: host restart, eviction, or a failure on the cached path.
 *
 * This reaches into durable-functions 3.5.0 internals (`context.df.taskOrchestratorExecutor`, pinned in
 * package.json); written by hand because the SDK has no public API for it.
 */

/** The part of the SDK's TaskOrchestrationExecutor this module drives. */
interface CachedExecutor {
  processEvent(event: unknown): void;
  isDoneExecuting(): boolean;
  hasCompletedSuccessfully(): boolean;
  actions: unknown[];
  output: unknown;
  exception: unknown;
  schemaVersion: number;
  context: { customStatus?: unknown };
  _isReplaying: boolean;
}

function isExecutor(value: unknown): value is CachedExecutor {
  const v = value as Partial<CachedExecutor> | undefined;
  return (
    typeof v?.processEvent === 'function' &&
    typeof v.isDoneExecuting === 'function' &&
    Array.isArray(v.actions)
  );
}

/** Captures executors as orchestrations run and continues them with new events. */
export class SessionCache {
  readonly #captured = new Map<string, CachedExecutor>();
  /** Switch sessions off (e.g. to compare replay cost); kept executors are then not handed out. */
  enabled = true;

  /** Wraps an orchestration's callback so that the executor of each invocation can be kept. */
  wrap(fn: RegisteredFunction): void {
    const original = fn.callback;
    fn.callback = async (...args: unknown[]) => {
      const [trigger, context] = args as [
        { instanceId?: unknown },
        { df?: { taskOrchestratorExecutor?: unknown } },
      ];
      try {
        return await original(...args);
      } finally {
        const executor = context?.df?.taskOrchestratorExecutor;
        if (typeof trigger?.instanceId === 'string' && isExecutor(executor)) {
          this.#captured.set(trigger.instanceId, executor);
        }
      }
    };
  }

  /** The executor of the instance's last invocation, if it was captured (taken once). */
  take(instanceId: string): CachedExecutor | undefined {
    const executor = this.#captured.get(instanceId);
    this.#captured.delete(instanceId);
    return this.enabled ? executor : undefined;
  }

  /** Forgets a capture that will not be used (e.g. the episode ended the execution). */
  drop(instanceId: string): void {
    this.#captured.delete(instanceId);
  }
}

/**
 * Feeds new events to a kept executor, as `TaskOrchestrationExecutor.execute` would for the tail of the
 * history, and returns the OrchestratorState exactly as it would travel as JSON. Throws if the SDK does.
 */
export function continueSession(
  executor: CachedExecutor,
  newEvents: readonly HistoryEvent[],
): OrchestratorState {
  for (const event of newEvents) {
    // Orchestrator.handle turns every string Timestamp into a Date before the executor sees it.
    executor._isReplaying = false;
    executor.processEvent({ ...event, Timestamp: new Date(event.Timestamp) });
    if (executor.isDoneExecuting()) break;
  }
  const exception = executor.exception as { message?: string } | undefined;
  const customStatus = executor.context.customStatus;
  const state = {
    isDone: executor.hasCompletedSuccessfully(),
    actions: executor.actions.length === 0 ? [[]] : [executor.actions],
    output: executor.output,
    ...(exception !== undefined ? { error: exception?.message } : {}),
    // The SDK serializes customStatus only when truthy (§4.2).
    ...(customStatus ? { customStatus } : {}),
    schemaVersion: executor.schemaVersion,
  };
  return JSON.parse(JSON.stringify(state)) as OrchestratorState;
}
