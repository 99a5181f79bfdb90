import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { EndpointError } from './errors.js';
import { InferenceInstance, type InstanceView } from './instance.js';
import type { ServerLauncher } from './launcher.js';
import { SlidingWindowMetrics } from './metrics.js';
import type { DeploymentSpec } from './spec.js';

/** Azure ML deployment provisioning states the local endpoint reports. */
export type DeploymentProvisioningState = 'Creating' | 'Updating' | 'Succeeded' | 'Failed' | 'Deleting';

/** A deployment as `getDeploymentState` reports it. */
export interface DeploymentView {
  name: string;
  provisioningState: DeploymentProvisioningState;
  /** Why provisioning failed (with the log path of the instance that failed). */
  error: string | undefined;
  spec: DeploymentSpec;
  instanceCount: number;
  readyInstances: number;
  /** Crashes of every instance this deployment ever ran. */
  crashCount: number;
  inFlight: number;
  instances: InstanceView[];
}

export interface DeploymentOptions {
  spec: DeploymentSpec;
  launcher: ServerLauncher;
  baseEnv: Record<string, string>;
  logDir: string;
  startupTimeoutMs: number;
}

/** Longest wait for a retired instance's in-flight requests before it is stopped anyway. */
const retireDrainMs = 10_000;

/** Outcome of choosing an instance for a request. */
export type InstancePick =
  { kind: 'instance'; instance: InferenceInstance } | { kind: 'unavailable' } | { kind: 'busy' };

/**
 * A deployment: `instance_count` inference-server processes behind round-robin, with a metrics window.
 * An update starts a full new set of instances and swaps them in only once all are ready, so requests
 * never see a half-started deployment; the old set drains before it stops.
 */
export class LocalDeployment {
  readonly name: string;
  readonly metrics = new SlidingWindowMetrics();
  spec: DeploymentSpec;
  provisioningState: DeploymentProvisioningState = 'Creating';
  error: string | undefined;
  inFlight = 0;
  private instances: InferenceInstance[] = [];
  private pending: InferenceInstance[] = [];
  /** The set whose failure failed provisioning, kept (stopped) so state and logs can show why. */
  private failedSet: InferenceInstance[] = [];
  private retiredCrashes = 0;
  private cursor = 0;
  private generation = 0;
  private settledWaiters: (() => void)[] = [];
  private drainWaiters: (() => void)[] = [];

  constructor(private readonly options: DeploymentOptions) {
    this.spec = options.spec;
    this.name = options.spec.name;
  }

  /** Starts the first set of instances. */
  start(): void {
    this.provisioningState = 'Creating';
    this.pending = this.launchSet(this.spec);
  }

  /** Replaces the running instances with a set built from `spec` (rolling: old ones serve until swap). */
  update(spec: DeploymentSpec): void {
    for (const instance of this.pending) void this.retire(instance);
    this.spec = spec;
    this.provisioningState = this.instances.length === 0 ? 'Creating' : 'Updating';
    this.error = undefined;
    this.failedSet = [];
    this.pending = this.launchSet(spec);
  }

  /** Picks a ready instance round-robin, skipping instances at their concurrency limit. */
  pickInstance(): InstancePick {
    const count = this.instances.length;
    let sawReady = false;
    for (let i = 0; i < count; i += 1) {
      const instance = this.instances[(this.cursor + i) % count] as InferenceInstance;
      if (instance.state !== 'ready') continue;
      sawReady = true;
      if (instance.inFlight >= this.spec.requestSettings.maxConcurrentRequestsPerInstance) continue;
      this.cursor = (this.cursor + i + 1) % count;
      return { kind: 'instance', instance };
    }
    return sawReady ? { kind: 'busy' } : { kind: 'unavailable' };
  }

  /** Marks a request in flight on this deployment (deletion waits for these to finish). */
  begin(instance: InferenceInstance): void {
    this.inFlight += 1;
    instance.inFlight += 1;
  }

