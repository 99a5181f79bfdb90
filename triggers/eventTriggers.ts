import type { InvocationContext, Timer } from '@azure/functions';
import type * as df from 'durable-functions';
import type { TriggerConfig } from './config.js';
import { blobOf, envelope, field, MalformedEventError, requiredString } from './eventData.js';
import { requestRelease, requestTraining } from './requests.js';

/** What an event handler did, for its log line and for tests. */
export type EventOutcome = { action: 'started'; instanceId: string } | { action: 'ignored'; reason: string };

const breachTag = 'azureml_modelmonitor_threshold_breached';

/** BlobCreated on the raw prefix → training (blobs within the quiet window train together; redeliveries dedupe). */
export async function onRawBlobCreated(
  event: unknown,
  client: df.DurableClient,
  config: TriggerConfig,
): Promise<EventOutcome> {
  const e = envelope(event);
  if (e.type !== 'Microsoft.Storage.BlobCreated')
    return { action: 'ignored', reason: `event type ${e.type}` };
  const blob = blobOf(e);
  if (blob.container !== config.raw.container || !blob.path.startsWith(config.raw.prefix)) {
    return {
      action: 'ignored',
      reason: `${blob.container}/${blob.path} is outside ${config.raw.container}/${config.raw.prefix}`,
    };
  }
  if (!blob.path.endsWith('.csv.gz'))
    return { action: 'ignored', reason: `${blob.path} is not a .csv.gz file` };
  const length = field(e.data, 'contentLength');
  if (length === 0)
    return { action: 'ignored', reason: `${blob.path} is empty (a file created before its data)` };
  // eTag identifies the blob version; the sequencer orders writes when no eTag is sent.
  const version = field(e.data, 'eTag') ?? field(e.data, 'sequencer');
  if (typeof version !== 'string' || !version) {
    throw new MalformedEventError(`BlobCreated event ${e.id} has neither data.eTag nor data.sequencer.`);
  }
  const dedupeKey = `${blob.container}/${blob.path}@${version}`;
  const instanceId = await requestTraining(client, config, {
    trigger: { source: 'blob', eventId: e.id },
    dedupeKey,
  });
  return { action: 'started', instanceId };
}

/** ModelRegistered for our model → release (the same version twice lands on the same release). */
export async function onModelRegistered(
  event: unknown,
  client: df.DurableClient,
  config: TriggerConfig,
): Promise<EventOutcome> {
  const e = envelope(event);
  if (e.type !== 'Microsoft.MachineLearningServices.ModelRegistered') {
    return { action: 'ignored', reason: `event type ${e.type}` };
  }
  const name = requiredString(e, 'ModelName');
  const version = requiredString(e, 'ModelVersion');
  if (name !== config.modelName)
    return { action: 'ignored', reason: `model ${name} is not ${config.modelName}` };
  const instanceId = await requestRelease(
    client,
    config,
    { name, version },
    { source: 'model-registered', eventId: e.id },
    `${name}:${version}`,
  );
  return { action: 'started', instanceId };
}

/** DatasetDriftDetected (v1 data drift) → retraining on the newest data. */
export async function onDatasetDrift(
  event: unknown,
  client: df.DurableClient,
  config: TriggerConfig,
): Promise<EventOutcome> {
  const e = envelope(event);
  if (e.type !== 'Microsoft.MachineLearningServices.DatasetDriftDetected') {
    return { action: 'ignored', reason: `event type ${e.type}` };
  }
  const runId = requiredString(e, 'RunId');
  const instanceId = await requestTraining(client, config, {
    trigger: { source: 'drift', eventId: e.id },
    dedupeKey: `drift:${runId}`,
  });
  return { action: 'started', instanceId };
}

/** RunStatusChanged of a model monitor that breached its thresholds (v2 monitoring) → retraining. */
export async function onMonitorBreach(
  event: unknown,
  client: df.DurableClient,
  config: TriggerConfig,
): Promise<EventOutcome> {
  const e = envelope(event);
  if (e.type !== 'Microsoft.MachineLearningServices.RunStatusChanged') {
    return { action: 'ignored', reason: `event type ${e.type}` };
  }
  const tags = field(e.data, 'RunTags');
  const breach =
    tags && typeof tags === 'object' ? field(tags as Record<string, unknown>, breachTag) : undefined;
  if (typeof breach !== 'string' || !breach)
    return { action: 'ignored', reason: 'the run is not a monitor breach' };
  const runId = requiredString(e, 'RunId');
  const instanceId = await requestTraining(client, config, {
    trigger: { source: 'monitor', eventId: e.id },
    dedupeKey: `monitor:${runId}`,
  });
  return { action: 'started', instanceId };
}

/** Weekly timer → retraining on the newest data (skipped when unchanged, if so configured). */
export async function scheduledRetrain(
  _timer: Timer,
  client: df.DurableClient,
  config: TriggerConfig,
  now: Date,
): Promise<EventOutcome> {
  // The occurrence, to the minute, names the run: a second invocation for the same occurrence is the same work.
  const occurrence = now.toISOString().slice(0, 16);
  const instanceId = await requestTraining(client, config, {
    trigger: { source: 'timer', eventId: occurrence },
    dedupeKey: `timer:${occurrence}`,
    skipIfUnchanged: config.retrainOnlyIfChanged,
  });
  return { action: 'started', instanceId };
}

/** Logs what an event handler did, one line. */
export function logOutcome(context: InvocationContext, what: string, outcome: EventOutcome): void {
  if (outcome.action === 'started') context.log(`${what}: work sent for run ${outcome.instanceId}`);
  else context.log(`${what}: ignored (${outcome.reason})`);
}
