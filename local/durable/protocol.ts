import type { RpcTypedData } from '../core/types.js';
import { FunctionInvocationError } from '../core/invoker.js';
import type { FailureDetails, HistoryEvent } from './history.js';
import type { OrchestratorAction } from './planner.js';

/** What the orchestration trigger receives (§3.2). */
export interface OrchestrationPayload {
  history: HistoryEvent[];
  input: unknown;
  instanceId: string;
  isReplaying: boolean;
  parentInstanceId: string | null;
}

/** The SDK's `OrchestratorState` (§4.2). */
export interface OrchestratorState {
  isDone: boolean;
  actions: OrchestratorAction[][];
  output?: unknown;
  error?: string;
  customStatus?: unknown;
  schemaVersion?: number;
  failureDetails?: { ErrorType?: string; ErrorMessage?: string; StackTrace?: string };
}

const outOfProcMarker = '\n\n$OutOfProcData$:';

/**
 * The JSON the host sends as the orchestration trigger. `maximumShortTimerDuration` is huge on purpose:
 * then the SDK never splits timers into legs and every CreateTimer is one TimerCreated/TimerFired pair (§4.8).
 */
export function orchestrationTriggerData(p: OrchestrationPayload): RpcTypedData {
  return {
    string: JSON.stringify({
      history: p.history,
      input: p.input,
      instanceId: p.instanceId,
      isReplaying: p.isReplaying,
      parentInstanceId: p.parentInstanceId,
      upperSchemaVersion: 1,
      upperSchemaVersionNew: 3,
      longRunningTimerIntervalDuration: '3.00:00:00',
      maximumShortTimerDuration: '36500.00:00:00',
      defaultHttpAsyncRequestSleepTimeMillseconds: 30000,
    }),
  };
}

/** JSON text of a worker return value, as the extension serializes activity results (§5.2). */
export function typedDataToJson(data: RpcTypedData | null | undefined): string | null {
  if (!data) return null;
  if (typeof data.json === 'string') return data.json;
  if (typeof data.string === 'string') return JSON.stringify(data.string);
  if (typeof data.int === 'number') return String(data.int);
  if (typeof data.double === 'number') return String(data.double);
  const bytes = data.bytes ?? data.stream;
  if (bytes) return JSON.stringify(Buffer.from(bytes).toString('base64'));
  return null;
}

/** Reads the orchestrator's answer: a normal return, or the state carried by an OrchestrationFailureError (§4.1). */
export function readOrchestratorResult(
  outcome: { returnValue: RpcTypedData | null | undefined } | { error: unknown },
): { state: OrchestratorState } | { crash: string } {
  if ('returnValue' in outcome) {
    const text = typedDataToJson(outcome.returnValue);
    if (!text) return { crash: 'The orchestrator returned no state.' };
    return { state: JSON.parse(text) as OrchestratorState };
  }
  const err = outcome.error;
  const message = err instanceof FunctionInvocationError ? err.innerMessage : (err as Error).message;
  const at = message.indexOf(outOfProcMarker);
  if (at >= 0) {
    return { state: JSON.parse(message.slice(at + outOfProcMarker.length)) as OrchestratorState };
  }
  return { crash: message };
}

/**
 * Activity failure as the extension records it (EXT `TaskActivityShim`): the message between
 * "\nException:" and "\nStack:" of the host's RpcException text, kept with its leading space. A JSON
 * message from `setExceptionPropertiesProvider` becomes FailureDetails (EXT PR #3451).
 */
export function activityFailure(
  functionName: string,
  err: unknown,
): { reason: string; details: string; failureDetails?: FailureDetails } {
  const hostMessage =
    err instanceof FunctionInvocationError
      ? err.hostMessage
      : `Result: Failure\nException: ${(err as Error).message}\nStack: ${(err as Error).stack ?? ''}`;
  const start = hostMessage.indexOf('\nException:') + '\nException:'.length;
  const end = hostMessage.indexOf('\nStack:');
  const message = hostMessage.slice(start, end >= start ? end : undefined);
  const reason = `Activity function '${functionName}' failed: ${message}`;
  const details = JSON.stringify({
    ClassName: 'Microsoft.Azure.WebJobs.Script.Workers.Rpc.RpcException',
    Message: hostMessage,
    RemoteStackTrace: err instanceof FunctionInvocationError ? (err.innerStack ?? null) : null,
  });
  const failureDetails = parseFailureJson(message.trim());
  return failureDetails ? { reason, details, failureDetails } : { reason, details };
}

function parseFailureJson(text: string): FailureDetails | undefined {
  if (!text.startsWith('{')) return undefined;
  try {
    const parsed = JSON.parse(text) as Record<string, unknown>;
    if (typeof parsed.errorType !== 'string' || typeof parsed.errorMessage !== 'string') return undefined;
    return {
      ErrorType: parsed.errorType,
      ErrorMessage: parsed.errorMessage,
      StackTrace: typeof parsed.stackTrace === 'string' ? parsed.stackTrace : null,
      IsNonRetriable: parsed.isNonRetriable === true,
      Properties: (parsed.properties as Record<string, unknown> | undefined) ?? null,
    };
  } catch {
    return undefined;
  }
}

/** The activity trigger value for an action input (§5.1): strings arrive JSON-encoded by the SDK. */
export function activityTriggerData(input: unknown): RpcTypedData {
  if (input === undefined) return {};
  if (typeof input === 'string') return { string: input };
  return { string: JSON.stringify(input) };
}
