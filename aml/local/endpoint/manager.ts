import { randomBytes } from 'node:crypto';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { FastifyBaseLogger } from 'fastify';
import { LocalDeployment, type DeploymentProvisioningState, type DeploymentView } from './deployment.js';
import { EndpointError } from './errors.js';
import { defaultServerLauncher, type ServerLauncher } from './launcher.js';
import type { MetricsSnapshot } from './metrics.js';
import { deploymentHeader, startEndpointRouter, type EndpointRouter } from './router.js';
import { type DeploymentSpecInput, parseDeploymentSpec, resourceNamePattern } from './spec.js';
import { loadState, type PersistedEndpoint, type PersistedState, saveState } from './store.js';
import { compileTrafficPlan, shareOf, type TrafficMap, type TrafficPlan } from './traffic.js';

/** An endpoint as `getEndpoint` reports it (the shape of ARM `OnlineEndpoint.properties`, flattened). */
export interface EndpointView {
  name: string;
  authMode: 'Key';
  provisioningState: 'Succeeded';
  scoringUri: string;
  traffic: Record<string, number>;
  mirrorTraffic: Record<string, number>;
  tags: Record<string, string>;
  deployments: { name: string; model: string | undefined; provisioningState: DeploymentProvisioningState }[];
}

/** The two endpoint keys (`listKeys`). */
export interface EndpointKeys {
  primaryKey: string;
  secondaryKey: string;
}

/** What a scoring call through the router returned. */
export interface InvokeResult {
  status: number;
  /** The deployment that answered (`azureml-model-deployment` response header), if any. */
  deployment: string | undefined;
  requestId: string | undefined;
  body: unknown;
}

export interface LocalEndpointManagerOptions {
  /** Where endpoint state (endpoints.json) and instance logs (logs/) live. */
  stateDir: string;
  /** How to start an inference server; defaults to `inference/main` with this Node. */
  launcher?: ServerLauncher;
  /** LOG_LEVEL for the inference servers (default `info`). */
  serverLogLevel?: string;
  /** Fastify logger for the routers (default off: the servers log each request). */
  routerLogger?: FastifyBaseLogger | boolean;
  /** How long an instance may take to report its port (default 120 s). */
  startupTimeoutMs?: number;
  /** Random source for traffic split and mirroring, in [0, 1). */
  random?: () => number;
}

interface EndpointRecord {
  name: string;
  keys: EndpointKeys;
  tags: Record<string, string>;
  plan: TrafficPlan;
  deployments: Map<string, LocalDeployment>;
  router: EndpointRouter;
}

const newKey = (): string => randomBytes(24).toString('base64url');

/**
 * The local stand-in for Azure ML managed online endpoints: each endpoint is a loopback router with key
 * auth, a blue/green traffic map and mirror traffic; each deployment is `instance_count` inference-server
 * processes with probes. State persists under `stateDir`, so `open()` after a host restart brings the
 * endpoints back (same keys, same port when free) and restarts their processes.
 */
export class LocalEndpointManager {
  private readonly endpoints = new Map<string, EndpointRecord>();
  private readonly launcher: ServerLauncher;
  private saving: Promise<void> = Promise.resolve();
  private stopped = false;

  private constructor(private readonly options: LocalEndpointManagerOptions) {
    this.launcher = options.launcher ?? defaultServerLauncher();
  }

  /** Opens a manager on `stateDir`, re-creating every persisted endpoint and starting its deployments. */
  static async open(options: LocalEndpointManagerOptions): Promise<LocalEndpointManager> {
    const manager = new LocalEndpointManager(options);
    await mkdir(join(options.stateDir, 'logs'), { recursive: true });
    const state = await loadState(options.stateDir);
    for (const persisted of state.endpoints) await manager.restore(persisted);
    return manager;
  }

