/**
 * Azure ML system events as the workspace's system topic emits them. Data is in the PascalCase of the
 * published examples for ModelRegistered (that is what arrives in practice, see azure-apis.md §0.4) and
 * the camelCase of the schema examples for run events.
 */
import { randomUUID } from 'node:crypto';
import type { EventGridEvent } from '../../local/eventgrid/schema.js';
import type { JobStatus, ModelVersion } from '../port.js';

/** The ARM id the local workspace poses as (the source topic of its events). */
export function localWorkspaceTopic(
  workspace = 'local',
  subscriptionId = '00000000-0000-0000-0000-000000000000',
): string {
  return `/subscriptions/${subscriptionId}/resourceGroups/local/providers/Microsoft.MachineLearningServices/workspaces/${workspace}`;
}

function envelope(
  topic: string,
  subject: string,
  eventType: string,
  data: unknown,
  now: Date,
): EventGridEvent {
  return {
    id: randomUUID(),
    topic,
    subject,
    eventType,
    eventTime: now.toISOString(),
    data,
    dataVersion: '',
    metadataVersion: '1',
  };
}

/** `Microsoft.MachineLearningServices.ModelRegistered` for a model version. */
export function modelRegisteredEvent(topic: string, model: ModelVersion, now: Date): EventGridEvent {
  const numeric = Number(model.version);
  return envelope(
    topic,
    `models/${model.name}:${model.version}`,
    'Microsoft.MachineLearningServices.ModelRegistered',
    {
      ModelName: model.name,
      // The published examples carry an integer version; keep a non-integer version as the string it is.
      ModelVersion: Number.isInteger(numeric) ? numeric : model.version,
      ModelTags: model.tags,
      ModelProperties: model.properties,
    },
    now,
  );
}

/** What run events say about a job. */
export interface RunEventSource {
  name: string;
  experimentName: string;
  tags: Record<string, string>;
  properties?: Record<string, string>;
}

/** A stable experiment id per experiment name (Azure uses a GUID; locally it is derived from the name). */
export function experimentId(experimentName: string): string {
  const hex = Buffer.from(experimentName.padEnd(16, '_')).toString('hex').slice(0, 32).padEnd(32, '0');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

function runData(run: RunEventSource) {
  return {
    experimentId: experimentId(run.experimentName),
    experimentName: run.experimentName,
    runId: run.name,
    runType: null,
    runTags: run.tags,
    runProperties: run.properties ?? {},
  };
}

/** `Microsoft.MachineLearningServices.RunStatusChanged`. */
export function runStatusChangedEvent(
  topic: string,
  run: RunEventSource,
  status: JobStatus,
  now: Date,
): EventGridEvent {
  return envelope(
    topic,
    `experiments/${experimentId(run.experimentName)}/runs/${run.name}`,
    'Microsoft.MachineLearningServices.RunStatusChanged',
    { ...runData(run), runStatus: status },
    now,
  );
}

/** `Microsoft.MachineLearningServices.RunCompleted`. */
export function runCompletedEvent(topic: string, run: RunEventSource, now: Date): EventGridEvent {
  return envelope(
    topic,
    `experiments/${experimentId(run.experimentName)}/runs/${run.name}`,
    'Microsoft.MachineLearningServices.RunCompleted',
    runData(run),
    now,
  );
}
