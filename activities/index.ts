import { createAnalyzeCanary } from './analyzeCanary.js';
import { createCancelJob } from './cancelJob.js';
import { ActivityName } from './contracts.js';
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

// Activity handlers take one JSON input; the contracts give each its exact type.
type Handler = (input: never) => Promise<unknown>;

/** Every activity of the sagas, built over the given ports, by registered name. */
export function createActivities(deps: ActivityDeps): Record<ActivityName, Handler> {
  return {
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
    [ActivityName.recordDecision]: createRecordDecision(deps),
    [ActivityName.notify]: createNotify(deps),
    [ActivityName.findPreviousChampion]: createFindPreviousChampion(deps),
  };
}

export type { ActivityDeps } from './deps.js';