  /** Creates an endpoint (new keys, new router) or updates its tags/traffic; idempotent. */
  async createOrUpdateEndpoint(
    name: string,
    properties: { traffic?: TrafficMap; mirrorTraffic?: TrafficMap; tags?: Record<string, string> } = {},
  ): Promise<EndpointView> {
    this.assertOpen();
    if (!resourceNamePattern.test(name)) {
      throw new EndpointError(
        'InvalidDeploymentSpec',
        `Endpoint name '${name}' is not a valid resource name.`,
      );
    }
    let record = this.endpoints.get(name);
    if (!record) {
      record = await this.startEndpoint({
        name,
        primaryKey: newKey(),
        secondaryKey: newKey(),
        port: 0,
        traffic: {},
        mirrorTraffic: {},
        tags: properties.tags ?? {},
        deployments: [],
      });
    }
    if (properties.tags) record.tags = { ...properties.tags };
    if (properties.traffic || properties.mirrorTraffic) {
      record.plan = compileTrafficPlan(
        properties.traffic ?? record.plan.traffic,
        properties.mirrorTraffic ?? record.plan.mirrorTraffic,
        new Set(record.deployments.keys()),
      );
    }
    await this.persist();
    return this.view(record);
  }

  /** The endpoint, or undefined when it does not exist. */
  getEndpoint(name: string): EndpointView | undefined {
    const record = this.endpoints.get(name);
    return record ? this.view(record) : undefined;
  }

  /** Every endpoint. */
  listEndpoints(): EndpointView[] {
    return [...this.endpoints.values()].map((record) => this.view(record));
  }

  /** The endpoint keys for `Authorization: Bearer <key>`. */
  listKeys(name: string): EndpointKeys {
    return { ...this.record(name).keys };
  }

  /**
   * Replaces the live and mirror traffic maps in one step: a request reads the plan once, so every request
   * lands on either the old or the new split and none is dropped. Throws EndpointError on a rule breach.
   */
  async setTraffic(name: string, traffic: TrafficMap, mirrorTraffic: TrafficMap = {}): Promise<EndpointView> {
    this.assertOpen();
    const record = this.record(name);
    record.plan = compileTrafficPlan(traffic, mirrorTraffic, new Set(record.deployments.keys()));
    await this.persist();
    return this.view(record);
  }

  /**
   * Creates a deployment (starts its processes) or updates it (rolling replacement when the spec changed).
   * With `wait`, resolves once provisioning settled (Succeeded or Failed) or rejects after `timeoutMs`.
   */
  async createOrUpdateDeployment(
    endpointName: string,
    input: DeploymentSpecInput,
    options: { wait?: boolean; timeoutMs?: number } = {},
  ): Promise<DeploymentView> {
    this.assertOpen();
    const record = this.record(endpointName);
    const spec = parseDeploymentSpec(input);
    const existing = record.deployments.get(spec.name);
    if (existing) {
      // A changed spec rolls out; the same spec again retries a failed provisioning, as a re-PUT does.
      if (existing.provisioningState === 'Failed' || JSON.stringify(existing.spec) !== JSON.stringify(spec)) {
        existing.update(spec);
      }
    } else {
      const deployment = this.newDeployment(record, spec);
      record.deployments.set(spec.name, deployment);
      deployment.start();
    }
    await this.persist();
    return options.wait
      ? this.waitForDeployment(endpointName, spec.name, options.timeoutMs)
      : this.deploymentOf(record, spec.name).view();
  }

  /** Waits until the deployment's provisioning settled; rejects with DeploymentTimeout after `timeoutMs`. */
  async waitForDeployment(endpointName: string, name: string, timeoutMs = 120_000): Promise<DeploymentView> {
    const deployment = this.deploymentOf(this.record(endpointName), name);
    await deployment.whenSettled(timeoutMs);
    return deployment.view();
  }

  /** The deployment's provisioning state, instances and crash count, or undefined when absent. */
  getDeploymentState(endpointName: string, name: string): DeploymentView | undefined {
    return this.endpoints.get(endpointName)?.deployments.get(name)?.view();
  }

