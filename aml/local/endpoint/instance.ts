import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { Agent } from 'node:http';
import type { ServerLauncher } from './launcher.js';
import { Prober } from './probes.js';
import type { DeploymentSpec } from './spec.js';

/** Lifecycle of one inference-server process as the endpoint sees it. */
export type InstanceState = 'starting' | 'ready' | 'unready' | 'restarting' | 'failed' | 'stopped';

/** A read-only view of an instance for state queries. */
export interface InstanceView {
  id: string;
  state: InstanceState;
  pid: number | undefined;
  port: number | undefined;
  crashes: number;
  inFlight: number;
  lastError: string | undefined;
}

export interface InstanceOptions {
  id: string;
  spec: DeploymentSpec;
  launcher: ServerLauncher;
  /** Extra environment (log level etc.) laid over the process environment. */
  baseEnv: Record<string, string>;
  logPath: string;
  /** Longest wait for the server to report its port before the instance counts as failed. */
  startupTimeoutMs: number;
  onStateChange: (instance: InferenceInstance) => void;
}

/** The message `inference/main.ts` sends over IPC once it listens. */
interface ListeningMessage {
  type: 'listening';
  port: number;
}

function isListeningMessage(message: unknown): message is ListeningMessage {
  return (
    typeof message === 'object' &&
    message !== null &&
    (message as { type?: unknown }).type === 'listening' &&
    typeof (message as { port?: unknown }).port === 'number'
  );
}

const maxRestartBackoffMs = 5_000;

/**
 * One inference-server process of a deployment: spawned with the model directory, probed for liveness and
 * readiness, restarted with backoff when it crashes after having been ready (each crash counted). A process
 * that dies before it was ever ready fails the instance: a server that refuses its model will not recover.
 */
export class InferenceInstance {
  readonly id: string;
  /** Keep-alive connections to this instance; bounded by the concurrency limit. */
  readonly agent: Agent;
  state: InstanceState = 'starting';
  port: number | undefined;
  crashes = 0;
  inFlight = 0;
  lastError: string | undefined;
  private child: ChildProcess | undefined;
  private liveness: Prober | undefined;
  private readiness: Prober | undefined;
  private everReady = false;
  private consecutiveCrashes = 0;
  private stopping = false;
  private startupTimer: NodeJS.Timeout | undefined;
  private restartTimer: NodeJS.Timeout | undefined;
  private exited: Promise<void> = Promise.resolve();

  constructor(private readonly options: InstanceOptions) {
    this.id = options.id;
    this.agent = new Agent({
      keepAlive: true,
      // Small request/response pairs: without TCP_NODELAY, Nagle plus delayed ACK adds tens of ms.
      noDelay: true,
      maxSockets: options.spec.requestSettings.maxConcurrentRequestsPerInstance,
    });
  }

  /** A read-only snapshot for state queries. */
  view(): InstanceView {
    return {
      id: this.id,
      state: this.state,
      pid: this.child?.pid,
      port: this.port,
      crashes: this.crashes,
      inFlight: this.inFlight,
      lastError: this.lastError,
    };
  }

  /** Spawns the server process. */
  start(): void {
    const { spec, launcher, baseEnv, logPath } = this.options;
    const env: Record<string, string> = {
      ...(process.env as Record<string, string>),
      ...baseEnv,
      ...spec.environmentVariables,
      AZUREML_MODEL_DIR: spec.modelDir,
      // Local instances bind loopback on a free port, whatever the host environment or spec says.
      AZUREML_INFERENCE_CONTAINER: 'false',
      INFERENCE_PORT: '0',
      INFERENCE_FAULT_ERROR_RATE: String(spec.faults.errorRate),
      INFERENCE_FAULT_LATENCY_MS: String(spec.faults.addedLatencyMs),
      INFERENCE_INSTANCE_ID: this.id,
    };
    if (spec.model) env.INFERENCE_MODEL_REF = spec.model;
    const logFd = openSync(logPath, 'a');
    let child: ChildProcess;
    try {
      child = spawn(launcher.command, launcher.args, { env, stdio: ['ignore', logFd, logFd, 'ipc'] });
    } finally {
      closeSync(logFd);
    }
    this.child = child;
    this.port = undefined;
    this.setState('starting');
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
    child.on('message', (message) => {
      if (isListeningMessage(message)) this.onListening(message.port);
    });
    child.once('exit', (code, signal) => this.onExit(child, code, signal));
    child.once('error', (error) => {
      this.lastError = `spawn failed: ${error.message}`;
      // A process that never started emits no 'exit': fail the instance here.
      if (child.pid === undefined && this.child === child) {
        if (this.startupTimer) clearTimeout(this.startupTimer);
        this.setState('failed');
      }
    });
    this.startupTimer = setTimeout(() => {
      if (this.port === undefined && this.child === child) {
        this.lastError = `no listening report within ${this.options.startupTimeoutMs} ms`;
        child.kill('SIGKILL');
      }
    }, this.options.startupTimeoutMs);
    this.startupTimer.unref();
  }

  /** Stops the process gracefully (SIGTERM lets in-flight requests finish), killing it after `graceMs`. */
  async stop(graceMs = 5_000): Promise<void> {
    this.stopping = true;
    this.stopProbes();
    if (this.restartTimer) clearTimeout(this.restartTimer);
    if (this.startupTimer) clearTimeout(this.startupTimer);
    const child = this.child;
    if (child && child.exitCode === null && child.signalCode === null) {
      const killer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      child.kill('SIGTERM');
      await this.exited;
      clearTimeout(killer);
    }
    this.agent.destroy();
    this.setState('stopped');
  }

  /** Kills the process without warning (tests use it to simulate a crash). */
  kill(): void {
    this.child?.kill('SIGKILL');
  }

  private onListening(port: number): void {
    if (this.startupTimer) clearTimeout(this.startupTimer);
    this.port = port;
    const { livenessProbe, readinessProbe } = this.options.spec;
    this.readiness = new Prober(readinessProbe, port, false, (ready) => {
      if (ready) {
        this.everReady = true;
        this.consecutiveCrashes = 0;
      }
      this.setState(ready ? 'ready' : 'unready');
    });
    this.liveness = new Prober(livenessProbe, port, true, (alive) => {
      if (!alive) {
        this.lastError = 'liveness probe failed';
        this.child?.kill('SIGKILL');
      }
    });
    this.readiness.start();
    this.liveness.start();
  }

  private onExit(child: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    if (this.child !== child) return;
    if (this.startupTimer) clearTimeout(this.startupTimer);
    this.stopProbes();
    if (this.stopping) return;
    this.crashes += 1;
    this.consecutiveCrashes += 1;
    this.lastError ??= `exited with ${signal ?? `code ${code}`}`;
    if (!this.everReady) {
      this.lastError = `server exited before it was ready (${signal ?? `code ${code}`}); see ${this.options.logPath}`;
      this.setState('failed');
      return;
    }
    this.setState('restarting');
    const backoff = Math.min(maxRestartBackoffMs, 100 * 2 ** (this.consecutiveCrashes - 1));
    this.restartTimer = setTimeout(() => {
      if (!this.stopping) this.start();
    }, backoff);
    this.restartTimer.unref();
  }

  private stopProbes(): void {
    this.liveness?.stop();
    this.readiness?.stop();
    this.liveness = undefined;
    this.readiness = undefined;
  }

  private setState(state: InstanceState): void {
    if (this.state === state) return;
    this.state = state;
    this.options.onStateChange(this);
  }
}
