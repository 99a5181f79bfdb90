/**
 * The Azure adapter of the ML platform port: Azure ML through raw ARM REST (api-version 2024-10-01),
 * job metrics through the workspace's MLflow REST API, deployment metrics through Azure Monitor
 * platform metrics, blobs through `@azure/storage-blob`, events through `@azure/eventgrid`. The
 * credential and every client are injected: managed identity in Azure, a fake in tests.
 */
import path from 'node:path';
import type { TokenCredential } from '@azure/core-auth';
import {
  createDefaultHttpClient,
  createPipelineFromOptions,
  createPipelineRequest,
  type HttpClient,
} from '@azure/core-rest-pipeline';
import {
  assertValidName,
  MlPlatformError,
  type DataLake,
  type DeploymentInfo,
  type DeploymentMetrics,
  type DeploymentProvisioningState,
  type DeploymentSpec,
  type EndpointInfo,
  type EndpointProvisioningState,
  type EndpointSpec,
  type EventPublisher,
  type InvokeResult,
  type JobInfo,
  type JobStatus,
  type JobSubmission,
  type LongRunningOptions,
  type MlPlatform,
  type ModelType,
  type ModelVersion,
  type ModelVersionInput,
  type TrafficMap,
} from '../port.js';
import { ArmClient, armError, type ArmResponse } from './armClient.js';
import { instrumentAmlPipeline } from './telemetryPolicy.js';
import { deploymentBody, readDeploymentYaml } from './deploymentBody.js';
import { commandJobBody, type JobAssetIds } from './jobBody.js';
import { defaultOutputUri, loadCommandJob } from './jobSpec.js';
import { readDeploymentMetrics } from './monitorMetrics.js';

/** Where the workspace is and how to reach it. */
export interface AzureMlPlatformOptions {
  subscriptionId: string;
  resourceGroup: string;
  workspace: string;
  /** Azure region of the workspace (endpoint and deployment bodies carry it). */
  location: string;
  credential: TokenCredential;
  projectRoot: string;
  dataLake: DataLake;
  events: EventPublisher;
  /** Code and environment assets for specs that reference local folders or inline environments. */
  assets?: Omit<JobAssetIds, 'workspaceId'>;
  armEndpoint?: string;
  /** `https://{region}.metrics.monitor.azure.com`; default from `location`. */
  metricsEndpoint?: string;
  httpClient?: HttpClient;
  retry?: { maxRetries?: number; retryDelayInMs?: number; maxRetryDelayInMs?: number };
  minPollIntervalMs?: number;
  /** Default bound for `wait: true` operations. */
  operationTimeoutMs?: number;
}

interface ArmJob {
  name: string;
  properties: {
    status?: JobStatus;
    experimentName?: string;
    displayName?: string;
    tags?: Record<string, string> | null;
    outputs?: Record<string, { jobOutputType?: string; uri?: string | null } | null> | null;
  };
  systemData?: { createdAt?: string };
}

interface ArmModelVersion {
  name: string;
  id?: string;
  properties: {
    modelType?: string;
    modelUri?: string;
    jobName?: string;
    description?: string;
    tags?: Record<string, string> | null;
    properties?: Record<string, string> | null;
    flavors?: unknown;
    isAnonymous?: boolean;
  };
  systemData?: { createdAt?: string };
}

interface ArmEndpoint {
  name: string;
  location?: string;
  identity?: { type?: string };
  tags?: Record<string, string> | null;
  properties: {
    authMode?: string;
    description?: string;
    provisioningState?: EndpointProvisioningState;
    scoringUri?: string;
    traffic?: TrafficMap | null;
    mirrorTraffic?: TrafficMap | null;
    publicNetworkAccess?: string;
  };
}

interface ArmDeployment {
  name: string;
  tags?: Record<string, string> | null;
  sku?: { capacity?: number };
  properties: { provisioningState?: DeploymentProvisioningState; model?: string };
}

interface ArmList<T> {
  value: T[];
  nextLink?: string;
}

