/**
 * End-to-end support: this app on the local host in a child process (so a test can kill it with SIGKILL and
 * start it again on the same state), the test's own Azurite, small generated clickstream months, scoring
 * traffic, and reads of what the local platform holds (registry, jobs, endpoint).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readFile, rm, mkdtemp } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { BlobServiceClient } from '@azure/storage-blob';
import { JsonTable } from '../../../aml/local/tableStore.js';
import type { JobInfo, ModelVersion } from '../../../aml/port.js';
import { generateClickstream } from '../../../training/data/generator.js';
import { startTestAzurite, type TestAzurite } from '../../durable/support/azurite.js';

/**
 * The local profile, shortened for tests: one quiet second, a 50% → 100% canary baking 6 s per step with
 * 3 s analysis windows, a retire grace of the bake period, gate thresholds for a small sample.
 */
export const fastSettings: Record<string, string> = {
  MLOPS_PLATFORM: 'local',
  TASKHUB_NAME: 'e2e',
  BLOB_QUIET_WINDOW_SECONDS: '2',
  LOCAL_EVENTGRID_POLL_MS: '250',
  CANARY_STEPS: '50,100',
  CANARY_BAKE_SECONDS: '6',
  CANARY_INTERVAL_SECONDS: '3',
  SLO_MIN_REQUESTS: '10',
  // Fresh inference processes on a busy 2-core machine run slower than a warm blue for a while; the
  // absolute SLO (p95 600 ms) still decides, which is what the fault tests exercise.
  SLO_MAX_REGRESSION_VS_BLUE: '3',
  APPROVAL_REQUIRED: 'false',
  // A few products over ~100 days forecast noisily: the gate still runs every check, with loose limits.
  GATE_MAX_MAPE: '2',
  GATE_MAX_P90_KEY_MAPE: '5',
  GATE_CHAMPION_TOLERANCE: '0.5',
};

/** The run detail GET /api/runs/{id} answers. */
export interface RunDetail {
  id: string;
  type: string;
  runtimeStatus: string;
  step?: string;
  progress?: string;
  steps: { name: string; status: string; detail?: string }[];
  output?: {
    status?: string;
    reason?: string;
    model?: { name: string; version: string };
    championVersion?: string;
    gate?: { passed: boolean; championVersion?: string; checks: { name: string; passed: boolean }[] };
    analyses?: { verdict: string; reason: string }[];
    greenDeployment?: string;
    previousDeployment?: string;
  } & Record<string, unknown>;
}

/** The endpoint as the local platform's state file records it. */
export interface EndpointRecord {
  name: string;
  port: number;
  primaryKey: string;
  traffic: Record<string, number>;
  deployments: { name: string }[];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const terminal = ['Completed', 'Failed', 'Terminated'];

/** One app host lineage: Azurite and a state folder that outlive any number of host processes. */
export class SagaHost {
  #child: ChildProcess | undefined;
  #output = '';
  baseUrl = '';
  #key = '';

  private constructor(
    readonly azurite: TestAzurite,
    readonly stateDir: string,
    readonly settings: Record<string, string>,
  ) {}

  /** Starts Azurite and a first host process with `settings` over {@link fastSettings}. */
  static async start(settings: Record<string, string> = {}): Promise<SagaHost> {
    const azurite = await startTestAzurite();
    const stateDir = await mkdtemp(path.join(os.tmpdir(), 'saga-e2e-'));
    const host = new SagaHost(azurite, stateDir, { ...fastSettings, ...settings });
    await host.restart();
    return host;
  }

  /** Everything the host processes printed (for failure messages). */
  get output(): string {
    return this.#output;
  }