  /** Deletes a deployment after its in-flight requests finish; refused while it has live or mirror traffic. */
  async deleteDeployment(endpointName: string, name: string): Promise<void> {
    this.assertOpen();
    const record = this.record(endpointName);
    const deployment = record.deployments.get(name);
    if (!deployment) return;
    const share = shareOf(record.plan, name);
    if (share > 0) {
      throw new EndpointError(
        'DeploymentHasTraffic',
        `Deployment '${name}' still has ${share}% live or mirror traffic; move its traffic first.`,
      );
    }
    record.deployments.delete(name);
    await this.persist();
    await deployment.stop();
  }

  /** Deletes an endpoint: its router and every deployment's processes. */
  async deleteEndpoint(name: string): Promise<void> {
    const record = this.endpoints.get(name);
    if (!record) return;
    this.endpoints.delete(name);
    await this.persist();
    await record.router.close();
    await Promise.all([...record.deployments.values()].map((deployment) => deployment.stop()));
  }

  /** Per-deployment figures over the last `windowMs`: count, p50/p95/p99 latency, 4xx/5xx rates. */
  readMetrics(endpointName: string, deploymentName: string, windowMs: number): MetricsSnapshot {
    return this.deploymentOf(this.record(endpointName), deploymentName).metrics.snapshot(windowMs);
  }

