import type { DatasetRef, RunTrigger, TrainingRunInput } from '../activities/contracts.js';
import type {
  ReleaseCoordinatorState,
  ReleaseRequest,
  TrainingCoordinatorState,
  TrainingRequest,
} from '../orchestrators/coordinators.js';
import {
  OrchestratorName,
  releaseCoordinatorId,
  releaseInstanceId,
  trainingCoordinatorId,
} from '../orchestrators/names.js';
import type { TriggerConfig } from './config.js';
import { trainingRunId } from './instanceIds.js';
import type * as df from 'durable-functions';
import { sendWork } from './sendWork.js';

/** Asks for a training run; returns the run's instance id. */
export async function requestTraining(
  client: df.DurableClient,
  config: TriggerConfig,
  arrival: {
    trigger: RunTrigger;
    dedupeKey: string;
    dataset?: DatasetRef;
    skipIfUnchanged?: boolean;
    runId?: string;
  },
): Promise<string> {
  const runId = arrival.runId ?? trainingRunId(config.modelName, arrival.trigger.source, arrival.dedupeKey);
  const run: TrainingRunInput = {
    dataset: arrival.dataset ?? { container: config.raw.container, prefix: config.raw.prefix },
    skipIfUnchanged: arrival.skipIfUnchanged ?? false,
    keyType: config.keyType,
    horizon: config.horizon,
    trigger: arrival.trigger,
    config: config.training,
  };
  const request: TrainingRequest = {
    runId,
    dedupeKey: arrival.dedupeKey,
    run,
    quietWindowSeconds: arrival.trigger.source === 'blob' ? config.quietWindowSeconds : 0,
  };
  const initialState: TrainingCoordinatorState = {
    modelName: config.modelName,
    pending: [],
    seen: [],
    runs: 0,
  };
  await sendWork(
    client,
    {
      name: OrchestratorName.trainingCoordinator,
      instanceId: trainingCoordinatorId(config.modelName),
      initialState,
    },
    request,
  );
  return runId;
}

/** Asks for the release of a model version; returns the release's instance id. */
export async function requestRelease(
  client: df.DurableClient,
  config: TriggerConfig,
  model: { name: string; version: string },
  trigger: RunTrigger,
  dedupeKey: string,
): Promise<string> {
  const request: ReleaseRequest = { release: { model, trigger, config: config.release }, dedupeKey };
  const initialState: ReleaseCoordinatorState = {
    endpointName: config.release.endpointName,
    pending: [],
    seen: [],
    releases: 0,
  };
  await sendWork(
    client,
    {
      name: OrchestratorName.releaseCoordinator,
      instanceId: releaseCoordinatorId(config.release.endpointName),
      initialState,
    },
    request,
  );
  return releaseInstanceId(model.name, model.version);
}