function jobInfo(job: ArmJob): JobInfo {
  const outputs: JobInfo['outputs'] = {};
  for (const [name, out] of Object.entries(job.properties.outputs ?? {})) {
    if (!out) continue;
    outputs[name] = {
      type: out.jobOutputType ?? 'uri_folder',
      uri: out.uri ?? defaultOutputUri(job.name, name),
    };
  }
  return {
    name: job.name,
    status: job.properties.status ?? 'Unknown',
    experimentName: job.properties.experimentName ?? 'Default',
    ...(job.properties.displayName ? { displayName: job.properties.displayName } : {}),
    tags: job.properties.tags ?? {},
    outputs,
    ...(job.systemData?.createdAt ? { createdAt: job.systemData.createdAt } : {}),
  };
}

function modelVersion(name: string, v: ArmModelVersion): ModelVersion {
  const p = v.properties;
  return {
    name,
    version: v.name,
    modelType: (p.modelType ?? 'custom_model') as ModelType,
    modelUri: p.modelUri ?? '',
    ...(p.jobName ? { jobName: p.jobName } : {}),
    ...(p.description ? { description: p.description } : {}),
    tags: p.tags ?? {},
    properties: p.properties ?? {},
    ...(v.systemData?.createdAt ? { createdAt: v.systemData.createdAt } : {}),
  };
}

function endpointInfo(e: ArmEndpoint): EndpointInfo {
  return {
    name: e.name,
    provisioningState: e.properties.provisioningState ?? 'Succeeded',
    authMode: e.properties.authMode ?? 'Key',
    ...(e.properties.scoringUri ? { scoringUri: e.properties.scoringUri } : {}),
    traffic: e.properties.traffic ?? {},
    mirrorTraffic: e.properties.mirrorTraffic ?? {},
    tags: e.tags ?? {},
  };
}

function deploymentInfo(endpointName: string, d: ArmDeployment): DeploymentInfo {
  const m = /\/models\/([^/]+)\/versions\/([^/]+)$/.exec(d.properties.model ?? '');
  return {
    endpointName,
    name: d.name,
    provisioningState: d.properties.provisioningState ?? 'Succeeded',
    model: m ? { name: m[1] ?? '', version: m[2] ?? '' } : undefined,
    instanceCount: d.sku?.capacity ?? 1,
    tags: d.tags ?? {},
  };
}

function newestFirst(a: ModelVersion, b: ModelVersion): number {
  const [x, y] = [Number(a.version), Number(b.version)];
  if (Number.isFinite(x) && Number.isFinite(y) && x !== y) return y - x;
  return (b.createdAt ?? '').localeCompare(a.createdAt ?? '');
}

/** The Azure ML platform. */
export class AzureMlPlatform implements MlPlatform {
  readonly dataLake: DataLake;
  readonly events: EventPublisher;
  readonly workspaceId: string;
  readonly #arm: ArmClient;
  readonly #options: AzureMlPlatformOptions;
  readonly #http: HttpClient;
  #mlflowBase: string | undefined;

