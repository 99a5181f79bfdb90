/**
 * The ML platform port: everything activities need from Azure ML (jobs, model registry, online
 * endpoints, traffic, deployment metrics), the data lake and event publishing. Two adapters implement it:
 * `aml/azure/` (ARM REST, MLflow REST, Azure Monitor) and `aml/local/` (local processes, Azurite).
 * Only `functions/` chooses the adapter; activities see this file only.
 */
import type { Readable } from 'node:stream';

// ---------------------------------------------------------------------------------------------------------
// Errors

/** Port error codes: the same code means the same thing whichever adapter raised it. */
export type MlPlatformErrorCode =
  /** The named job, model, endpoint or deployment does not exist. */
  | 'NotFound'
  /** The request contradicts the resource's current state (e.g. deleting a deployment that takes traffic). */
  | 'Conflict'
  /** The request is malformed or breaks a platform rule (traffic not summing to 100, bad name, ...). */
  | 'InvalidRequest'
  /** A job spec (CLI v2 YAML) cannot be read or cannot be expressed on this platform. */
  | 'JobSpecInvalid'
  /** The platform throttled the call (HTTP 429) and retries were exhausted. */
  | 'Throttled'
  /** The platform failed or was unreachable (5xx, network) and retries were exhausted. */
  | 'Unavailable'
  /** The caller's identity was refused (401/403). */
  | 'Unauthorized'
  /** A long-running operation reached Failed or Canceled. */
  | 'OperationFailed'
  /** Waiting for a long-running operation ran out of time. */
  | 'Timeout';

const transientCodes: ReadonlySet<MlPlatformErrorCode> = new Set(['Throttled', 'Unavailable', 'Timeout']);

/** Every failure the port raises: `code` is stable, `platformCode` is the raw code (e.g. the ARM error code). */
export class MlPlatformError extends Error {
  override readonly name = 'MlPlatformError';
  /** True when the same call may succeed later (activities should let Durable retry it). */
  readonly transient: boolean;

  constructor(
    readonly code: MlPlatformErrorCode,
    message: string,
    readonly details: { platformCode?: string; status?: number; target?: string; cause?: unknown } = {},
  ) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.transient = transientCodes.has(code);
  }

  get platformCode(): string | undefined {
    return this.details.platformCode;
  }

  get status(): number | undefined {
    return this.details.status;
  }
}

/** True when `err` is a port error with the given code (any code when omitted). */
export function isMlPlatformError(err: unknown, code?: MlPlatformErrorCode): err is MlPlatformError {
  return err instanceof MlPlatformError && (code === undefined || err.code === code);
}

// ---------------------------------------------------------------------------------------------------------
// Jobs

/** Azure ML `JobStatus` values (REST spec 2024-10-01). */
export type JobStatus =
  | 'NotStarted'
  | 'Starting'
  | 'Provisioning'
  | 'Preparing'
  | 'Queued'
  | 'Running'
  | 'Finalizing'
  | 'CancelRequested'
  | 'Completed'
  | 'Failed'
  | 'Canceled'
  | 'NotResponding'
  | 'Paused'
  | 'Unknown';

/** The statuses after which a job never changes again. */
export const terminalJobStatuses: ReadonlySet<JobStatus> = new Set(['Completed', 'Failed', 'Canceled']);

/** True when a job in this status will not change any more. */
export function isTerminalJobStatus(status: JobStatus): boolean {
  return terminalJobStatuses.has(status);
}

/** A job input overriding the spec's: a literal, or data addressed by an `azureml://` URI. */
export type JobInputValue =
  string | number | boolean | { type: 'uri_folder' | 'uri_file' | 'mltable'; path: string; mode?: string };

/** A job output overriding the spec's: where to write it. */
export interface JobOutputValue {
  type?: 'uri_folder' | 'uri_file' | 'mlflow_model' | 'custom_model';
  /** `azureml://datastores/{ds}/paths/{path}`; default `.../paths/azureml/{jobName}/{output}/`. */
  path?: string;
}

/** What a caller submits: a CLI v2 command job spec plus a caller-chosen, idempotent name. */
export interface JobSubmission {
  /** Job name; resubmitting the same name returns the existing job instead of starting a second run. */
  name: string;
  /** Path of the CLI v2 YAML (e.g. `aml/jobs/train.yml`), relative to the project root or absolute. */
  specPath: string;
  inputs?: Record<string, JobInputValue>;
  outputs?: Record<string, JobOutputValue>;
  /** Merged over the spec's tags. */
  tags?: Record<string, string>;
  experimentName?: string;
  displayName?: string;
}

