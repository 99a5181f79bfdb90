/**
 * The contract between orchestrators and activities: activity names and their input and output types.
 * Orchestrators import only this file (lint-enforced), so it holds types and constants and nothing that
 * does I/O. Every activity is idempotent: names of jobs, model versions and deployments derive from the
 * orchestration instance id, never from the clock or randomness.
 */

import type { DeploymentProvisioningState as PortDeploymentState, JobStatus } from '../aml/port.js';
import type { GateCheck } from '../training/forecast/gate.js';

export const ActivityName = {
  validateDataset: 'validateDataset',
  submitJob: 'submitJob',
  getJobStatus: 'getJobStatus',
  cancelJob: 'cancelJob',
  evaluateGate: 'evaluateGate',
  registerModel: 'registerModel',
  getModel: 'getModel',
  tagModel: 'tagModel',
  createDeployment: 'createDeployment',
  getDeploymentState: 'getDeploymentState',
  getEndpointState: 'getEndpointState',
  smokeTest: 'smokeTest',
  setTraffic: 'setTraffic',
  analyzeCanary: 'analyzeCanary',
  deleteDeployment: 'deleteDeployment',
  recordDecision: 'recordDecision',
  notify: 'notify',
  findPreviousChampion: 'findPreviousChampion',
} as const;
export type ActivityName = (typeof ActivityName)[keyof typeof ActivityName];

export type KeyType = 'product_id' | 'category_code' | 'brand';
export type Horizon = 7 | 14 | 28;
export type TriggerSource = 'blob' | 'drift' | 'monitor' | 'timer' | 'http' | 'model-registered';

/** Raw clickstream in the data lake: named blobs, or every `.csv.gz` under a prefix (the newest data). */
export interface DatasetRef {
  container: string;
  prefix: string;
  /** Blob paths inside the container (`raw/2019-10.csv.gz`, …); all blobs under `prefix` when absent. */
  blobs?: string[];
}

/** Where a run came from, for the audit trail. */
export interface RunTrigger {
  source: TriggerSource;
  /** The Event Grid event id, the HTTP request id or the timer occurrence. */
  eventId?: string;
  /** Who asked, for HTTP starts. */
  requestedBy?: string;
}

/** Bounded polling of a long-running platform operation on durable timers. */
export interface PollPolicy {
  initialDelaySeconds: number;
  maxDelaySeconds: number;
  backoffFactor: number;
  timeoutSeconds: number;
}

export interface GateThresholds {
  maxMape: number;
  maxP90KeyMape: number;
  /** Candidate may be worse than the champion's WAPE by at most this fraction (0.02 = 2%). */
  championTolerance: number;
}

/** Configuration the training saga needs, snapshotted into its input so replays see the same values. */
export interface TrainingConfig {
  modelName: string;
  computeName: string;
  jobPoll: PollPolicy;
  gate: GateThresholds;
  /** Durable retry of activities that fail transiently (absent in runs started before it existed: no retry). */
  retry?: RetryPolicy;
}

/** A bounded retry, on durable timers, of activity calls that failed with a transient error. */
export interface RetryPolicy {
  /** Attempts in all, the first included. */
  maxAttempts: number;
  firstDelaySeconds: number;
  backoffFactor: number;
  maxDelaySeconds: number;
}

/**
 * How an activity's failure crosses the Durable boundary, which keeps only an error's message: the
 * activity registration throws an Error whose message is {@link activityFailurePrefix} followed by the
 * one-line JSON of an ActivityFailure, and orchestrators read code and transience back from it.
 */
export interface ActivityFailure {
  /** The error's code: a port code (`Unavailable`, `NotFound`, ...) or an activity's own (`BLOB_MISSING`). */
  code: string;
  /** True when the same call may succeed later. */
  transient: boolean;
  message: string;
}
export const activityFailurePrefix = 'activity-failure:';

export interface TrainingRunInput {
  dataset: DatasetRef;
  /** End as `unchanged` when the data is what the champion was trained on (scheduled retraining). */
  skipIfUnchanged: boolean;
  keyType: KeyType;
  horizon: Horizon;
  trigger: RunTrigger;
  config: TrainingConfig;
}

export type TrainingRunStatus = 'registered' | 'rejected' | 'failed' | 'canceled' | 'unchanged';

export interface TrainingRunOutput {
  status: TrainingRunStatus;
  reason: string;
  datasetVersion?: string;
  jobs: { etl?: string; train?: string };
  gate?: GateDecision;
  model?: ModelRef;
  /** The champion the candidate was compared with, if any. */
  championVersion?: string;
}

// --- validateDataset ---
export interface ValidateDatasetInput {
  dataset: DatasetRef;
  modelName: string;
}
export interface ValidateDatasetOutput {
  /** Content hash of the inputs (blob names, sizes, eTags): the same data gives the same version. */
  datasetVersion: string;
  totalBytes: number;
  blobs: { path: string; bytes: number; etag: string }[];
  /** Dataset version the current champion of `modelName` was trained on, if there is a champion. */
  championDatasetVersion?: string;
  /** The champion's model artifacts, re-scored by the training job on the same backtest for the gate. */
  championModelUri?: string;
  championVersion?: string;
}

// --- submitJob / getJobStatus / cancelJob ---
export type JobKind = 'etl' | 'train';
export interface SubmitJobInput {
  /** Caller-chosen, derived from the instance id: resubmitting the same name is a no-op. */
  jobName: string;
  kind: JobKind;
  /** Named inputs of the job spec, as data-lake URIs or literals. */
  inputs: Record<string, string>;
  /** Run tags recorded on the job (run id, trigger, dataset version). */
  tags: Record<string, string>;
  computeName: string;
}
export interface SubmitJobOutput {
  jobName: string;
  status: JobStatus;
}

