/**
 * The local adapter of the ML platform port: jobs as local processes, the registry in Azurite, endpoints
 * served by the local endpoint manager (aml/local/endpoint), the data lake in Azurite and events through
 * the local Event Grid. Everything it talks to listens on 127.0.0.1.
 */
import { mkdir, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { AzureKeyCredential, EventGridPublisherClient } from '@azure/eventgrid';
import { BlobServiceClient } from '@azure/storage-blob';
import { postSystemEvents } from '../../local/eventgrid/topic.js';
import type { EventGridEvent } from '../../local/eventgrid/schema.js';
import type { HostLogger } from '../../local/log.js';
import { BlobDataLake } from '../azure/blobDataLake.js';
import { EventGridTopicPublisher } from '../azure/eventPublisher.js';
import {
  EndpointError,
  LocalEndpointManager,
  deploymentSpecFromYaml,
  readDeploymentYaml,
  type DeploymentView,
  type EndpointView,
  type FaultSettings,
  type LocalEndpointManagerOptions,
} from './endpoint/index.js';
import {
  MlPlatformError,
  type DataLake,
  type DeploymentInfo,
  type DeploymentMetrics,
  type DeploymentSpec,
  type EndpointInfo,
  type EndpointSpec,
  type EventPublisher,
  type InvokeResult,
  type JobInfo,
  type JobSubmission,
  type LongRunningOptions,
  type MlPlatform,
  type ModelVersion,
  type ModelVersionInput,
  type TrafficMap,
} from '../port.js';
import { defaultDatastores, type DatastoreMap } from './datastores.js';
import { EventOutbox } from './eventOutbox.js';
import { LocalJobRunner } from './jobs.js';
import {
  localWorkspaceTopic,
  modelRegisteredEvent,
  runCompletedEvent,
  runStatusChangedEvent,
} from './mlEvents.js';
import { LocalModelRegistry } from './registry.js';

/** Where the local Event Grid listens (see local/eventgrid). */
export interface LocalEventGridTarget {
  /** Custom topic endpoint for the app's own events (`.../api/events`). */
  topicEndpoint: string;
  /** System-event endpoint the platform emits ML events to (`.../api/system-events`). */
  systemEndpoint: string;
  key: string;
}

/** Options of the local ML platform. */
export interface LocalMlPlatformOptions {
  projectRoot: string;
  /** Job folders, downloaded models and endpoint state live here. */
  stateDir: string;
  /** Azurite. */
  storageConnectionString: string;
  datastores?: DatastoreMap;
  /** Without it, app events cannot be published and ML events are not emitted. */
  eventGrid?: LocalEventGridTarget;
  /** The workspace name in emitted events' topic. */
  workspace?: string;
  /** What happens to jobs a previous host left running. */
  jobRecovery?: 'fail' | 'rerun';
  /** Options for the endpoint manager (launcher for tests, timeouts). */
  endpoints?: Omit<LocalEndpointManagerOptions, 'stateDir'>;
  now?: () => Date;
  logger?: HostLogger;
  /**
   * Faults injected into deployments by name (e.g. `{ v3: { addedLatencyMs: 800 } }`): how tests and demos get
   * a misbehaving green through the ordinary createOrUpdateDeployment path.
   */
  deploymentFaults?: Record<string, FaultSettings>;
}

const endpointErrorCodes: Record<string, MlPlatformError['code']> = {
  EndpointNotFound: 'NotFound',
  DeploymentNotFound: 'NotFound',
  InvalidTraffic: 'InvalidRequest',
  InvalidMirrorTraffic: 'InvalidRequest',
  InvalidDeploymentSpec: 'InvalidRequest',
  DeploymentHasTraffic: 'Conflict',
  DeploymentFailed: 'OperationFailed',
  DeploymentTimeout: 'Timeout',
  ManagerStopped: 'Unavailable',
  StateCorrupt: 'Unavailable',
};

/** Runs `fn`, turning the endpoint library's errors into port errors. */
async function endpointCall<T>(fn: () => T | Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof EndpointError) {
      throw new MlPlatformError(endpointErrorCodes[err.code] ?? 'InvalidRequest', err.message, {
        platformCode: err.code,
        status: err.status,
        cause: err,
      });
    }
    throw err;
  }
}

function endpointInfo(view: EndpointView): EndpointInfo {
  return {
    name: view.name,
    provisioningState: view.provisioningState,
    authMode: view.authMode,
    scoringUri: view.scoringUri,
    traffic: { ...view.traffic },
    mirrorTraffic: { ...view.mirrorTraffic },
    tags: { ...view.tags },
  };
}

