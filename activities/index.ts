import { createAnalyzeCanary } from './analyzeCanary.js';
import { createCancelJob } from './cancelJob.js';
import { recordSagaRun, traceActivity, type ActivityInvocation } from '../telemetry/index.js';
import { ActivityName, type RecordDecisionInput } from './contracts.js';
import { createCreateDeployment } from './createDeployment.js';
import { createDeleteDeployment } from './deleteDeployment.js';
import type { ActivityDeps } from './deps.js';
import { createEvaluateGate } from './evaluateGate.js';
import { createFindPreviousChampion } from './findPreviousChampion.js';
import { createGetDeploymentState } from './getDeploymentState.js';
import { createGetEndpointState } from './getEndpointState.js';
import { createGetJobStatus } from './getJobStatus.js';
import { createGetModel } from './getModel.js';
import { createNotify } from './notify.js';
import { createRecordDecision } from './recordDecision.js';
import { createRegisterModel } from './registerModel.js';
import { createSetTraffic } from './setTraffic.js';
import { createSmokeTest } from './smokeTest.js';
import { createSubmitJob } from './submitJob.js';
import { createTagModel } from './tagModel.js';
import { createValidateDataset } from './validateDataset.js';

// Activity handlers take one JSON input (the contracts give each its exact type) and what the host says
// about the invocation (the orchestration's instance id, the trace it belongs to).
type Handler = (input: never, invocation?: ActivityInvocation) => Promise<unknown>;

/**
 * Emits a finished run's saga and step spans once its record is written. Orchestrators cannot: they are
 * replayed, must stay free of I/O, and an `isReplaying` guard would still emit per episode, never once per
 * step. The steps reach recordDecision exactly once per run, timed by the orchestration clock, so the spans
 * carry the steps' true start and end; the cost is that they appear when the run ends (the live view is the
 * saga's custom status).
 */
function withSagaSpans(
  record: (input: RecordDecisionInput) => Promise<{ path: string }>,
): (input: RecordDecisionInput) => Promise<{ path: string }> {
  return async (input) => {
    const result = await record(input);
    const steps = input.details?.steps;
    recordSagaRun({
      kind: input.kind,
      runId: input.runId,
      status: input.status,
      reason: input.reason,
      steps: Array.isArray(steps) ? (steps as Parameters<typeof recordSagaRun>[0]['steps']) : [],
    });
    return result;
  };
}

/** Every activity of the sagas, built over the given ports, by registered name, each in its own span. */
export function createActivities(deps: ActivityDeps): Record<ActivityName, Handler> {
  const activities: Record<ActivityName, (input: never) => Promise<unknown>> = {
    [ActivityName.validateDataset]: createValidateDataset(deps),
    [ActivityName.submitJob]: createSubmitJob(deps),
    [ActivityName.getJobStatus]: createGetJobStatus(deps),
    [ActivityName.cancelJob]: createCancelJob(deps),
    [ActivityName.evaluateGate]: createEvaluateGate(deps),
    [ActivityName.registerModel]: createRegisterModel(deps),
    [ActivityName.getModel]: createGetModel(deps),
    [ActivityName.tagModel]: createTagModel(deps),
    [ActivityName.createDeployment]: createCreateDeployment(deps),
    [ActivityName.getDeploymentState]: createGetDeploymentState(deps),
    [ActivityName.getEndpointState]: createGetEndpointState(deps),
    [ActivityName.smokeTest]: createSmokeTest(deps),
    [ActivityName.setTraffic]: createSetTraffic(deps),
    [ActivityName.analyzeCanary]: createAnalyzeCanary(deps),
    [ActivityName.deleteDeployment]: createDeleteDeployment(deps),
    [ActivityName.recordDecision]: withSagaSpans(createRecordDecision(deps)),
    [ActivityName.notify]: createNotify(deps),
    [ActivityName.findPreviousChampion]: createFindPreviousChampion(deps),
  };
  return Object.fromEntries(
    Object.entries(activities).map(([name, handler]) => [name, traceActivity(name, handler)]),
  ) as Record<ActivityName, Handler>;
}

export type { ActivityDeps } from './deps.js';