/** Azure ML job status values (the local platform uses the same). */
export type { JobStatus } from '../aml/port.js';

export interface GetJobStatusInput {
  jobName: string;
}
export interface GetJobStatusOutput {
  jobName: string;
  status: JobStatus;
  terminal: boolean;
  /** Output URIs by output name, once the job completed. */
  outputs: Record<string, string>;
  /** Why it failed, for Failed/Canceled. */
  error?: string;
  progress?: string;
}

export interface CancelJobInput {
  jobName: string;
  reason: string;
}

// --- evaluateGate ---
export interface EvaluateGateInput {
  modelName: string;
  /** Output URI of the training job's model directory. */
  modelUri: string;
  thresholds: GateThresholds;
}
/** One gate check: its value against its threshold (null when it could not be computed, which fails). */
export type { GateCheck } from '../training/forecast/gate.js';
export interface GateDecision {
  passed: boolean;
  checks: GateCheck[];
  reason: string;
  championVersion?: string;
}

// --- registerModel / getModel / tagModel ---
export interface ModelRef {
  name: string;
  version: string;
}
export interface RegisterModelInput {
  modelName: string;
  modelUri: string;
  /** The registering run: a second call from the same run returns the version it registered first. */
  runId: string;
  tags: Record<string, string>;
  properties: Record<string, string>;
}
export interface ModelInfo extends ModelRef {
  tags: Record<string, string>;
  properties: Record<string, string>;
  uri: string;
}
export interface TagModelInput {
  model: ModelRef;
  set: Record<string, string>;
  remove?: string[];
}

// --- endpoint and deployments ---
export interface DeploymentSpec {
  endpointName: string;
  deploymentName: string;
  model: ModelRef;
  instanceCount: number;
  instanceType: string;
}
/** A deployment's provisioning state as the port reports it, or NotFound when it does not exist. */
export type DeploymentProvisioningState = PortDeploymentState | 'NotFound';
export interface DeploymentStateOutput {
  deploymentName: string;
  state: DeploymentProvisioningState;
  error?: string;
}
export interface GetDeploymentStateInput {
  endpointName: string;
  deploymentName: string;
}
export interface EndpointState {
  endpointName: string;
  traffic: Record<string, number>;
  mirrorTraffic: Record<string, number>;
  deployments: { name: string; model?: ModelRef; state: DeploymentProvisioningState }[];
  scoringUri?: string;
}
export interface SmokeTestInput {
  endpointName: string;
  deploymentName: string;
  model: ModelRef;
  horizon: Horizon;
}
export interface SmokeTestOutput {
  passed: boolean;
  latencyMs: number;
  detail: string;
}
export interface SetTrafficInput {
  endpointName: string;
  traffic: Record<string, number>;
  mirrorTraffic?: Record<string, number>;
}
export interface DeleteDeploymentInput {
  endpointName: string;
  deploymentName: string;
}

/** Service levels a canary must hold. */
export interface CanarySlo {
  maxP95LatencyMs: number;
  max5xxRate: number;
  minRequests: number;
  /** Green may be worse than blue by at most this fraction on p95 and error rate. */
  maxRegressionVsBlue: number;
}
export interface AnalyzeCanaryInput {
  endpointName: string;
  green: string;
  blue?: string;
  windowSeconds: number;
  slo: CanarySlo;
}
export interface CanaryObservation {
  deployment: string;
  requests: number;
  p95LatencyMs: number;
  errorRate5xx: number;
}
export type CanaryVerdict = 'healthy' | 'breach' | 'insufficient-data';
export interface AnalyzeCanaryOutput {
  verdict: CanaryVerdict;
  reason: string;
  green: CanaryObservation;
  blue?: CanaryObservation;
}

export interface ReleaseConfig {
  endpointName: string;
  instanceType: string;
  instanceCount: number;
  /** Traffic percentages for green, in order; the last must be 100. */
  canarySteps: number[];
  bakeSeconds: number;
  analysisIntervalSeconds: number;
  slo: CanarySlo;
  approval: { required: boolean; timeoutSeconds: number };
  /** How long the old deployment stays after promotion before it is deleted. */
  retireGraceSeconds: number;
  deploymentPoll: PollPolicy;
  /** Durable retry of activities that fail transiently (absent in runs started before it existed: no retry). */
  retry?: RetryPolicy;
}

export interface ReleaseInput {
  model: ModelRef;
  trigger: RunTrigger;
  config: ReleaseConfig;
}
export type ReleaseStatus = 'promoted' | 'rolled-back' | 'skipped' | 'rejected' | 'failed';

/** A manual rollback: the model that served before the current champion goes back to 100%. */
export interface RollbackInput {
  modelName: string;
  reason: string;
  requestedBy?: string;
  config: ReleaseConfig;
}
export interface RollbackOutput {
  status: 'rolled-back' | 'nothing-to-roll-back-to' | 'failed';
  reason: string;
  from?: ModelRef;
  to?: ModelRef;
}
export interface ReleaseOutput {
  status: ReleaseStatus;
  reason: string;
  model: ModelRef;
  greenDeployment?: string;
  previousDeployment?: string;
  analyses: AnalyzeCanaryOutput[];
}

// --- recordDecision / notify ---
export type RunKind = 'training' | 'release' | 'rollback';
export interface RecordDecisionInput {
  runId: string;
  kind: RunKind;
  status: string;
  reason: string;
  details?: Record<string, unknown>;
}
export interface NotifyInput {
  runId: string;
  kind: RunKind;
  event: string;
  message: string;
  properties?: Record<string, string | number | boolean>;
}