  /** Ends a request started with begin(). */
  end(instance: InferenceInstance): void {
    this.inFlight -= 1;
    instance.inFlight -= 1;
    if (this.inFlight === 0) for (const resolve of this.drainWaiters.splice(0)) resolve();
  }

  /** Resolves once provisioning reached Succeeded or Failed; rejects after `timeoutMs`. */
  async whenSettled(timeoutMs: number): Promise<DeploymentProvisioningState> {
    if (this.isSettled()) return this.provisioningState;
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        new Promise<void>((resolve) => this.settledWaiters.push(resolve)),
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () =>
              reject(
                new EndpointError(
                  'DeploymentTimeout',
                  `Deployment '${this.name}' not ready within ${timeoutMs} ms (state ${this.provisioningState}).`,
                  true,
                ),
              ),
            timeoutMs,
          );
        }),
      ]);
    } finally {
      clearTimeout(timer);
    }
    return this.provisioningState;
  }

  /** Waits for in-flight requests to finish, then stops every process. */
  async stop(): Promise<void> {
    this.provisioningState = 'Deleting';
    if (this.inFlight > 0) await new Promise<void>((resolve) => this.drainWaiters.push(resolve));
    const all = [...this.instances, ...this.pending];
    this.instances = [];
    this.pending = [];
    await Promise.all(all.map((instance) => instance.stop()));
  }

  /** The instance with this id (tests kill one to watch the restart). */
  instance(id: string): InferenceInstance | undefined {
    return [...this.instances, ...this.pending].find((instance) => instance.id === id);
  }

  /** A read-only snapshot. */
  view(): DeploymentView {
    const views = [...this.instances, ...this.pending, ...this.failedSet].map((instance) => instance.view());
    return {
      name: this.name,
      provisioningState: this.provisioningState,
      error: this.error,
      spec: this.spec,
      instanceCount: this.spec.instanceCount,
      readyInstances: this.instances.filter((instance) => instance.state === 'ready').length,
      crashCount: this.retiredCrashes + views.reduce((sum, view) => sum + view.crashes, 0),
      inFlight: this.inFlight,
      instances: views,
    };
  }

  private isSettled(): boolean {
    return this.provisioningState === 'Succeeded' || this.provisioningState === 'Failed';
  }

  private launchSet(spec: DeploymentSpec): InferenceInstance[] {
    this.generation += 1;
    const generation = this.generation;
    const set = Array.from({ length: spec.instanceCount }, (_, index) => {
      const id = `${this.name}-g${generation}-${index}`;
      return new InferenceInstance({
        id,
        spec,
        launcher: this.options.launcher,
        baseEnv: this.options.baseEnv,
        logPath: join(this.options.logDir, `${id}.log`),
        startupTimeoutMs: this.options.startupTimeoutMs,
        onStateChange: () => this.onInstanceChange(set),
      });
    });
    for (const instance of set) instance.start();
    return set;
  }

  private onInstanceChange(set: InferenceInstance[]): void {
    if (set !== this.pending) return;
    const failed = set.find((instance) => instance.state === 'failed');
    if (failed) {
      this.error = `instance ${failed.id}: ${failed.lastError ?? 'failed'}`;
      this.pending = [];
      this.failedSet = set;
      for (const instance of set) void this.retire(instance);
      this.settle('Failed');
      return;
    }
    if (set.every((instance) => instance.state === 'ready')) {
      const old = this.instances;
      this.instances = set;
      this.pending = [];
      this.cursor = 0;
      for (const instance of old) void this.retire(instance);
      this.settle('Succeeded');
    }
  }

  private async retire(instance: InferenceInstance): Promise<void> {
    // No new request reaches a retired instance; let the ones already sent finish before SIGTERM, so
    // none races the server closing its idle keep-alive connections.
    const deadline = Date.now() + retireDrainMs;
    while (instance.inFlight > 0 && Date.now() < deadline) await sleep(10);
    await instance.stop();
    this.retiredCrashes += instance.crashes;
  }

  private settle(state: 'Succeeded' | 'Failed'): void {
    this.provisioningState = state;
    for (const resolve of this.settledWaiters.splice(0)) resolve();
  }
}