  constructor(options: AzureMlPlatformOptions) {
    this.#options = options;
    this.dataLake = options.dataLake;
    this.events = options.events;
    this.workspaceId = `/subscriptions/${options.subscriptionId}/resourceGroups/${options.resourceGroup}/providers/Microsoft.MachineLearningServices/workspaces/${options.workspace}`;
    this.#http = options.httpClient ?? createDefaultHttpClient();
    this.#arm = new ArmClient({
      credential: options.credential,
      httpClient: this.#http,
      ...(options.armEndpoint ? { endpoint: options.armEndpoint } : {}),
      ...(options.retry ? { retry: options.retry } : {}),
      ...(options.minPollIntervalMs !== undefined ? { minPollIntervalMs: options.minPollIntervalMs } : {}),
    });
  }

  #ws(sub = '', query: Record<string, string> = {}): string {
    return this.#arm.url(`${this.workspaceId}${sub}`, undefined, query);
  }

  #timeout(options: LongRunningOptions): number {
    return options.timeoutMs ?? this.#options.operationTimeoutMs ?? 30 * 60_000;
  }

  /** GET that answers undefined for 404. */
  async #find<T>(url: string): Promise<T | undefined> {
    const res = await this.#arm.send<T>('GET', url);
    if (res.status === 404) return undefined;
    if (res.status !== 200) throw armError(res.status, res.body, `GET ${new URL(url).pathname}`);
    return res.body;
  }

  async #list<T>(url: string): Promise<T[]> {
    const items: T[] = [];
    let next: string | undefined = url;
    while (next) {
      const page: ArmResponse<ArmList<T>> = await this.#arm.call<ArmList<T>>('GET', next);
      items.push(...(page.body?.value ?? []));
      next = page.body?.nextLink;
    }
    return items;
  }

  // --- jobs ---------------------------------------------------------------------------------------

  async submitJob(submission: JobSubmission): Promise<JobInfo> {
    assertValidName('Job', submission.name);
    const url = this.#ws(`/jobs/${submission.name}`);
    // PUT on an existing job would replace its tags; a resubmission must not touch the run at all.
    const existing = await this.#find<ArmJob>(url);
    if (existing) return jobInfo(existing);
    const job = await loadCommandJob(submission, this.#options.projectRoot);
    if (typeof job.environment === 'string')
      job.environment = await this.#resolveLatest('environments', job.environment);
    if (job.code?.startsWith('azureml:')) job.code = await this.#resolveLatest('codes', job.code);
    const body = commandJobBody(job, { workspaceId: this.workspaceId, ...this.#options.assets });
    const res = await this.#arm.call<ArmJob>('PUT', url, body, `Submitting job ${submission.name}`);
    return jobInfo(res.body);
  }

  /** `azureml:name@latest` → `azureml:name:{latestVersion}`, as the CLI resolves it before submitting. */
  async #resolveLatest(kind: 'environments' | 'codes', ref: string): Promise<string> {
    const m = /^azureml:([^:@]+)@latest$/.exec(ref);
    if (!m) return ref;
    const container = await this.#arm.call<{ properties?: { latestVersion?: string } }>(
      'GET',
      this.#ws(`/${kind}/${m[1]}`),
      undefined,
      `Latest version of ${ref}`,
    );
    const latest = container.body?.properties?.latestVersion;
    if (!latest)
      throw new MlPlatformError('JobSpecInvalid', `${ref}: the workspace reports no latest version.`);
    return `azureml:${m[1]}:${latest}`;
  }

  async getJob(name: string): Promise<JobInfo> {
    return jobInfo(
      (await this.#arm.call<ArmJob>('GET', this.#ws(`/jobs/${name}`), undefined, `Job ${name}`)).body,
    );
  }

  async #mlflow(): Promise<string> {
    if (!this.#mlflowBase) {
      const ws = await this.#arm.call<{ properties?: { mlFlowTrackingUri?: string } }>('GET', this.#ws());
      const uri = ws.body?.properties?.mlFlowTrackingUri;
      if (!uri)
        throw new MlPlatformError(
          'Unavailable',
          `Workspace ${this.#options.workspace} reports no mlFlowTrackingUri.`,
        );
      this.#mlflowBase = uri.replace(/^azureml:\/\//, 'https://').replace(/\/$/, '');
    }
    return this.#mlflowBase;
  }

  async getJobMetrics(name: string): Promise<Record<string, number>> {
    const base = await this.#mlflow();
    const res = await this.#arm.send<{ run?: { data?: { metrics?: { key: string; value: number }[] } } }>(
      'GET',
      `${base}/api/2.0/mlflow/runs/get?run_id=${encodeURIComponent(name)}`,
    );
    if (res.status === 404) {
      await this.getJob(name); // NotFound for an unknown job; a known job simply has no run metrics yet.
      return {};
    }
    if (res.status !== 200) throw armError(res.status, res.body, `MLflow run ${name}`);
    return Object.fromEntries((res.body?.run?.data?.metrics ?? []).map((m) => [m.key, Number(m.value)]));
  }

  async cancelJob(name: string): Promise<JobInfo> {
    const job = await this.getJob(name);
    if (['Completed', 'Failed', 'Canceled'].includes(job.status)) return job;
    await this.#arm.call('POST', this.#ws(`/jobs/${name}/cancel`), undefined, `Cancelling job ${name}`);
    return this.getJob(name);
  }

  // --- registry -----------------------------------------------------------------------------------

  async registerModel(input: ModelVersionInput): Promise<ModelVersion> {
    assertValidName('Model', input.name);
    const url = this.#ws(`/models/${input.name}/versions/${input.version}`);
    const existing = await this.#find<ArmModelVersion>(url);
    const wanted = {
      modelType: input.modelType ?? 'custom_model',
      modelUri: input.modelUri,
      jobName: input.jobName ?? '',
      properties: input.properties ?? {},
    };
    if (existing) {
      const current = modelVersion(input.name, existing);
      const same =
        current.modelType === wanted.modelType &&
        current.modelUri === wanted.modelUri &&
        (current.jobName ?? '') === wanted.jobName &&
        JSON.stringify(current.properties) === JSON.stringify(wanted.properties);
      if (same) return current;
      throw new MlPlatformError(
        'Conflict',
        `Model ${input.name}:${input.version} exists with different content.`,
        {
          platformCode: 'Conflict',
        },
      );
    }
    const container = this.#ws(`/models/${input.name}`);
    if (!(await this.#find(container))) {
      await this.#arm.call(
        'PUT',
        container,
        { properties: { description: input.description ?? '' } },
        `Model container ${input.name}`,
      );
    }
    const res = await this.#arm.call<ArmModelVersion>(
      'PUT',
      url,
      {
        properties: {
          modelType: wanted.modelType,
          modelUri: input.modelUri,
          ...(input.jobName ? { jobName: input.jobName } : {}),
          ...(input.description ? { description: input.description } : {}),
          tags: input.tags ?? {},
          properties: wanted.properties,
          isAnonymous: false,
        },
      },
      `Registering ${input.name}:${input.version}`,
    );
    return modelVersion(input.name, res.body);
  }

  async getModel(name: string, version: string): Promise<ModelVersion> {
    const res = await this.#arm.call<ArmModelVersion>(
      'GET',
      this.#ws(`/models/${name}/versions/${version}`),
      undefined,
      `Model ${name}:${version}`,
    );
    return modelVersion(name, res.body);
  }

  async listModels(
    name: string,
    filter?: { tag?: { key: string; value?: string } },
  ): Promise<ModelVersion[]> {
    const tag = filter?.tag;
    const query: Record<string, string> = { $orderBy: 'createdtime desc' };
    if (tag) query.tags = tag.value === undefined ? tag.key : `${tag.key}=${tag.value}`;
    const url = this.#ws(`/models/${name}/versions`, query);
    let versions: ArmModelVersion[];
    try {
      versions = await this.#list<ArmModelVersion>(url);
    } catch (err) {
      if (err instanceof MlPlatformError && err.code === 'NotFound') return [];
      throw err;
    }
    return versions.map((v) => modelVersion(name, v)).sort(newestFirst);
  }

  async setModelTags(name: string, version: string, tags: Record<string, string>): Promise<ModelVersion> {
    const url = this.#ws(`/models/${name}/versions/${version}`);
    const current = await this.#arm.call<ArmModelVersion>('GET', url, undefined, `Model ${name}:${version}`);
    // Re-PUT only the writable fields: read-only ones (provisioningState) are refused on input.
    const { modelType, modelUri, jobName, description, properties, flavors, isAnonymous } =
      current.body.properties;
    const body = {
      properties: {
        modelType,
        modelUri,
        ...(jobName ? { jobName } : {}),
        ...(description ? { description } : {}),
        properties: properties ?? {},
        ...(flavors ? { flavors } : {}),
        ...(isAnonymous !== undefined ? { isAnonymous } : {}),
        tags: { ...current.body.properties.tags, ...tags },
      },
    };
    return modelVersion(
      name,
      (await this.#arm.call<ArmModelVersion>('PUT', url, body, `Tagging ${name}:${version}`)).body,
    );
  }

  // --- endpoints ----------------------------------------------------------------------------------

  async #putEndpoint(
    name: string,
    body: Record<string, unknown>,
    options: LongRunningOptions,
  ): Promise<EndpointInfo> {
    const url = this.#ws(`/onlineEndpoints/${name}`);
    const res = await this.#arm.call<ArmEndpoint>('PUT', url, body, `Endpoint ${name}`);
    if (options.wait) {
      await this.#arm.waitForOperation(res, `Endpoint ${name}`, this.#timeout(options));
      return this.getEndpoint(name);
    }
    return endpointInfo(res.body);
  }

  async createOrUpdateEndpoint(spec: EndpointSpec, options: LongRunningOptions = {}): Promise<EndpointInfo> {
    assertValidName('Endpoint', spec.name);
    const existing = await this.#find<ArmEndpoint>(this.#ws(`/onlineEndpoints/${spec.name}`));
    // A full PUT: carry traffic and mirror traffic over, or the update would reset them.
    return this.#putEndpoint(
      spec.name,
      {
        location: existing?.location ?? this.#options.location,
        identity: { type: existing?.identity?.type ?? 'SystemAssigned' },
        tags: spec.tags ?? existing?.tags ?? {},
        properties: {
          authMode: spec.authMode ?? existing?.properties.authMode ?? 'Key',
          ...((spec.description ?? existing?.properties.description)
            ? { description: spec.description ?? existing?.properties.description }
            : {}),
          publicNetworkAccess: existing?.properties.publicNetworkAccess ?? 'Enabled',
          traffic: existing?.properties.traffic ?? {},
          mirrorTraffic: existing?.properties.mirrorTraffic ?? {},
        },
      },
      options,
    );
  }

  async getEndpoint(name: string): Promise<EndpointInfo> {
    return endpointInfo(
      (
        await this.#arm.call<ArmEndpoint>(
          'GET',
          this.#ws(`/onlineEndpoints/${name}`),
          undefined,
          `Endpoint ${name}`,
        )
      ).body,
    );
  }

  async createOrUpdateDeployment(
    spec: DeploymentSpec,
    options: LongRunningOptions = {},
  ): Promise<DeploymentInfo> {
    assertValidName('Deployment', spec.name);
    const yaml = spec.specPath
      ? await readDeploymentYaml(path.resolve(this.#options.projectRoot, spec.specPath))
      : {};
    const body = deploymentBody(spec, yaml, {
      workspaceId: this.workspaceId,
      location: this.#options.location,
      ...(this.#options.assets?.environmentIds
        ? { environmentIds: this.#options.assets.environmentIds }
        : {}),
    });
    const url = this.#ws(`/onlineEndpoints/${spec.endpointName}/deployments/${spec.name}`);
    const res = await this.#arm.call<ArmDeployment>(
      'PUT',
      url,
      body,
      `Deployment ${spec.endpointName}/${spec.name}`,
    );
    if (options.wait) {
      await this.#arm.waitForOperation(
        res,
        `Deployment ${spec.endpointName}/${spec.name}`,
        this.#timeout(options),
      );
      return this.getDeployment(spec.endpointName, spec.name);
    }
    return deploymentInfo(spec.endpointName, res.body);
  }

  async getDeployment(endpointName: string, name: string): Promise<DeploymentInfo> {
    const url = this.#ws(`/onlineEndpoints/${endpointName}/deployments/${name}`);
    return deploymentInfo(
      endpointName,
      (await this.#arm.call<ArmDeployment>('GET', url, undefined, `Deployment ${endpointName}/${name}`)).body,
    );
  }

  async listDeployments(endpointName: string): Promise<DeploymentInfo[]> {
    const items = await this.#list<ArmDeployment>(this.#ws(`/onlineEndpoints/${endpointName}/deployments`));
    return items.map((d) => deploymentInfo(endpointName, d));
  }

  async setTraffic(
    endpointName: string,
    traffic: TrafficMap,
    mirrorTraffic: TrafficMap = {},
    options: LongRunningOptions = {},
  ): Promise<EndpointInfo> {
    const current = await this.#arm.call<ArmEndpoint>(
      'GET',
      this.#ws(`/onlineEndpoints/${endpointName}`),
      undefined,
      `Endpoint ${endpointName}`,
    );
    const e = current.body;
    // Traffic moves are full PUTs (PATCH carries only tags and identity), sent raw so mirrorTraffic survives.
    return this.#putEndpoint(
      endpointName,
      {
        location: e.location ?? this.#options.location,
        identity: { type: e.identity?.type ?? 'SystemAssigned' },
        tags: e.tags ?? {},
        properties: {
          authMode: e.properties.authMode ?? 'Key',
          ...(e.properties.description ? { description: e.properties.description } : {}),
          publicNetworkAccess: e.properties.publicNetworkAccess ?? 'Enabled',
          traffic,
          mirrorTraffic,
        },
      },
      options,
    );
  }

  async deleteDeployment(
    endpointName: string,
    name: string,
    options: LongRunningOptions = {},
  ): Promise<void> {
    const url = this.#ws(`/onlineEndpoints/${endpointName}/deployments/${name}`);
    const res = await this.#arm.send('DELETE', url);
    if (res.status === 404 || res.status === 204) return;
    if (res.status !== 200 && res.status !== 202)
      throw armError(res.status, res.body, `Deleting deployment ${endpointName}/${name}`);
    if (options.wait)
      await this.#arm.waitForOperation(
        res,
        `Deleting deployment ${endpointName}/${name}`,
        this.#timeout(options),
      );
  }

  async getDeploymentMetrics(
    endpointName: string,
    deployment: string,
    windowMs: number,
  ): Promise<DeploymentMetrics> {
    return readDeploymentMetrics(this.#arm, {
      metricsEndpoint:
        this.#options.metricsEndpoint ?? `https://${this.#options.location}.metrics.monitor.azure.com`,
      subscriptionId: this.#options.subscriptionId,
      endpointResourceId: `${this.workspaceId}/onlineEndpoints/${endpointName}`,
      deployment,
      windowMs,
    });
  }

  async invokeEndpoint(
    endpointName: string,
    body: unknown,
    options: { deployment?: string } = {},
  ): Promise<InvokeResult> {
    const endpoint = await this.getEndpoint(endpointName);
    if (!endpoint.scoringUri)
      throw new MlPlatformError('Unavailable', `Endpoint ${endpointName} has no scoring URI yet.`);
    const keys = await this.#arm.call<{ primaryKey: string }>(
      'POST',
      this.#ws(`/onlineEndpoints/${endpointName}/listKeys`),
    );
    // Scoring authenticates with the endpoint key, so it bypasses the ARM bearer policy.
    const pipeline = instrumentAmlPipeline(createPipelineFromOptions({ retryOptions: { maxRetries: 0 } }));
    const request = createPipelineRequest({
      url: endpoint.scoringUri,
      method: 'POST',
      body: JSON.stringify(body),
    });
    request.headers.set('Authorization', `Bearer ${keys.body.primaryKey}`);
    request.headers.set('Content-Type', 'application/json');
    if (options.deployment) request.headers.set('azureml-model-deployment', options.deployment);
    const res = await pipeline.sendRequest(this.#http, request);
    let parsed: unknown = res.bodyAsText;
    try {
      parsed = JSON.parse(res.bodyAsText ?? '');
    } catch {
      // Not JSON: keep the text.
    }
    const served = res.headers.get('azureml-model-deployment');
    return { status: res.status, body: parsed, ...(served ? { deployment: served } : {}) };
  }
}
