/**
 * Reads the activity calls out of an orchestration's history as the durable client returns it with
 * `showHistory` and `showHistoryOutput` (the extension's folded view: one TaskCompleted/TaskFailed per call,
 * carrying FunctionName and ScheduledTime; calls still in flight do not appear).
 */

/** One activity call of a run. */
export interface ActivityCall {
  name: string;
  /** When the orchestrator scheduled the call. */
  startedAt: string;
  /** When its result (or failure) was recorded. */
  endedAt: string;
  outcome: 'succeeded' | 'failed';
  /** 1 for a first call; n when the same call (name and input) follows n-1 failed ones. */
  attempt: number;
  error?: string;
  /** The call's input, when the history carries it. */
  input?: unknown;
  /** The activity's return value (showHistoryOutput). */
  result?: unknown;
}

type HistoryEvent = Record<string, unknown>;

const text = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);

/** History values are JSON text in some hosts and parsed JSON in others; this gives parsed JSON either way. */
export function parseValue(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  try {
    return JSON.parse(value) as unknown;
  } catch {
    return value;
  }
}

/** The JS SDK schedules an activity with its input wrapped in a one-element array. */
function activityInput(value: unknown): unknown {
  return Array.isArray(value) && value.length === 1 ? (value[0] as unknown) : value;
}

/** The ISO form of a history timestamp (7 fractional digits from .NET become 3). */
function isoTime(value: unknown): string | undefined {
  const raw = text(value);
  if (!raw) return undefined;
  const ms = Date.parse(raw);
  return Number.isNaN(ms) ? undefined : new Date(ms).toISOString();
}

function failureMessage(event: HistoryEvent): string {
  const details = event.FailureDetails as { ErrorMessage?: unknown } | undefined;
  return text(details?.ErrorMessage) ?? text(event.Reason) ?? text(event.Details) ?? 'failed';
}

/** The activity calls of a history, in the order they completed. */
export function activityCalls(history: readonly unknown[] | undefined): ActivityCall[] {
  const calls: ActivityCall[] = [];
  /** Failed attempts in a row per call signature, to number retries. */
  const failedInARow = new Map<string, number>();
  for (const raw of history ?? []) {
    const event = raw as HistoryEvent;
    const type = event.EventType;
    if (type !== 'TaskCompleted' && type !== 'TaskFailed') continue;
    const name = text(event.FunctionName);
    const endedAt = isoTime(event.Timestamp);
    if (!name || !endedAt) continue;
    const input = 'Input' in event ? activityInput(parseValue(event.Input)) : undefined;
    const signature = `${name}\u0000${input === undefined ? '' : JSON.stringify(input)}`;
    const failedBefore = failedInARow.get(signature) ?? 0;
    const call: ActivityCall = {
      name,
      startedAt: isoTime(event.ScheduledTime) ?? endedAt,
      endedAt,
      outcome: type === 'TaskCompleted' ? 'succeeded' : 'failed',
      attempt: failedBefore + 1,
    };
    if (input !== undefined) call.input = input;
    if (type === 'TaskCompleted') {
      if ('Result' in event) call.result = parseValue(event.Result);
      failedInARow.delete(signature);
    } else {
      call.error = failureMessage(event);
      failedInARow.set(signature, failedBefore + 1);
    }
    calls.push(call);
  }
  return calls.sort((a, b) => a.startedAt.localeCompare(b.startedAt) || a.endedAt.localeCompare(b.endedAt));
}