  /** Starts a host process on the same storage and state (after {@link kill}, or the first time). */
  async restart(): Promise<void> {
    const script = path.join(import.meta.dirname, 'hostMain.ts');
    const child = spawn(process.execPath, ['--import', 'tsx', script], {
      cwd: path.resolve(import.meta.dirname, '../../..'),
      env: {
        ...process.env,
        FORCE_COLOR: '0',
        E2E_STORAGE: this.azurite.connectionString,
        E2E_STATE_DIR: this.stateDir,
        E2E_SETTINGS: JSON.stringify(this.settings),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.#child = child;
    const line = await new Promise<string>((resolve, reject) => {
      let seen = '';
      const onData = (chunk: Buffer) => {
        const text = chunk.toString();
        seen += text;
        this.#output += text;
        const match = /E2E_HOST_URL (\S+ \S+)/.exec(seen);
        if (match) resolve(match[1]!);
      };
      child.stdout.on('data', onData);
      child.stderr.on('data', onData);
      child.once('exit', (code, signal) =>
        reject(new Error(`host exited (${code ?? signal}) before listening:\n${this.#output.slice(-3000)}`)),
      );
    });
    [this.baseUrl, this.#key] = line.split(' ') as [string, string];
  }

  /** kill -9 the host process, as a crash would, and wait until it is gone. */
  async kill(): Promise<void> {
    const child = this.#child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, 'exit');
    child.kill('SIGKILL');
    await exited;
  }

  /** Stops the host gracefully (its job and inference processes with it), then Azurite; removes the state. */
  async stop(): Promise<void> {
    const child = this.#child;
    if (child && child.exitCode === null && child.signalCode === null) {
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      await Promise.race([exited, sleep(15_000).then(() => child.kill('SIGKILL'))]);
    }
    await this.azurite.stop();
    await rm(this.stateDir, { recursive: true, force: true });
  }

  /** GET or POST an /api route with the function key. */
  async api<T>(method: 'GET' | 'POST', route: string, body?: unknown): Promise<{ status: number; body: T }> {
    const res = await fetch(`${this.baseUrl}/api/${route}`, {
      method,
      headers: { 'x-functions-key': this.#key, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    return { status: res.status, body: (text ? JSON.parse(text) : undefined) as T };
  }

  /** Uploads a file (or bytes) to raw/clickstream/, which the local Event Grid turns into BlobCreated. */
  async upload(name: string, data: string | Buffer): Promise<void> {
    const container = BlobServiceClient.fromConnectionString(
      this.azurite.connectionString,
    ).getContainerClient('raw');
    await container.createIfNotExists();
    const blob = container.getBlockBlobClient(`clickstream/${name}`);
    if (typeof data === 'string') await blob.uploadFile(data);
    else await blob.upload(data, data.length);
  }

  /** Ids of runs of a type, oldest first. */
  async runIds(type: 'training' | 'release' | 'rollback'): Promise<string[]> {
    const { body } = await this.api<{ runs: { id: string }[] }>('GET', `runs?type=${type}&top=500`);
    return body.runs.map((r) => r.id).reverse();
  }

  /** Waits until a run of `type` not in `known` exists; returns its id. */
  async nextRun(type: 'training' | 'release', known: string[], timeoutMs = 60_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const fresh = (await this.runIds(type).catch(() => [])).find((id) => !known.includes(id));
      if (fresh) return fresh;
      if (Date.now() > deadline) throw new Error(`no new ${type} run within ${timeoutMs} ms\n${this.tail()}`);
      await sleep(300);
    }
  }

  /** One run's detail, or undefined while the host does not know it (yet). */
  async run(id: string): Promise<RunDetail | undefined> {
    const res = await this.api<RunDetail>('GET', `runs/${encodeURIComponent(id)}`).catch(() => undefined);
    return res?.status === 200 ? res.body : undefined;
  }

  /** Polls a run until `until` holds for it (default: it ended). */
  async waitRun(
    id: string,
    until: (run: RunDetail) => boolean = (run) => terminal.includes(run.runtimeStatus),
    timeoutMs = 300_000,
  ): Promise<RunDetail> {
    const deadline = Date.now() + timeoutMs;
    let last: RunDetail | undefined;
    for (;;) {
      last = (await this.run(id)) ?? last;
      if (last && until(last)) return last;
      if (Date.now() > deadline) {
        throw new Error(
          `run ${id} did not get there: ${JSON.stringify(last)?.slice(0, 2000)}\n${this.tail()}`,
        );
      }
      await sleep(300);
    }
  }

  /** Model versions in the local registry, oldest first. */
  async models(name = 'demand-forecast'): Promise<ModelVersion[]> {
    const table = new JsonTable<ModelVersion>(this.azurite.connectionString, 'amlmodelversions');
    const all = await table.list().catch(() => []);
    return all.filter((m) => m.name === name).sort((a, b) => Number(a.version) - Number(b.version));
  }

  /** Jobs the local platform ever ran. */
  async jobs(): Promise<JobInfo[]> {
    const table = new JsonTable<{ info: JobInfo }>(this.azurite.connectionString, 'amljobs');
    return (await table.list('job').catch(() => [])).map((r) => r.info);
  }

  /** The endpoint as the local platform last saved it, if any. */
  async endpoint(): Promise<EndpointRecord | undefined> {
    const file = path.join(this.stateDir, 'platform', 'endpoints', 'endpoints.json');
    if (!existsSync(file)) return undefined;
    const state = JSON.parse(await readFile(file, 'utf8')) as { endpoints: EndpointRecord[] };
    return state.endpoints[0];
  }

  /** The last lines the host printed. */
  tail(): string {
    return this.#output.slice(-3000);
  }
}

/**
 * Scoring requests through the endpoint from a few concurrent senders (a slow deployment must not starve
 * the others), so each canary window has enough requests to judge.
 */
export function scoringTraffic(host: SagaHost, senders = 4): { stop(): Promise<void>; sent: number } {
  const state = { stopped: false, sent: 0 };
  const loop = async () => {
    while (!state.stopped) {
      const endpoint = await host.endpoint().catch(() => undefined);
      if (!endpoint || !Object.values(endpoint.traffic).some((t) => t > 0)) {
        await sleep(250);
        continue;
      }
      const res = await fetch(`http://127.0.0.1:${endpoint.port}/score`, {
        method: 'POST',
        headers: { authorization: `Bearer ${endpoint.primaryKey}`, 'content-type': 'application/json' },
        body: JSON.stringify({ keys: ['electronics.smartphone'], horizon: 7 }),
      }).catch(() => undefined);
      await res?.arrayBuffer().catch(() => undefined);
      state.sent++;
      await sleep(30);
    }
  };
  const loops = Array.from({ length: senders }, loop);
  return {
    stop: async () => {
      state.stopped = true;
      await Promise.all(loops);
    },
    get sent() {
      return state.sent;
    },
  };
}

/**
 * Small generated clickstream (6 products, 1500 events a day) cached under the OS temp folder. Training
 * needs 98 days (4 weekly backtest folds after 70 days of history), so the first upload covers 100.
 */
export async function sampleData(start: string, days: number): Promise<string> {
  const dir = path.join(os.tmpdir(), 'saga-e2e-data');
  const out = path.join(dir, `${start}-${days}.csv.gz`);
  if (!existsSync(out)) {
    await generateClickstream({ startDate: start, days, products: 6, eventsPerDay: 1500, seed: 7, out });
  }
  return out;
}

/** The history the first model trains on, and the later "months" that retrain it. */
export const sampleUploads = {
  history: { name: '2019-02-04.csv.gz', start: '2019-02-04', days: 100 },
  next: { name: '2019-05-15.csv.gz', start: '2019-05-15', days: 14 },
  later: { name: '2019-05-29.csv.gz', start: '2019-05-29', days: 14 },
} as const;

/** Uploads one of {@link sampleUploads}. */
export async function uploadSample(host: SagaHost, which: keyof typeof sampleUploads): Promise<void> {
  const { name, start, days } = sampleUploads[which];
  await host.upload(name, await sampleData(start, days));
}
