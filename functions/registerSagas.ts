import type { HttpRequest, InvocationContext, Timer } from '@azure/functions';
import * as df from 'durable-functions';
import { withFailureEnvelope } from '../activities/activityFailure.js';
import { createActivities, type ActivityDeps } from '../activities/index.js';
import type { ActivityName } from '../activities/contracts.js';
import { releaseCoordinator, trainingCoordinator } from '../orchestrators/coordinators.js';
import { OrchestratorName } from '../orchestrators/names.js';
import { releaseSaga } from '../orchestrators/releaseSaga.js';
import { rollbackSaga } from '../orchestrators/rollbackSaga.js';
import { trainingSaga } from '../orchestrators/trainingSaga.js';
import type { ActivityInvocation } from '../telemetry/index.js';
import {
  logOutcome,
  onDatasetDrift,
  onModelRegistered,
  onMonitorBreach,
  onRawBlobCreated,
  scheduledRetrain,
  type EventOutcome,
} from '../triggers/eventTriggers.js';
import {
  cancelRun,
  decideRun,
  getRun,
  listRuns,
  rollbackEndpoint,
  startRelease,
  startRun,
} from '../triggers/httpApi.js';
import type { SagaConfig } from './sagaConfig.js';

/** Names of the Event Grid and timer functions; infra/eventSubscriptions.json subscribes the same names. */
export const eventFunctionNames = {
  onRawBlobCreated: 'onRawBlobCreated',
  onModelRegistered: 'onModelRegistered',
  onDatasetDrift: 'onDatasetDrift',
  onMonitorBreach: 'onMonitorBreach',
  scheduledRetrain: 'scheduledRetrain',
} as const;

/** What an activity's telemetry needs from the host: the calling orchestration and the invocation's trace. */
function activityInvocation(context: InvocationContext): ActivityInvocation {
  const instanceId = context.triggerMetadata?.instanceId;
  const traceParent = context.traceContext?.traceParent;
  return {
    ...(typeof instanceId === 'string' ? { instanceId } : {}),
    ...(traceParent ? { traceParent } : {}),
  };
}

/** Registers the sagas' orchestrators and activities. */
export function registerSagaFunctions(deps: ActivityDeps): string[] {
  df.app.orchestration(OrchestratorName.trainingSaga, trainingSaga);
  df.app.orchestration(OrchestratorName.releaseSaga, releaseSaga);
  df.app.orchestration(OrchestratorName.trainingCoordinator, trainingCoordinator);
  df.app.orchestration(OrchestratorName.releaseCoordinator, releaseCoordinator);
  df.app.orchestration(OrchestratorName.rollbackSaga, rollbackSaga);
  const activities = createActivities(deps);
  for (const [name, handler] of Object.entries(activities) as [
    ActivityName,
    (input: unknown, invocation: ActivityInvocation) => Promise<unknown>,
  ][]) {
    df.app.activity(name, {
      // Durable keeps only a failure's message: the envelope carries code and transience to the sagas.
      handler: (input: unknown, context: InvocationContext) =>
        withFailureEnvelope(() => handler(input, activityInvocation(context))),
    });
  }
  return [...Object.values(OrchestratorName), ...Object.keys(activities)];
}

type EventHandler = (event: unknown, client: df.DurableClient, config: SagaConfig) => Promise<EventOutcome>;

/** Registers the Event Grid, timer and HTTP triggers that start and steer the sagas. */
export function registerSagaTriggers(config: SagaConfig, schedule: string): string[] {
  const eventHandlers: Record<string, EventHandler> = {
    [eventFunctionNames.onRawBlobCreated]: onRawBlobCreated,
    [eventFunctionNames.onModelRegistered]: onModelRegistered,
    [eventFunctionNames.onDatasetDrift]: onDatasetDrift,
    [eventFunctionNames.onMonitorBreach]: onMonitorBreach,
  };
  for (const [name, handle] of Object.entries(eventHandlers)) {
    df.app.client.eventGrid(name, {
      handler: async (event, client, context: InvocationContext) => {
        logOutcome(context, `${name} ${event.eventType} ${event.id}`, await handle(event, client, config));
      },
    });
  }
  df.app.client.timer(eventFunctionNames.scheduledRetrain, {
    schedule,
    handler: async (timer: Timer, client, context) => {
      logOutcome(context, 'scheduled retraining', await scheduledRetrain(timer, client, config, new Date()));
    },
  });

  const http = (
    name: string,
    route: string,
    methods: ('GET' | 'POST' | 'DELETE')[],
    handler: (request: HttpRequest, client: df.DurableClient) => Promise<unknown>,
  ) =>
    df.app.client.http(name, {
      route,
      methods,
      authLevel: 'function',
      handler: async (request, client) => (await handler(request, client)) as never,
    });
  http('runs', 'runs', ['GET', 'POST'], (request, client) =>
    request.method === 'POST' ? startRun(request, client, config) : listRuns(request, client),
  );
  http('run', 'runs/{id}', ['GET', 'DELETE'], (request, client) =>
    request.method === 'DELETE' ? cancelRun(request, client) : getRun(request, client),
  );
  http('approveRun', 'runs/{id}/approve', ['POST'], decideRun(true));
  http('rejectRun', 'runs/{id}/reject', ['POST'], decideRun(false));
  http('releases', 'releases', ['POST'], (request, client) => startRelease(request, client, config));
  http('rollback', 'endpoint/rollback', ['POST'], (request, client) =>
    rollbackEndpoint(request, client, config),
  );
  return [
    ...Object.values(eventFunctionNames),
    'runs',
    'run',
    'approveRun',
    'rejectRun',
    'releases',
    'rollback',
  ];
}
