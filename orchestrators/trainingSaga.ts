import type * as df from 'durable-functions';
import {
  ActivityName,
  type CancelJobInput,
  type EvaluateGateInput,
  type GateDecision,
  type GetJobStatusOutput,
  type JobKind,
  type ModelRef,
  type RegisterModelInput,
  type SubmitJobInput,
  type TrainingRunInput,
  type TrainingRunOutput,
  type ValidateDatasetInput,
  type ValidateDatasetOutput,
} from '../activities/contracts.js';
import { callActivity } from './activityCalls.js';
import { ExternalEvent } from './names.js';
import {
  RunCanceledError,
  StepFailedError,
  StepTracker,
  describeError,
  recordOutcome,
  waitForJob,
} from './steps.js';

/** Job names derive from the run's instance id, so a replayed or retried submit lands on the same job. */
export function jobNameFor(instanceId: string, kind: JobKind): string {
  return `${instanceId}-${kind}`.replace(/[^a-zA-Z0-9\-_]/g, '-').slice(0, 255);
}

/**
 * The training saga: validate dataset → ETL job → training job → quality gate → register model.
 * A gate failure ends the run as `rejected` with the decision and registers nothing. Any failure or a
 * `cancel` event cancels the jobs this run started, records why, and ends the run (failed runs rethrow).
 */
export function* trainingSaga(
  context: df.OrchestrationContext,
): Generator<df.Task, TrainingRunOutput, unknown> {
  const input = context.df.getInput() as TrainingRunInput;
  const runId = context.df.instanceId;
  const steps = new StepTracker(context);
  const cancelEvent = context.df.waitForExternalEvent(ExternalEvent.cancel);
  const startedJobs: string[] = [];
  const output: TrainingRunOutput = { status: 'failed', reason: '', jobs: {} };
  const retry = input.config.retry;
  const tags = (datasetVersion: string): Record<string, string> => ({
    runId,
    trigger: input.trigger.source,
    ...(input.trigger.eventId ? { eventId: input.trigger.eventId } : {}),
    datasetVersion,
    keyType: input.keyType,
    horizon: String(input.horizon),
  });

  function* runJob(
    kind: JobKind,
    inputs: Record<string, string>,
    datasetVersion: string,
  ): Generator<df.Task, GetJobStatusOutput, unknown> {
    const jobName = jobNameFor(runId, kind);
    const submit: SubmitJobInput = {
      jobName,
      kind,
      inputs,
      tags: tags(datasetVersion),
      computeName: input.config.computeName,
    };
    startedJobs.push(jobName);
    output.jobs[kind] = jobName;
    yield* callActivity(context, ActivityName.submitJob, submit, retry);
    const final: GetJobStatusOutput = yield* waitForJob(
      context,
      cancelEvent,
      jobName,
      input.config.jobPoll,
      (status, elapsed) =>
        steps.progress(
          `${jobName}: ${status.status}${status.progress ? ` (${status.progress})` : ''} after ${Math.round(elapsed)} s`,
        ),
      retry,
    );
    if (final.status !== 'Completed') {
      throw new StepFailedError(
        kind,
        `${kind} job ${jobName} ended ${final.status}: ${final.error ?? 'no reason given'}`,
      );
    }
    return final;
  }

  try {
    steps.begin('validate');
    const validateInput: ValidateDatasetInput = { dataset: input.dataset, modelName: input.config.modelName };
    const dataset: ValidateDatasetOutput = yield* callActivity(
      context,
      ActivityName.validateDataset,
      validateInput,
      retry,
    );
    output.datasetVersion = dataset.datasetVersion;
    steps.end(
      'succeeded',
      `${dataset.blobs.length} blob(s), ${dataset.totalBytes} bytes, version ${dataset.datasetVersion}`,
    );
    if (input.skipIfUnchanged && dataset.championDatasetVersion === dataset.datasetVersion) {
      output.status = 'unchanged';
      output.reason = `data unchanged since the champion was trained (dataset ${dataset.datasetVersion})`;
      yield* record(output);
      return output;
    }

    steps.begin('etl');
    const etl = yield* runJob(
      'etl',
      {
        raw: `blob://${input.dataset.container}/${input.dataset.prefix}`,
        blobs: dataset.blobs.map((b) => b.path).join(','),
      },
      dataset.datasetVersion,
    );
    const series = etl.outputs.series;
    if (!series)
      throw new StepFailedError('etl', `ETL job ${etl.jobName} completed without a "series" output`);

    steps.begin('train');
    const train = yield* runJob(
      'train',
      {
        series,
        key_type: input.keyType,
        horizon: String(input.horizon),
        ...(dataset.championModelUri ? { champion: dataset.championModelUri } : {}),
      },
      dataset.datasetVersion,
    );
    const modelUri = train.outputs.model;
    if (dataset.championVersion) output.championVersion = dataset.championVersion;
    if (!modelUri)
      throw new StepFailedError('train', `training job ${train.jobName} completed without a "model" output`);

    steps.begin('gate');
    const gateInput: EvaluateGateInput = {
      modelName: input.config.modelName,
      modelUri,
      thresholds: input.config.gate,
    };
    const decision: GateDecision = yield* callActivity(context, ActivityName.evaluateGate, gateInput, retry);
    output.gate = decision;
    if (!decision.passed) {
      steps.end('failed', decision.reason);
      output.status = 'rejected';
      output.reason = `quality gate failed: ${decision.reason}`;
      yield* record(output);
      return output;
    }

    steps.begin('register');
    const register: RegisterModelInput = {
      modelName: input.config.modelName,
      modelUri,
      runId,
      tags: { ...tags(dataset.datasetVersion), gate: 'passed' },
      properties: Object.fromEntries(decision.checks.map((c) => [`gate.${c.name}`, String(c.value)])),
    };
    const model: ModelRef = yield* callActivity(context, ActivityName.registerModel, register, retry);
    output.model = model;
    steps.end('succeeded', `${model.name}:${model.version}`);
    output.status = 'registered';
    output.reason = `registered ${model.name}:${model.version}`;
    yield* record(output);
    return output;
  } catch (err) {
    const canceled = err instanceof RunCanceledError;
    steps.end('failed', describeError(err));
    output.status = canceled ? 'canceled' : 'failed';
    output.reason = describeError(err);
    for (const jobName of startedJobs) {
      const cancel: CancelJobInput = { jobName, reason: `run ${runId} ${output.status}: ${output.reason}` };
      yield* callActivity(context, ActivityName.cancelJob, cancel, retry);
    }
    yield* record(output);
    if (canceled) return output;
    throw err;
  }

  function* record(result: TrainingRunOutput): Generator<df.Task, void, unknown> {
    const properties: Record<string, string> = result.model
      ? { model: `${result.model.name}:${result.model.version}` }
      : {};
    yield* recordOutcome(context, 'training', result, steps, properties, retry);
  }
}