/** A job as the platform reports it. */
export interface JobInfo {
  name: string;
  status: JobStatus;
  experimentName: string;
  displayName?: string;
  tags: Record<string, string>;
  /** Each output's location as an `azureml://datastores/...` URI. */
  outputs: Record<string, { type: string; uri: string }>;
  /** When the platform says why a job failed (the local adapter does; ARM does not). */
  error?: string;
  createdAt?: string;
}

// ---------------------------------------------------------------------------------------------------------
// Model registry

/** `custom_model | mlflow_model | triton_model`, the values the v2 CLI/SDK send. */
export type ModelType = 'custom_model' | 'mlflow_model' | 'triton_model';

/** A model version to register. Name and version are the caller's: re-registering the same is a no-op. */
export interface ModelVersionInput {
  name: string;
  /** Azure ML version string; integers are conventional. */
  version: string;
  modelType?: ModelType;
  /** `azureml://jobs/{job}/outputs/{output}` or `azureml://datastores/{ds}/paths/{path}`. */
  modelUri: string;
  jobName?: string;
  description?: string;
  tags?: Record<string, string>;
  properties?: Record<string, string>;
}

/** A registered model version. */
export interface ModelVersion {
  name: string;
  version: string;
  modelType: ModelType;
  modelUri: string;
  jobName?: string;
  description?: string;
  tags: Record<string, string>;
  properties: Record<string, string>;
  createdAt?: string;
}

// ---------------------------------------------------------------------------------------------------------
// Online endpoints

/** Endpoint provisioning states (REST spec). */
export type EndpointProvisioningState =
  'Creating' | 'Deleting' | 'Succeeded' | 'Failed' | 'Updating' | 'Canceled';
/** Deployment provisioning states (REST spec). */
export type DeploymentProvisioningState =
  'Creating' | 'Deleting' | 'Scaling' | 'Updating' | 'Succeeded' | 'Failed' | 'Canceled';

/** Percent of live traffic per deployment name: sums to 100, or `{}` when none takes traffic. */
export type TrafficMap = Record<string, number>;

/** An online endpoint to create or update (traffic is changed with setTraffic only). */
export interface EndpointSpec {
  name: string;
  authMode?: 'Key' | 'AMLToken' | 'AADToken';
  description?: string;
  tags?: Record<string, string>;
}

/** An online endpoint as the platform reports it. */
export interface EndpointInfo {
  name: string;
  provisioningState: EndpointProvisioningState;
  authMode: string;
  scoringUri?: string;
  traffic: TrafficMap;
  mirrorTraffic: TrafficMap;
  tags: Record<string, string>;
}

/** A deployment to create or update under an endpoint. */
export interface DeploymentSpec {
  endpointName: string;
  name: string;
  model: { name: string; version: string };
  /** CLI v2 managedOnlineDeployment YAML giving instance type, probes and environment (optional). */
  specPath?: string;
  instanceCount?: number;
  instanceType?: string;
  environmentVariables?: Record<string, string>;
  tags?: Record<string, string>;
}

/** A deployment as the platform reports it. */
export interface DeploymentInfo {
  endpointName: string;
  name: string;
  provisioningState: DeploymentProvisioningState;
  model: { name: string; version: string } | undefined;
  instanceCount: number;
  tags: Record<string, string>;
}

/** Options of calls that start a long-running operation. */
export interface LongRunningOptions {
  /** Wait until the operation is terminal (throws OperationFailed on failure). Default false: return once accepted. */
  wait?: boolean;
  /** Upper bound when waiting. */
  timeoutMs?: number;
}

/** Request statistics of one deployment over a window. */
export interface DeploymentMetrics {
  deployment: string;
  windowMs: number;
  requests: number;
  /** Null when there were no requests. */
  p95LatencyMs: number | null;
  /** Non-2xx responses / requests; 0 when there were no requests. */
  errorRate: number;
}

/** A scoring call's answer. */
export interface InvokeResult {
  status: number;
  body: unknown;
  /** Which deployment served the request, when the platform says so. */
  deployment?: string;
}

// ---------------------------------------------------------------------------------------------------------
// Data lake and events

/** A blob as listed. */
export interface BlobItem {
  container: string;
  path: string;
  size: number;
  etag: string;
  lastModified: Date;
  metadata?: Record<string, string>;
}

/** A held blob lease; release it (or let it expire). */
export interface BlobLease {
  leaseId: string;
  renew(): Promise<void>;
  release(): Promise<void>;
}