  /** Sends a scoring request through the endpoint's router with the primary key, as a client would. */
  async invoke(
    endpointName: string,
    body: unknown,
    options: { deployment?: string; requestId?: string } = {},
  ): Promise<InvokeResult> {
    const record = this.record(endpointName);
    const headers: Record<string, string> = {
      authorization: `Bearer ${record.keys.primaryKey}`,
      'content-type': 'application/json',
    };
    if (options.deployment) headers[deploymentHeader] = options.deployment;
    if (options.requestId) headers['x-request-id'] = options.requestId;
    const response = await fetch(record.router.scoringUri, {
      method: 'POST',
      headers,
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await response.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // Not JSON: hand back the text as it came.
    }
    return {
      status: response.status,
      deployment: response.headers.get(deploymentHeader) ?? undefined,
      requestId: response.headers.get('x-request-id') ?? undefined,
      body: parsed,
    };
  }

  /** The last `tailLines` log lines of every current instance of a deployment (Azure `getLogs`). */
  async getLogs(endpointName: string, deploymentName: string, tailLines = 200): Promise<string> {
    const deployment = this.deploymentOf(this.record(endpointName), deploymentName);
    const parts: string[] = [];
    for (const instance of deployment.view().instances) {
      const path = join(this.logDir(endpointName), `${instance.id}.log`);
      const text = await readFile(path, 'utf8').catch((error: NodeJS.ErrnoException) => {
        if (error.code === 'ENOENT') return '';
        throw error;
      });
      const lines = text.trimEnd().split('\n').slice(-tailLines);
      parts.push(`=== ${instance.id} ===\n${lines.join('\n')}`);
    }
    return parts.join('\n');
  }

  /** Kills one instance process without warning (crash drills); the deployment restarts it. */
  crashInstance(endpointName: string, deploymentName: string, instanceId: string): void {
    const instance = this.deploymentOf(this.record(endpointName), deploymentName).instance(instanceId);
    if (!instance) {
      throw new EndpointError('DeploymentNotFound', `No instance '${instanceId}' in '${deploymentName}'.`);
    }
    instance.kill();
  }

  /** Stops every router and process; the persisted state stays for the next `open()`. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    await this.saving;
    const records = [...this.endpoints.values()];
    this.endpoints.clear();
    await Promise.all(
      records.map(async (record) => {
        await record.router.close();
        await Promise.all([...record.deployments.values()].map((deployment) => deployment.stop()));
      }),
    );
  }

  private async restore(persisted: PersistedEndpoint): Promise<void> {
    const record = await this.startEndpoint(persisted);
    for (const spec of persisted.deployments) {
      const deployment = this.newDeployment(record, parseDeploymentSpec(spec));
      record.deployments.set(spec.name, deployment);
      deployment.start();
    }
    record.plan = compileTrafficPlan(
      persisted.traffic,
      persisted.mirrorTraffic,
      new Set(record.deployments.keys()),
    );
  }

  private async startEndpoint(persisted: PersistedEndpoint): Promise<EndpointRecord> {
    await mkdir(this.logDir(persisted.name), { recursive: true });
    const deployments = new Map<string, LocalDeployment>();
    const partial: Omit<EndpointRecord, 'router'> = {
      name: persisted.name,
      keys: { primaryKey: persisted.primaryKey, secondaryKey: persisted.secondaryKey },
      tags: { ...persisted.tags },
      plan: compileTrafficPlan({}, {}, new Set()),
      deployments,
    };
    const router = await startEndpointRouter(
      {
        endpointName: persisted.name,
        keys: () => partial.keys,
        plan: () => partial.plan,
        deployment: (name) => deployments.get(name),
      },
      {
        port: persisted.port || undefined,
        logger: this.options.routerLogger ?? false,
        random: this.options.random,
      },
    );
    // The router's getters read `partial`, so the record must be that same object.
    const record = Object.assign(partial, { router }) as EndpointRecord;
    this.endpoints.set(persisted.name, record);
    return record;
  }

  private newDeployment(
    record: EndpointRecord,
    spec: ReturnType<typeof parseDeploymentSpec>,
  ): LocalDeployment {
    return new LocalDeployment({
      spec,
      launcher: this.launcher,
      baseEnv: { LOG_LEVEL: this.options.serverLogLevel ?? 'info' },
      logDir: this.logDir(record.name),
      startupTimeoutMs: this.options.startupTimeoutMs ?? 120_000,
    });
  }

  private logDir(endpointName: string): string {
    return join(this.options.stateDir, 'logs', endpointName);
  }

  private record(name: string): EndpointRecord {
    const record = this.endpoints.get(name);
    if (!record) throw new EndpointError('EndpointNotFound', `Endpoint '${name}' does not exist.`);
    return record;
  }

  private deploymentOf(record: EndpointRecord, name: string): LocalDeployment {
    const deployment = record.deployments.get(name);
    if (!deployment) {
      throw new EndpointError(
        'DeploymentNotFound',
        `Deployment '${name}' does not exist on '${record.name}'.`,
      );
    }
    return deployment;
  }

  private assertOpen(): void {
    if (this.stopped) throw new EndpointError('ManagerStopped', 'The endpoint manager has been stopped.');
  }

  private view(record: EndpointRecord): EndpointView {
    return {
      name: record.name,
      authMode: 'Key',
      provisioningState: 'Succeeded',
      scoringUri: record.router.scoringUri,
      traffic: { ...record.plan.traffic },
      mirrorTraffic: { ...record.plan.mirrorTraffic },
      tags: { ...record.tags },
      deployments: [...record.deployments.values()].map((deployment) => ({
        name: deployment.name,
        model: deployment.spec.model,
        provisioningState: deployment.provisioningState,
      })),
    };
  }

  private snapshot(): PersistedState {
    return {
      version: 1,
      endpoints: [...this.endpoints.values()].map((record) => ({
        name: record.name,
        primaryKey: record.keys.primaryKey,
        secondaryKey: record.keys.secondaryKey,
        port: record.router.port,
        traffic: record.plan.traffic,
        mirrorTraffic: record.plan.mirrorTraffic,
        tags: record.tags,
        deployments: [...record.deployments.values()].map((deployment) => deployment.spec),
      })),
    };
  }

  /** Queues a state write; each write snapshots when it runs, so the last one on disk is the newest. */
  private persist(): Promise<void> {
    this.saving = this.saving.then(() => saveState(this.options.stateDir, this.snapshot()));
    return this.saving;
  }
}