function parseModelRef(ref: string | undefined): { name: string; version: string } | undefined {
  const m = /^azureml:([^:]+):(.+)$/.exec(ref ?? '');
  return m ? { name: m[1] ?? '', version: m[2] ?? '' } : undefined;
}

function deploymentInfo(endpointName: string, view: DeploymentView): DeploymentInfo {
  return {
    endpointName,
    name: view.name,
    provisioningState: view.provisioningState,
    model: parseModelRef(view.spec.model),
    instanceCount: view.instanceCount,
    tags: { ...view.spec.tags },
  };
}

/** The local ML platform. Create with `LocalMlPlatform.open`, end with `stop`. */
export class LocalMlPlatform implements MlPlatform {
  readonly dataLake: DataLake;
  readonly events: EventPublisher;
  readonly jobs: LocalJobRunner;
  readonly registry: LocalModelRegistry;
  readonly #options: LocalMlPlatformOptions;
  readonly #topic: string;
  readonly #now: () => Date;
  #endpoints: LocalEndpointManager | undefined;
  #endpointsOpening: Promise<LocalEndpointManager> | undefined;
  /**
   * Deployments this process restored from a previous host's state, by `endpoint/deployment`: when each
   * became ready again (undefined while it is starting).
   */
  readonly #restoredReadyAt = new Map<string, number | undefined>();
  readonly #outbox: EventOutbox | undefined;