/** The data lake: blob containers addressed by container and path. */
export interface DataLake {
  /** Writes a blob (overwrites unless `ifNoneMatch` is set, which fails with Conflict when it exists). */
  upload(
    container: string,
    path: string,
    data: Buffer | string | Readable,
    options?: { contentType?: string; metadata?: Record<string, string>; ifNoneMatch?: boolean },
  ): Promise<{ etag: string }>;
  /** Reads a whole blob; NotFound when absent. */
  download(container: string, path: string): Promise<Buffer>;
  /** Streams a blob into a local file, creating folders. */
  downloadToFile(container: string, path: string, file: string): Promise<void>;
  /** Lists blobs under a prefix. */
  list(container: string, prefix?: string): Promise<BlobItem[]>;
  /** Takes a lease (15–60 s, or -1 for infinite); Conflict when another holder has it. */
  acquireLease(container: string, path: string, durationSeconds: number): Promise<BlobLease>;
}

/** An event the app publishes to its custom Event Grid topic. */
export interface PublishedEvent {
  eventType: string;
  subject: string;
  data: unknown;
  dataVersion?: string;
  id?: string;
}

/** Event publishing to the app's custom topic. */
export interface EventPublisher {
  publish(events: PublishedEvent[]): Promise<void>;
}

// ---------------------------------------------------------------------------------------------------------
// The port

/** The ML platform port. Every mutating call is a create-or-update by caller-chosen name, safe to repeat. */
export interface MlPlatform {
  /** Submits a command job; returns the existing job when `name` was already submitted. */
  submitJob(job: JobSubmission): Promise<JobInfo>;
  /** Current state of a job; NotFound when unknown. */
  getJob(name: string): Promise<JobInfo>;
  /** Numeric metrics the job logged (latest value per key); empty until it logs any. */
  getJobMetrics(name: string): Promise<Record<string, number>>;
  /** Requests cancellation; a no-op for terminal jobs. */
  cancelJob(name: string): Promise<JobInfo>;

  /** Registers a model version; identical re-registration returns the existing one, a different body is a Conflict. */
  registerModel(model: ModelVersionInput): Promise<ModelVersion>;
  /** One model version; NotFound when absent. */
  getModel(name: string, version: string): Promise<ModelVersion>;
  /** All versions of a model (optionally those carrying a tag value), newest first. */
  listModels(name: string, filter?: { tag?: { key: string; value?: string } }): Promise<ModelVersion[]>;
  /** Merges tags into a version (tags are the only mutable part besides the description). */
  setModelTags(name: string, version: string, tags: Record<string, string>): Promise<ModelVersion>;

  /** Creates or updates an endpoint, keeping its current traffic. */
  createOrUpdateEndpoint(spec: EndpointSpec, options?: LongRunningOptions): Promise<EndpointInfo>;
  /** An endpoint; NotFound when absent. */
  getEndpoint(name: string): Promise<EndpointInfo>;
  /** Creates or updates a deployment; it takes no traffic until setTraffic. */
  createOrUpdateDeployment(spec: DeploymentSpec, options?: LongRunningOptions): Promise<DeploymentInfo>;
  /** A deployment; NotFound when absent. */
  getDeployment(endpointName: string, name: string): Promise<DeploymentInfo>;
  /** Deployments of an endpoint. */
  listDeployments(endpointName: string): Promise<DeploymentInfo[]>;
  /** Replaces live and mirror traffic (sum 100 or empty; mirror ≤ 50 and only to a deployment without live traffic). */
  setTraffic(
    endpointName: string,
    traffic: TrafficMap,
    mirrorTraffic?: TrafficMap,
    options?: LongRunningOptions,
  ): Promise<EndpointInfo>;
  /** Deletes a deployment; Conflict while it takes live or mirror traffic; a no-op when absent. */
  deleteDeployment(endpointName: string, name: string, options?: LongRunningOptions): Promise<void>;
  /** Requests, p95 latency and error rate of one deployment over the last `windowMs`. */
  getDeploymentMetrics(
    endpointName: string,
    deployment: string,
    windowMs: number,
  ): Promise<DeploymentMetrics>;
  /** Scores through the endpoint (traffic split) or, with `deployment`, through one deployment. */
  invokeEndpoint(
    endpointName: string,
    body: unknown,
    options?: { deployment?: string },
  ): Promise<InvokeResult>;

  readonly dataLake: DataLake;
  readonly events: EventPublisher;
}

const resourceName = /^[a-zA-Z0-9][a-zA-Z0-9\-_]{0,254}$/;

/** Throws InvalidRequest unless `name` follows Azure ML's naming rule for jobs, endpoints, deployments and assets. */
export function assertValidName(kind: string, name: string): void {
  if (!resourceName.test(name)) {
    throw new MlPlatformError(
      'InvalidRequest',
      `${kind} name '${name}' is invalid: use 1-255 letters, digits, '-' or '_', starting with a letter or digit.`,
      { platformCode: 'InvalidName' },
    );
  }
}
