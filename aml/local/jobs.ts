/**
 * Local Azure ML command jobs: the CLI v2 YAML's `command` runs as a child process with
 * `${{inputs.x}}`/`${{outputs.y}}` materialised as local folders (inputs downloaded from Azurite, outputs
 * uploaded back), logs captured, Azure ML status values, records in an Azurite table so a host restart
 * never loses a job: one that was running when the host died is reported Failed (or re-run, by option).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readdir, readFile, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import {
  assertValidName,
  isTerminalJobStatus,
  MlPlatformError,
  type DataLake,
  type JobInfo,
  type JobStatus,
  type JobSubmission,
} from '../port.js';
import {
  defaultOutputUri,
  loadCommandJob,
  parseDatastoreUri,
  parseJobOutputUri,
  resolveOptionalSections,
  substitutePlaceholders,
  type CommandJob,
} from '../azure/jobSpec.js';
import { resolveDatastoreUri, type BlobLocation, type DatastoreMap } from './datastores.js';
import { JsonTable } from './tableStore.js';

/** Container (under the workspace store) where job logs are kept, like Azure ML's ExperimentRun folder. */
const logPrefix = (job: string) => `ExperimentRun/dcid.${job}/user_logs/`;

interface JobRecord {
  info: JobInfo;
  spec: CommandJob;
  metrics: Record<string, number>;
  /** Which runner process owns the job while it is not terminal. */
  runnerId: string;
  /** Process group of the running command, so a later host can stop what a crashed one left behind. */
  pid?: number;
  startedAt?: string;
  endedAt?: string;
}

/** What the runner needs from its surroundings. */
export interface LocalJobRunnerDeps {
  projectRoot: string;
  /** Job working folders go to `{stateDir}/jobs/{name}`. */
  stateDir: string;
  connectionString: string;
  dataLake: DataLake;
  datastores: DatastoreMap;
  /** Called after every status change (for RunStatusChanged / RunCompleted). */
  onStatus(info: JobInfo, previous: JobStatus): Promise<void>;
  now(): Date;
  /** What to do with jobs a previous host left running: report them Failed (default) or run them again. */
  recovery?: 'fail' | 'rerun';
  /** Extra environment for every job. */
  env?: Record<string, string>;
}

/** Flattens a metrics document to dotted numeric keys (`baselines.seasonal-naive.wape`). */
export function flattenMetrics(
  doc: unknown,
  prefix = '',
  out: Record<string, number> = {},
): Record<string, number> {
  if (typeof doc === 'number' && Number.isFinite(doc)) {
    out[prefix] = doc;
  } else if (doc && typeof doc === 'object' && !Array.isArray(doc)) {
    for (const [k, v] of Object.entries(doc)) flattenMetrics(v, prefix ? `${prefix}.${k}` : k, out);
  }
  return out;
}

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries.filter((e) => e.isFile()).map((e) => path.join(e.parentPath, e.name));
}

/** Signals a job's whole process group (the shell and whatever it started). */
function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // The group is already gone.
  }
}

/** Runs and tracks local command jobs. */
export class LocalJobRunner {
  readonly #table: JsonTable<JobRecord>;
  readonly #runnerId = randomUUID();
  readonly #children = new Map<string, ChildProcess>();
  readonly #running = new Map<string, Promise<void>>();
  readonly #cancelRequested = new Set<string>();
  /** Records of jobs this process runs: every status change goes through this one object, in order. */
  readonly #live = new Map<string, JobRecord>();
  readonly #writes = new Map<string, Promise<void>>();

  constructor(private readonly deps: LocalJobRunnerDeps) {
    this.#table = new JsonTable<JobRecord>(deps.connectionString, 'amljobs');
  }