  private constructor(options: LocalMlPlatformOptions) {
    this.#options = options;
    this.#now = options.now ?? (() => new Date());
    this.#topic = localWorkspaceTopic(options.workspace);
    this.dataLake = new BlobDataLake(BlobServiceClient.fromConnectionString(options.storageConnectionString));
    const target = options.eventGrid;
    this.events = target
      ? new EventGridTopicPublisher(
          new EventGridPublisherClient(
            target.topicEndpoint,
            'EventGrid',
            new AzureKeyCredential(target.key),
            {
              allowInsecureConnection: true,
            },
          ),
        )
      : {
          publish: () =>
            Promise.reject(
              new MlPlatformError(
                'InvalidRequest',
                'No local Event Grid topic is configured for publishing.',
              ),
            ),
        };
    this.#outbox = target
      ? new EventOutbox({
          send: (events) => postSystemEvents(target.systemEndpoint, target.key, events),
          onError: (err, pending) =>
            options.logger?.warn('Local Event Grid unreachable; ML events will be re-sent', {
              pending,
              error: err instanceof Error ? err.message : String(err),
            }),
        })
      : undefined;
    const datastores = { ...defaultDatastores, ...options.datastores };
    this.jobs = new LocalJobRunner({
      projectRoot: options.projectRoot,
      stateDir: options.stateDir,
      connectionString: options.storageConnectionString,
      dataLake: this.dataLake,
      datastores,
      now: this.#now,
      ...(options.jobRecovery ? { recovery: options.jobRecovery } : {}),
      onStatus: async (info) => {
        const events = [runStatusChangedEvent(this.#topic, info, info.status, this.#now())];
        if (info.status === 'Completed') events.push(runCompletedEvent(this.#topic, info, this.#now()));
        await this.#emit(events);
      },
    });
    this.registry = new LocalModelRegistry({
      connectionString: options.storageConnectionString,
      dataLake: this.dataLake,
      resolveModelUri: (uri) => this.jobs.resolveUri(uri),
      onRegistered: (model) => this.#emit([modelRegisteredEvent(this.#topic, model, this.#now())]),
      now: this.#now,
    });
  }

  /** Opens the platform: recovers jobs a previous host left running; endpoints start on first use. */
  static async open(options: LocalMlPlatformOptions): Promise<LocalMlPlatform> {
    const platform = new LocalMlPlatform(options);
    await mkdir(options.stateDir, { recursive: true });
    await platform.jobs.recover();
    return platform;
  }

  /** The workspace topic its ML events carry. */
  get workspaceTopic(): string {
    return this.#topic;
  }

  async #emit(events: EventGridEvent[]): Promise<void> {
    await this.#outbox?.enqueue(events);
  }

  async #manager(): Promise<LocalEndpointManager> {
    // One manager per platform, however many calls arrive while it opens.
    this.#endpointsOpening ??= LocalEndpointManager.open({
      ...this.#options.endpoints,
      stateDir: path.join(this.#options.stateDir, 'endpoints'),
    }).then((manager) => {
      this.#endpoints = manager;
      this.#watchRestored(manager);
      return manager;
    });
    return this.#endpointsOpening;
  }

  /** Notes when each deployment a previous host left running is ready again (see getDeploymentMetrics). */
  #watchRestored(manager: LocalEndpointManager): void {
    for (const endpoint of manager.listEndpoints()) {
      for (const deployment of endpoint.deployments) {
        const key = `${endpoint.name}/${deployment.name}`;
        this.#restoredReadyAt.set(key, undefined);
        manager.waitForDeployment(endpoint.name, deployment.name).then(
          () => {
            if (this.#restoredReadyAt.has(key)) this.#restoredReadyAt.set(key, this.#now().getTime());
          },
          // A deployment that does not come back shows its failures in its metrics.
          () => this.#restoredReadyAt.delete(key),
        );
      }
    }
  }

  /** Stops job processes and endpoints; state stays for the next `open`. */
  async stop(): Promise<void> {
    await this.jobs.stop();
    await this.#endpoints?.stop();
    await this.#outbox?.flush();
    const dropped = this.#outbox?.stop() ?? [];
    if (dropped.length > 0)
      this.#options.logger?.warn('ML events not delivered before stop', { dropped: dropped.length });
  }

  /** ML events still waiting for the local Event Grid. */
  get pendingEvents(): number {
    return this.#outbox?.pending ?? 0;
  }

  submitJob(job: JobSubmission): Promise<JobInfo> {
    return this.jobs.submit(job);
  }

  getJob(name: string): Promise<JobInfo> {
    return this.jobs.get(name);
  }

  getJobMetrics(name: string): Promise<Record<string, number>> {
    return this.jobs.metrics(name);
  }

  cancelJob(name: string): Promise<JobInfo> {
    return this.jobs.cancel(name);
  }

  registerModel(model: ModelVersionInput): Promise<ModelVersion> {
    return this.registry.register(model);
  }

  getModel(name: string, version: string): Promise<ModelVersion> {
    return this.registry.get(name, version);
  }

  listModels(name: string, filter?: { tag?: { key: string; value?: string } }): Promise<ModelVersion[]> {
    return this.registry.list(name, filter);
  }

  setModelTags(name: string, version: string, tags: Record<string, string>): Promise<ModelVersion> {
    return this.registry.setTags(name, version, tags);
  }

  async createOrUpdateEndpoint(spec: EndpointSpec): Promise<EndpointInfo> {
    if (spec.authMode && spec.authMode !== 'Key') {
      throw new MlPlatformError(
        'InvalidRequest',
        `The local endpoint supports authMode Key only, not ${spec.authMode}.`,
      );
    }
    const manager = await this.#manager();
    return endpointInfo(
      await endpointCall(() =>
        manager.createOrUpdateEndpoint(spec.name, spec.tags ? { tags: spec.tags } : {}),
      ),
    );
  }

  async getEndpoint(name: string): Promise<EndpointInfo> {
    const view = (await this.#manager()).getEndpoint(name);
    if (!view)
      throw new MlPlatformError('NotFound', `Endpoint '${name}' does not exist.`, {
        platformCode: 'EndpointNotFound',
      });
    return endpointInfo(view);
  }

  /** Downloads a registered model's artifacts once into the state folder (the deployment's model mount). */
  async #modelDir(model: { name: string; version: string }): Promise<string> {
    const dir = path.join(this.#options.stateDir, 'models', model.name, model.version);
    const done = path.join(dir, '.downloaded');
    if (
      await stat(done).then(
        () => true,
        () => false,
      )
    )
      return dir;
    const artifacts = await this.registry.artifacts(model.name, model.version);
    await rm(dir, { recursive: true, force: true });
    for (const blob of await this.dataLake.list(artifacts.container, artifacts.path)) {
      await this.dataLake.downloadToFile(
        blob.container,
        blob.path,
        path.join(dir, ...blob.path.slice(artifacts.path.length).split('/')),
      );
    }
    await mkdir(dir, { recursive: true });
    await writeFile(done, '');
    return dir;
  }

  async createOrUpdateDeployment(
    spec: DeploymentSpec,
    options: LongRunningOptions = {},
  ): Promise<DeploymentInfo> {
    const manager = await this.#manager();
    this.#restoredReadyAt.delete(`${spec.endpointName}/${spec.name}`);
    const modelDir = await this.#modelDir(spec.model);
    const faults = this.#options.deploymentFaults?.[spec.name];
    const local = {
      name: spec.name,
      modelDir,
      model: `azureml:${spec.model.name}:${spec.model.version}`,
      ...(spec.instanceCount !== undefined ? { instanceCount: spec.instanceCount } : {}),
      ...(spec.instanceType !== undefined ? { instanceType: spec.instanceType } : {}),
      ...(spec.environmentVariables ? { environmentVariables: spec.environmentVariables } : {}),
      ...(spec.tags ? { tags: spec.tags } : {}),
      ...(faults ? { faults } : {}),
    };
    const input = spec.specPath
      ? deploymentSpecFromYaml(
          await endpointCall(() =>
            readDeploymentYaml(path.resolve(this.#options.projectRoot, spec.specPath ?? '')),
          ),
          local,
        )
      : local;
    const view = await endpointCall(() =>
      manager.createOrUpdateDeployment(spec.endpointName, input, {
        ...(options.wait ? { wait: true } : {}),
        ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
      }),
    );
    if (options.wait && view.provisioningState === 'Failed') {
      throw new MlPlatformError(
        'OperationFailed',
        `Deployment '${spec.name}' failed: ${view.error ?? 'unknown reason'}`,
        {
          platformCode: 'DeploymentFailed',
        },
      );
    }
    return deploymentInfo(spec.endpointName, view);
  }

  async getDeployment(endpointName: string, name: string): Promise<DeploymentInfo> {
    const manager = await this.#manager();
    await this.getEndpoint(endpointName);
    const view = manager.getDeploymentState(endpointName, name);
    if (!view)
      throw new MlPlatformError('NotFound', `Deployment '${endpointName}/${name}' does not exist.`, {
        platformCode: 'DeploymentNotFound',
      });
    return deploymentInfo(endpointName, view);
  }

  async listDeployments(endpointName: string): Promise<DeploymentInfo[]> {
    const manager = await this.#manager();
    const endpoint = manager.getEndpoint(endpointName);
    if (!endpoint)
      throw new MlPlatformError('NotFound', `Endpoint '${endpointName}' does not exist.`, {
        platformCode: 'EndpointNotFound',
      });
    return endpoint.deployments.flatMap((d) => {
      const view = manager.getDeploymentState(endpointName, d.name);
      return view ? [deploymentInfo(endpointName, view)] : [];
    });
  }

  async setTraffic(
    endpointName: string,
    traffic: TrafficMap,
    mirrorTraffic: TrafficMap = {},
  ): Promise<EndpointInfo> {
    const manager = await this.#manager();
    try {
      return endpointInfo(await endpointCall(() => manager.setTraffic(endpointName, traffic, mirrorTraffic)));
    } catch (err) {
      // A traffic map naming a deployment that does not exist is a bad request, as in ARM.
      if (err instanceof MlPlatformError && err.platformCode === 'DeploymentNotFound') {
        throw new MlPlatformError('InvalidRequest', err.message, {
          platformCode: 'DeploymentNotFound',
          cause: err,
        });
      }
      throw err;
    }
  }

  async deleteDeployment(endpointName: string, name: string): Promise<void> {
    const manager = await this.#manager();
    await endpointCall(() => manager.deleteDeployment(endpointName, name));
    this.#restoredReadyAt.delete(`${endpointName}/${name}`);
  }

  async getDeploymentMetrics(
    endpointName: string,
    deployment: string,
    windowMs: number,
  ): Promise<DeploymentMetrics> {
    const manager = await this.#manager();
    const key = `${endpointName}/${deployment}`;
    if (this.#restoredReadyAt.has(key)) {
      // In Azure the endpoint outlives the Functions host; here it restarted with the host. What the router
      // answered while the restored instances started again (503 NoReadyInstance) is the restart's doing,
      // not the deployment's: its window starts when it was ready again.
      const readyAt = this.#restoredReadyAt.get(key);
      windowMs = readyAt === undefined ? 0 : Math.max(0, Math.min(windowMs, this.#now().getTime() - readyAt));
    }
    const m = await endpointCall(() => manager.readMetrics(endpointName, deployment, windowMs));
    return {
      deployment,
      windowMs,
      requests: m.count,
      p95LatencyMs: m.p95Ms,
      errorRate: m.count === 0 ? 0 : (m.count4xx + m.count5xx) / m.count,
    };
  }

  async invokeEndpoint(
    endpointName: string,
    body: unknown,
    options: { deployment?: string } = {},
  ): Promise<InvokeResult> {
    const manager = await this.#manager();
    const res = await endpointCall(() =>
      manager.invoke(endpointName, body, options.deployment ? { deployment: options.deployment } : {}),
    );
    return { status: res.status, body: res.body, ...(res.deployment ? { deployment: res.deployment } : {}) };
  }
}
