/**
 * Durable Task history events as the JS SDK reads them: DTFx `[DataContract]` classes serialized by
 * Newtonsoft (PascalCase, `EventType` as a number, timestamps with 7 fractional digits).
 */

/** DTFx `EventType` numbers (durable-host-protocol.md §3.3). */
export const EventType = {
  ExecutionStarted: 0,
  ExecutionCompleted: 1,
  ExecutionFailed: 2,
  ExecutionTerminated: 3,
  TaskScheduled: 4,
  TaskCompleted: 5,
  TaskFailed: 6,
  SubOrchestrationInstanceCreated: 7,
  SubOrchestrationInstanceCompleted: 8,
  SubOrchestrationInstanceFailed: 9,
  TimerCreated: 10,
  TimerFired: 11,
  OrchestratorStarted: 12,
  OrchestratorCompleted: 13,
  EventSent: 14,
  EventRaised: 15,
  ContinueAsNew: 16,
  GenericEvent: 17,
  HistoryState: 18,
  ExecutionSuspended: 19,
  ExecutionResumed: 20,
} as const;
export type EventTypeNumber = (typeof EventType)[keyof typeof EventType];

/** Event type names by number, for the status API (`historyEvents` uses names). */
export const eventTypeName: Record<number, string> = Object.fromEntries(
  Object.entries(EventType).map(([name, n]) => [n, name]),
);

/** DTFx `OrchestrationStatus` numbers. */
export const OrchestrationStatus = {
  Running: 0,
  Completed: 1,
  ContinuedAsNew: 2,
  Failed: 3,
  Canceled: 4,
  Terminated: 5,
  Pending: 6,
  Suspended: 7,
} as const;
export type RuntimeStatus = keyof typeof OrchestrationStatus;

/** Statuses after which an instance never runs again (until restarted or overwritten). */
export const terminalStatuses: ReadonlySet<RuntimeStatus> = new Set([
  'Completed',
  'Failed',
  'Terminated',
  'Canceled',
]);

/** One history event; type-specific fields are PascalCase as DTFx serializes them. */
export interface HistoryEvent {
  EventType: EventTypeNumber;
  EventId: number;
  IsPlayed: boolean;
  Timestamp: string;
  [field: string]: unknown;
}

/** DTFx `FailureDetails`. */
export interface FailureDetails {
  ErrorType: string;
  ErrorMessage: string;
  StackTrace?: string | null;
  InnerFailure?: FailureDetails | null;
  IsNonRetriable?: boolean;
  Properties?: Record<string, unknown> | null;
}

/** .NET `DateTime` round-trip format ("o"): 7 fractional digits, UTC. */
export function dotNetTimestamp(date: Date): string {
  return date.toISOString().replace(/\.(\d{3})Z$/, '.$10000Z');
}

function base(type: EventTypeNumber, at: Date, eventId = -1): HistoryEvent {
  return { EventType: type, EventId: eventId, IsPlayed: false, Timestamp: dotNetTimestamp(at) };
}

/** Parent reference stored on a sub-orchestration's ExecutionStarted event. */
export interface ParentInstance {
  Name: string;
  Version: string;
  OrchestrationInstance: { InstanceId: string; ExecutionId: string };
  TaskScheduleId: number;
}

/** Constructors for the events the host writes. */
export const events = {
  orchestratorStarted: (at: Date) => base(EventType.OrchestratorStarted, at),
  orchestratorCompleted: (at: Date) => base(EventType.OrchestratorCompleted, at),
  executionStarted: (
    at: Date,
    p: {
      instanceId: string;
      executionId: string;
      name: string;
      input: string;
      parent: ParentInstance | null;
    },
  ): HistoryEvent => ({
    OrchestrationInstance: { InstanceId: p.instanceId, ExecutionId: p.executionId },
    ...base(EventType.ExecutionStarted, at),
    ParentInstance: p.parent,
    Name: p.name,
    Version: '',
    Input: p.input,
    Tags: null,
  }),
  executionCompleted: (
    at: Date,
    eventId: number,
    status: number,
    result: string | null,
    failure?: FailureDetails,
  ): HistoryEvent => ({
    ...base(EventType.ExecutionCompleted, at, eventId),
    OrchestrationStatus: status,
    Result: result,
    FailureDetails: failure ?? null,
  }),
  executionTerminated: (at: Date, reason: string | null): HistoryEvent => ({
    ...base(EventType.ExecutionTerminated, at),
    Input: reason,
  }),
  executionSuspended: (at: Date, reason: string | null): HistoryEvent => ({
    ...base(EventType.ExecutionSuspended, at),
    Reason: reason,
  }),
  executionResumed: (at: Date, reason: string | null): HistoryEvent => ({
    ...base(EventType.ExecutionResumed, at),
    Reason: reason,
  }),
  taskScheduled: (at: Date, id: number, name: string, input: string | null): HistoryEvent => ({
    ...base(EventType.TaskScheduled, at, id),
    Name: name,
    Version: '',
    Input: input,
  }),
  taskCompleted: (at: Date, scheduledId: number, result: string | null): HistoryEvent => ({
    ...base(EventType.TaskCompleted, at),
    TaskScheduledId: scheduledId,
    Result: result,
  }),
  taskFailed: (at: Date, scheduledId: number, reason: string, details: string, failure?: FailureDetails) => ({
    ...base(EventType.TaskFailed, at),
    TaskScheduledId: scheduledId,
    Reason: reason,
    Details: details,
    ...(failure ? { FailureDetails: failure } : {}),
  }),
  subOrchestrationCreated: (
    at: Date,
    id: number,
    name: string,
    instanceId: string,
    input: string | null,
  ): HistoryEvent => ({
    ...base(EventType.SubOrchestrationInstanceCreated, at, id),
    Name: name,
    Version: '',
    InstanceId: instanceId,
    Input: input,
  }),
  subOrchestrationCompleted: (at: Date, scheduledId: number, result: string | null): HistoryEvent => ({
    ...base(EventType.SubOrchestrationInstanceCompleted, at),
    TaskScheduledId: scheduledId,
    Result: result,
  }),
  subOrchestrationFailed: (
    at: Date,
    scheduledId: number,
    reason: string,
    details: string,
    failure?: FailureDetails,
  ): HistoryEvent => ({
    ...base(EventType.SubOrchestrationInstanceFailed, at),
    TaskScheduledId: scheduledId,
    Reason: reason,
    Details: details,
    ...(failure ? { FailureDetails: failure } : {}),
  }),
  timerCreated: (at: Date, id: number, fireAt: Date): HistoryEvent => ({
    ...base(EventType.TimerCreated, at, id),
    FireAt: dotNetTimestamp(fireAt),
  }),
  timerFired: (at: Date, timerId: number, fireAt: string): HistoryEvent => ({
    ...base(EventType.TimerFired, at),
    TimerId: timerId,
    FireAt: fireAt,
  }),
  eventRaised: (at: Date, name: string, input: string | null): HistoryEvent => ({
    ...base(EventType.EventRaised, at),
    Name: name,
    Input: input,
  }),
};