  /** Deals with jobs a previous host process left unfinished. */
  async recover(): Promise<JobInfo[]> {
    const touched: JobInfo[] = [];
    for (const record of await this.#table.list('job')) {
      if (isTerminalJobStatus(record.info.status) || record.runnerId === this.#runnerId) continue;
      // The command outlives a host killed without warning (it has its own process group): stop it.
      if (record.pid !== undefined) {
        try {
          process.kill(-record.pid, 'SIGKILL');
        } catch {
          // Already gone.
        }
        delete record.pid;
      }
      if (this.deps.recovery === 'rerun') {
        record.runnerId = this.#runnerId;
        await this.#save(record);
        await this.#setStatus(record, 'Queued');
        this.#start(record);
      } else {
        record.info.error = `The local host stopped while the job was ${record.info.status}; it did not finish.`;
        record.endedAt = this.deps.now().toISOString();
        await this.#setStatus(record, 'Failed');
      }
      touched.push(record.info);
    }
    return touched;
  }

  /** Submits a job; the same name again returns the existing job. */
  async submit(submission: JobSubmission): Promise<JobInfo> {
    assertValidName('Job', submission.name);
    const existing = await this.#table.get('job', submission.name);
    if (existing) return existing.value.info;
    const spec = await loadCommandJob(submission, this.deps.projectRoot);
    const outputs: JobInfo['outputs'] = {};
    for (const [name, out] of Object.entries(spec.outputs)) {
      outputs[name] = { type: out.type, uri: out.path ?? defaultOutputUri(spec.name, name) };
    }
    const record: JobRecord = {
      info: {
        name: spec.name,
        status: 'NotStarted',
        experimentName: spec.experimentName,
        ...(spec.displayName ? { displayName: spec.displayName } : {}),
        tags: spec.tags,
        outputs,
        createdAt: this.deps.now().toISOString(),
      },
      spec,
      metrics: {},
      runnerId: this.#runnerId,
    };
    try {
      await this.#table.insert('job', spec.name, record);
    } catch (err) {
      // Two submissions of one name raced: the first one stands.
      if (err instanceof MlPlatformError && err.code === 'Conflict') return this.get(spec.name);
      throw err;
    }
    this.#start(record);
    return record.info;
  }

  /** A job's state. */
  async get(name: string): Promise<JobInfo> {
    return (await this.#record(name)).info;
  }

  /** Metrics read from the job's outputs (`metrics.json` at the top of any output). */
  async metrics(name: string): Promise<Record<string, number>> {
    return (await this.#record(name)).metrics;
  }

  /** Cancels a job: kills its process or stops it before it starts. */
  async cancel(name: string): Promise<JobInfo> {
    const record = this.#live.get(name) ?? (await this.#record(name));
    if (isTerminalJobStatus(record.info.status)) return record.info;
    this.#cancelRequested.add(name);
    const child = this.#children.get(name);
    if (child) {
      await this.#setStatus(record, 'CancelRequested');
      killGroup(child, 'SIGTERM');
      return record.info;
    }
    if (this.#running.has(name)) {
      await this.#setStatus(record, 'CancelRequested');
    } else {
      // Owned by no live process here (e.g. left by another host): cancel the record directly.
      record.endedAt = this.deps.now().toISOString();
      await this.#setStatus(record, 'Canceled');
    }
    return record.info;
  }

  /** Resolves when the job's local run (if this process runs it) has ended. */
  async settled(name: string): Promise<JobInfo> {
    await this.#running.get(name);
    return this.get(name);
  }

  /** Kills running jobs (their records stay non-terminal, so the next host recovers them). */
  async stop(): Promise<void> {
    for (const child of this.#children.values()) killGroup(child, 'SIGKILL');
    await Promise.allSettled([...this.#running.values()]);
  }

  async #record(name: string): Promise<JobRecord> {
    const found = await this.#table.get('job', name);
    if (!found)
      throw new MlPlatformError('NotFound', `Job '${name}' does not exist.`, { platformCode: 'NotFound' });
    return found.value;
  }

  /** Saves in call order per job, so a late write never overtakes a newer one. */
  async #save(record: JobRecord): Promise<void> {
    const name = record.info.name;
    const snapshot = structuredClone(record);
    const write = (this.#writes.get(name) ?? Promise.resolve())
      .catch(() => undefined)
      .then(() => this.#table.replace('job', name, snapshot));
    this.#writes.set(name, write);
    await write;
  }

  async #setStatus(record: JobRecord, status: JobStatus): Promise<void> {
    const previous = record.info.status;
    // Once terminal, a job stays so (a late cancel request must not reopen it).
    if (isTerminalJobStatus(previous)) return;
    record.info.status = status;
    await this.#save(record);
    if (previous !== status) await this.deps.onStatus(record.info, previous);
  }

  #start(record: JobRecord): void {
    this.#live.set(record.info.name, record);
    const run = this.#execute(record).finally(() => {
      this.#live.delete(record.info.name);
      this.#running.delete(record.info.name);
      this.#children.delete(record.info.name);
      this.#cancelRequested.delete(record.info.name);
    });
    this.#running.set(record.info.name, run);
  }

  async #execute(record: JobRecord): Promise<void> {
    const { spec } = record;
    const workDir = path.join(this.deps.stateDir, 'jobs', spec.name);
    const logFile = path.join(workDir, 'logs', 'std_log.txt');
    try {
      await rm(workDir, { recursive: true, force: true });
      await mkdir(path.dirname(logFile), { recursive: true });
      await this.#setStatus(record, 'Preparing');
      const inputPaths = await this.#materialiseInputs(spec, workDir);
      const outputPaths: Record<string, string> = {};
      for (const name of Object.keys(spec.outputs)) {
        outputPaths[name] = path.join(workDir, 'outputs', name);
        await mkdir(outputPaths[name], { recursive: true });
      }
      const resolve = (kind: 'inputs' | 'outputs', name: string) =>
        kind === 'inputs' ? inputPaths[name] : outputPaths[name];
      const command = substitutePlaceholders(
        resolveOptionalSections(spec.command, (kind, name) => resolve(kind, name) !== undefined),
        resolve,
      );
      if (this.#cancelRequested.has(spec.name)) return await this.#finish(record, 'Canceled');
      record.startedAt = this.deps.now().toISOString();
      const exit = await this.#runCommand(record, command, workDir, logFile);
      if (this.#cancelRequested.has(spec.name)) return await this.#finish(record, 'Canceled', logFile);
      if (exit.code !== 0) {
        const tail = (await readFile(logFile, 'utf8').catch(() => ''))
          .trimEnd()
          .split('\n')
          .slice(-5)
          .join('\n');
        record.info.error = `${exit.timedOut ? 'Timed out and was killed' : `The command exited with ${exit.signal ?? `code ${exit.code}`}`}. Log tail:\n${tail}`;
        return await this.#finish(record, 'Failed', logFile);
      }
      await this.#setStatus(record, 'Finalizing');
      for (const [name, dir] of Object.entries(outputPaths)) {
        record.metrics = { ...record.metrics, ...(await this.#readMetrics(dir)) };
        await this.#uploadFolder(
          dir,
          resolveDatastoreUri(
            record.info.outputs[name]?.uri ?? defaultOutputUri(spec.name, name),
            this.deps.datastores,
          ),
        );
      }
      await this.#finish(record, 'Completed', logFile);
    } catch (err) {
      record.info.error = err instanceof Error ? err.message : String(err);
      await this.#finish(record, 'Failed', logFile).catch(() => undefined);
    }
  }

  async #finish(record: JobRecord, status: JobStatus, logFile?: string): Promise<void> {
    if (logFile) {
      // Logs go where Azure ML keeps them, so they outlive the local working folder.
      const data = await readFile(logFile).catch(() => undefined);
      if (data) {
        const ws = resolveDatastoreUri(
          'azureml://datastores/workspaceblobstore/paths/',
          this.deps.datastores,
        );
        await this.deps.dataLake.upload(ws.container, `${logPrefix(record.info.name)}std_log.txt`, data);
      }
    }
    record.endedAt = this.deps.now().toISOString();
    await this.#setStatus(record, status);
  }

  async #readMetrics(dir: string): Promise<Record<string, number>> {
    const text = await readFile(path.join(dir, 'metrics.json'), 'utf8').catch(() => undefined);
    if (text === undefined) return {};
    try {
      return flattenMetrics(JSON.parse(text));
    } catch (cause) {
      throw new MlPlatformError(
        'OperationFailed',
        `The job wrote a metrics.json that is not JSON (${dir}).`,
        { cause },
      );
    }
  }

  async #runCommand(
    record: JobRecord,
    command: string,
    workDir: string,
    logFile: string,
  ): Promise<{ code: number | null; signal: string | null; timedOut: boolean }> {
    const { spec } = record;
    const cwd = spec.code && !spec.code.startsWith('azureml:') ? spec.code : this.deps.projectRoot;
    const log = createWriteStream(logFile, { flags: 'a' });
    const child = spawn('/bin/sh', ['-c', command], {
      cwd,
      env: {
        ...process.env,
        ...this.deps.env,
        ...spec.environmentVariables,
        AZUREML_RUN_ID: spec.name,
        AZUREML_EXPERIMENT_NAME: spec.experimentName,
        AZUREML_CR_EXECUTION_WORKING_DIR_PATH: workDir,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
      // Its own process group, so cancelling kills the command's children too, not only the shell.
      detached: true,
    });
    this.#children.set(spec.name, child);
    if (child.pid !== undefined) record.pid = child.pid;
    // A cancel that arrived between 'Running' and the spawn found no process to kill.
    if (this.#cancelRequested.has(spec.name)) killGroup(child, 'SIGTERM');
    child.stdout.pipe(log, { end: false });
    child.stderr.pipe(log, { end: false });
    let timedOut = false;
    const timer =
      spec.timeoutSeconds === undefined
        ? undefined
        : setTimeout(() => {
            timedOut = true;
            killGroup(child, 'SIGKILL');
          }, spec.timeoutSeconds * 1000);
    const exit = new Promise<{ code: number | null; signal: string | null; timedOut: boolean }>(
      (resolve, reject) => {
        child.once('error', (err) => {
          clearTimeout(timer);
          log.end();
          reject(err);
        });
        child.once('close', (code, signal) => {
          clearTimeout(timer);
          log.end(() => resolve({ code, signal, timedOut }));
        });
      },
    );
    // 'Running' is recorded with the process group, so whoever sees Running can also stop it.
    await this.#setStatus(record, 'Running');
    return exit;
  }

  async #materialiseInputs(spec: CommandJob, workDir: string): Promise<Record<string, string>> {
    const paths: Record<string, string> = {};
    for (const [name, input] of Object.entries(spec.inputs)) {
      if (input.kind === 'literal') {
        paths[name] = input.value;
        continue;
      }
      const local = this.#localPath(input.path);
      if (local !== undefined) {
        paths[name] = local;
        continue;
      }
      const source = await this.#resolveUri(input.path);
      const target = path.join(workDir, 'inputs', name);
      if (input.type === 'uri_file') {
        const file = path.join(target, path.posix.basename(source.path));
        await this.deps.dataLake.downloadToFile(source.container, source.path, file);
        paths[name] = file;
      } else {
        const prefix = source.path === '' || source.path.endsWith('/') ? source.path : `${source.path}/`;
        await mkdir(target, { recursive: true });
        for (const blob of await this.deps.dataLake.list(source.container, prefix)) {
          await this.deps.dataLake.downloadToFile(
            blob.container,
            blob.path,
            path.join(target, ...blob.path.slice(prefix.length).split('/')),
          );
        }
        paths[name] = target;
      }
    }
    return paths;
  }

  /** A local path input (absolute, `./x`, `file:`), usable as is; undefined for platform URIs. */
  #localPath(uri: string): string | undefined {
    if (uri.startsWith('file://')) return new URL(uri).pathname;
    if (/^[a-z][a-z0-9+.-]*:/i.test(uri)) return undefined;
    return path.resolve(this.deps.projectRoot, uri);
  }

  /** Resolves a datastore or job-output URI to its blob location. */
  async #resolveUri(uri: string): Promise<BlobLocation> {
    if (parseDatastoreUri(uri)) return resolveDatastoreUri(uri, this.deps.datastores);
    const jobOutput = parseJobOutputUri(uri);
    if (jobOutput) {
      const producer = await this.#record(jobOutput.job);
      const out = producer.info.outputs[jobOutput.output];
      if (!out)
        throw new MlPlatformError('NotFound', `Job '${jobOutput.job}' has no output '${jobOutput.output}'.`);
      const base = resolveDatastoreUri(out.uri, this.deps.datastores);
      const basePath = base.path === '' || base.path.endsWith('/') ? base.path : `${base.path}/`;
      return { container: base.container, path: `${basePath}${jobOutput.subPath}` };
    }
    throw new MlPlatformError(
      'JobSpecInvalid',
      `The local platform cannot read '${uri}': use azureml://datastores/..., azureml://jobs/.../outputs/... or a local path.`,
    );
  }

  /** Public for the registry: where a URI's files are. */
  resolveUri(uri: string): Promise<BlobLocation> {
    return this.#resolveUri(uri);
  }

  async #uploadFolder(dir: string, target: BlobLocation): Promise<void> {
    const prefix = target.path === '' || target.path.endsWith('/') ? target.path : `${target.path}/`;
    for (const file of await filesUnder(dir)) {
      const rel = path.relative(dir, file).split(path.sep).join('/');
      const size = (await stat(file)).size;
      await this.deps.dataLake.upload(
        target.container,
        `${prefix}${rel}`,
        size === 0 ? '' : createReadStream(file),
      );
    }
  }
}
