import { EventType, eventTypeName, type HistoryEvent } from './history.js';
import type { InstanceRecord } from './store.js';

/** Status body of the HTTP API (EXT `StatusResponsePayload`). */
export interface StatusBody {
  name: string;
  instanceId: string;
  runtimeStatus: string;
  input: unknown;
  customStatus: unknown;
  output: unknown;
  createdTime: string;
  lastUpdatedTime: string;
  historyEvents?: Record<string, unknown>[];
}

/** Stored JSON text as a JSON value; non-JSON text (e.g. a termination reason) stays a string (`ParseToJToken`). */
export function parseToken(text: string | null): unknown {
  if (text === null) return null;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

/** .NET "s" format plus Z: no fractional seconds. */
export function sortableTime(date: Date): string {
  return `${date.toISOString().slice(0, 19)}Z`;
}

/** The status body of an instance, with history folded the way the extension shows it when asked. */
export function statusBody(
  record: InstanceRecord,
  options: { showInput: boolean; history?: HistoryEvent[]; showHistoryOutput?: boolean },
): StatusBody {
  const body: StatusBody = {
    name: record.name,
    instanceId: record.instanceId,
    runtimeStatus: record.runtimeStatus,
    input: options.showInput ? parseToken(record.input) : null,
    customStatus: parseToken(record.customStatus),
    output: parseToken(record.output),
    createdTime: sortableTime(record.createdTime),
    lastUpdatedTime: sortableTime(record.lastUpdatedTime),
  };
  if (options.history) body.historyEvents = foldHistory(options.history, options);
  return body;
}

/**
 * EXT `GetDurableOrchestrationStatusAsync`: EventType as a name, no EventId/IsPlayed, no
 * OrchestratorStarted/Completed, TaskScheduled folded into its completion, Result only on request.
 */
export function foldHistory(
  history: readonly HistoryEvent[],
  options: { showInput: boolean; showHistoryOutput?: boolean },
): Record<string, unknown>[] {
  const scheduled = new Map<number, HistoryEvent>();
  for (const e of history) {
    if (
      e.EventType === EventType.TaskScheduled ||
      e.EventType === EventType.SubOrchestrationInstanceCreated
    ) {
      scheduled.set(e.EventId, e);
    }
  }
  const out: Record<string, unknown>[] = [];
  for (const e of history) {
    const type = e.EventType;
    if (
      type === EventType.OrchestratorStarted ||
      type === EventType.OrchestratorCompleted ||
      type === EventType.TaskScheduled
    ) {
      continue;
    }
    const { EventId: _id, IsPlayed: _played, EventType: _type, ...rest } = e;
    const view: Record<string, unknown> = { EventType: eventTypeName[type], ...rest };
    if (type === EventType.ExecutionStarted) {
      view.FunctionName = e.Name;
      for (const key of ['OrchestrationInstance', 'ParentInstance', 'Version', 'Tags', 'Name'])
        delete view[key];
      if (!options.showInput) delete view.Input;
    }
    if (type === EventType.TaskCompleted || type === EventType.TaskFailed) {
      const origin = scheduled.get(e.TaskScheduledId as number);
      if (origin) {
        view.FunctionName = origin.Name;
        view.ScheduledTime = origin.Timestamp;
        if (options.showInput) view.Input = origin.Input;
      }
    }
    if (type === EventType.TimerFired) delete view.TimerId;
    if (!options.showHistoryOutput) delete view.Result;
    out.push(view);
  }
  return out;
}
