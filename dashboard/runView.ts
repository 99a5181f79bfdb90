/**
 * The view of one run: its saga steps with the activity calls made during each, the gate decision
 * table, links to its artifacts and, for releases, the canary analyses over time. Built from the durable
 * status with history (what the sagas publish as custom status and what each activity returned).
 */
import type {
  AnalyzeCanaryOutput,
  CanarySlo,
  GateDecision,
  GetJobStatusOutput,
  ModelRef,
  ReleaseInput,
  RunTrigger,
} from '../activities/contracts.js';
import type { SagaStatus, StepRecord } from '../orchestrators/steps.js';
import { activityCalls, type ActivityCall } from './history.js';
import { runTypeOf, type RunType } from './runTypes.js';

/** What the durable client returns for an instance, as far as the dashboard reads it. */
export interface InstanceStatus {
  name: string;
  instanceId: string;
  runtimeStatus: string;
  input?: unknown;
  output?: unknown;
  customStatus?: unknown;
  createdTime: Date | string;
  lastUpdatedTime: Date | string;
  history?: unknown[];
}

/** A saga step with the activity calls scheduled while it ran. */
export interface StepView extends StepRecord {
  durationSeconds?: number;
  activities: ActivityCall[];
  /** Calls that repeated a failed call. */
  retries: number;
}

/** One point of a canary chart: what one analysis saw for one deployment. */
export interface CanaryPoint {
  at: string;
  deployment: string;
  role: 'green' | 'blue';
  requests: number;
  /** Null when the window had no requests (nothing to measure). */
  p95LatencyMs: number | null;
  errorRate: number | null;
  verdict: AnalyzeCanaryOutput['verdict'];
}

/** A moment the release moved traffic. */
export interface TrafficChange {
  at: string;
  /** Percent per deployment, when known; the step name says the percent otherwise. */
  traffic?: Record<string, number>;
  label: string;
}

/** Canary analyses of a release over time, with the SLO lines and traffic changes to draw. */
export interface CanarySeries {
  runId: string;
  slo?: CanarySlo;
  points: CanaryPoint[];
  trafficChanges: TrafficChange[];
}

/** A link to something a run produced. */
export interface ArtifactLink {
  label: string;
  /** A dashboard API path (relative to /api/dashboard/api/) or a platform URI shown as text. */
  href?: string;
  uri?: string;
}

/** Everything the run page shows. */
export interface RunView {
  id: string;
  type: RunType;
  runtimeStatus: string;
  outcome?: string;
  reason?: string;
  trigger?: RunTrigger;
  createdTime: string;
  lastUpdatedTime: string;
  durationSeconds?: number;
  live: boolean;
  step?: string;
  progress?: string;
  steps: StepView[];
  gate?: GateDecision;
  model?: ModelRef;
  artifacts: ArtifactLink[];
  canary?: CanarySeries;
}

const finished = new Set(['Completed', 'Failed', 'Terminated', 'Canceled']);
const iso = (value: Date | string) => new Date(value).toISOString();
const seconds = (from: string, to: string) => (Date.parse(to) - Date.parse(from)) / 1000;

/** Assigns each call to the step that was running when it was scheduled; later calls form a `record` step. */
export function stepsWithActivities(
  steps: readonly StepRecord[],
  calls: readonly ActivityCall[],
): StepView[] {
  const views: StepView[] = steps.map((s) => ({
    ...s,
    ...(s.endedAt ? { durationSeconds: seconds(s.startedAt, s.endedAt) } : {}),
    activities: [],
    retries: 0,
  }));
  const outside: ActivityCall[] = [];
  for (const call of calls) {
    // Steps start when the previous one ends, so the last step begun by then is the one that was running.
    const owner = views.findLast(
      (s) => s.startedAt <= call.startedAt && (s.endedAt === undefined || call.startedAt < s.endedAt),
    );
    if (owner) owner.activities.push(call);
    else outside.push(call);
  }
  if (outside.length > 0) {
    const first = outside[0] as ActivityCall;
    const last = outside.reduce((a, b) => (a.endedAt > b.endedAt ? a : b));
    views.push({
      name: steps.length === 0 ? 'activities' : 'record',
      status: outside.at(-1)?.outcome === 'failed' ? 'failed' : 'succeeded',
      startedAt: first.startedAt,
      endedAt: last.endedAt,
      durationSeconds: seconds(first.startedAt, last.endedAt),
      activities: outside,
      retries: 0,
    });
  }
  for (const view of views) view.retries = view.activities.filter((c) => c.attempt > 1).length;
  return views;
}

/** The last result of the named activity, if it completed. */
function lastResult<T>(calls: readonly ActivityCall[], name: string): T | undefined {
  return calls.findLast((c) => c.name === name && c.outcome === 'succeeded')?.result as T | undefined;
}

/** The canary analyses and traffic moves of a release run. */
export function canarySeries(
  runId: string,
  input: Partial<ReleaseInput> | undefined,
  steps: readonly StepRecord[],
  calls: readonly ActivityCall[],
): CanarySeries {
  const points: CanaryPoint[] = [];
  for (const call of calls) {
    if (call.name !== 'analyzeCanary' || call.outcome !== 'succeeded') continue;
    const analysis = call.result as AnalyzeCanaryOutput | undefined;
    if (!analysis?.green) continue;
    for (const [role, seen] of [
      ['green', analysis.green],
      ['blue', analysis.blue],
    ] as const) {
      if (!seen) continue;
      points.push({
        at: call.endedAt,
        deployment: seen.deployment,
        role,
        requests: seen.requests,
        // analyzeCanary reports 0 for an empty window; the chart leaves a gap instead of a false zero.
        p95LatencyMs: seen.requests > 0 ? seen.p95LatencyMs : null,
        errorRate: seen.requests > 0 ? seen.errorRate5xx : null,
        verdict: analysis.verdict,
      });
    }
  }
  const moves = calls.filter((c) => c.name === 'setTraffic');
  let trafficChanges: TrafficChange[];
  if (moves.length > 0 && moves.every((c) => c.input !== undefined)) {
    trafficChanges = moves.map((c) => {
      const traffic = (c.input as { traffic?: Record<string, number> }).traffic ?? {};
      return {
        at: c.startedAt,
        traffic,
        label: Object.entries(traffic)
          .map(([name, share]) => `${name} ${share}%`)
          .join(', '),
      };
    });
  } else {
    // Hosts that leave activity inputs out of the history: each canary step begins by moving traffic.
    trafficChanges = steps
      .filter((s) => /^canary-\d+$/.test(s.name) || s.name === 'rollback')
      .map((s) => ({
        at: s.startedAt,
        label: s.name === 'rollback' ? 'rollback' : `green ${s.name.slice('canary-'.length)}%`,
      }));
  }
  return {
    runId,
    ...(input?.config?.slo ? { slo: input.config.slo } : {}),
    points,
    trafficChanges,
  };
}

/** Links to a run's jobs, model directory, registered model and run record. */
function artifactsOf(runId: string, type: RunType, calls: readonly ActivityCall[], model?: ModelRef) {
  const links: ArtifactLink[] = [];
  for (const call of calls) {
    if (call.name !== 'submitJob' || call.outcome !== 'succeeded') continue;
    const job = call.result as { jobName?: string } | undefined;
    const kind = (call.input as { kind?: string } | undefined)?.kind ?? 'Azure ML';
    if (job?.jobName) links.push({ label: `${kind} job`, uri: job.jobName });
  }
  const trained = calls.findLast(
    (c) => c.name === 'getJobStatus' && (c.result as GetJobStatusOutput | undefined)?.outputs?.model,
  );
  const modelDir = (trained?.result as GetJobStatusOutput | undefined)?.outputs.model;
  if (modelDir) {
    links.push({ label: 'model directory', uri: modelDir });
    const base = `runs/${encodeURIComponent(runId)}/files`;
    links.push({ label: 'metrics.json', href: `${base}/metrics.json` });
    links.push({ label: 'forecast vs actual (SVG)', href: `${base}/forecast-vs-actual.svg` });
  }
  if (model) {
    links.push({
      label: `model ${model.name}:${model.version}`,
      href: `models/${encodeURIComponent(model.version)}`,
    });
  }
  const recorded = lastResult<{ path?: string }>(calls, 'recordDecision');
  if (recorded?.path) {
    links.push({
      label: `${type} record`,
      href: `runs/${encodeURIComponent(runId)}/files/record.json`,
      uri: recorded.path,
    });
  }
  return links;
}

/** Builds the run page's view from a status fetched with input and history. */
export function runView(status: InstanceStatus): RunView {
  const type = runTypeOf(status.name) ?? 'training';
  const custom = (status.customStatus ?? {}) as Partial<SagaStatus>;
  const output = (status.output ?? undefined) as
    { status?: string; reason?: string; gate?: GateDecision; model?: ModelRef } | undefined;
  const input = (status.input ?? undefined) as { trigger?: RunTrigger; model?: ModelRef } | undefined;
  const calls = activityCalls(status.history);
  const steps = stepsWithActivities(custom.steps ?? [], calls);
  const createdTime = iso(status.createdTime);
  const lastUpdatedTime = iso(status.lastUpdatedTime);
  const done = finished.has(status.runtimeStatus);
  const gate = (typeof output === 'object' ? output.gate : undefined) ?? lastResult(calls, 'evaluateGate');
  const model =
    (typeof output === 'object' ? output.model : undefined) ??
    lastResult<ModelRef>(calls, 'registerModel') ??
    input?.model;
  const view: RunView = {
    id: status.instanceId,
    type,
    runtimeStatus: status.runtimeStatus,
    createdTime,
    lastUpdatedTime,
    live: !done,
    steps,
    artifacts: artifactsOf(status.instanceId, type, calls, model),
  };
  if (typeof output === 'object' && output.status) view.outcome = output.status;
  if (typeof output === 'object' && output.reason) view.reason = output.reason;
  else if (typeof status.output === 'string' && status.output) view.reason = status.output;
  if (input?.trigger) view.trigger = input.trigger;
  if (done) view.durationSeconds = seconds(createdTime, lastUpdatedTime);
  if (custom.step) view.step = custom.step;
  if (custom.progress) view.progress = custom.progress;
  if (gate) view.gate = gate;
  if (model) view.model = model;
  if (type === 'release') {
    view.canary = canarySeries(
      status.instanceId,
      status.input as Partial<ReleaseInput>,
      custom.steps ?? [],
      calls,
    );
  }
  return view;
}

/** The model directory a training run wrote (its train job's `model` output), if it got that far. */
export function modelDirOf(status: InstanceStatus): string | undefined {
  const calls = activityCalls(status.history);
  const trained = calls.findLast(
    (c) => c.name === 'getJobStatus' && (c.result as GetJobStatusOutput | undefined)?.outputs?.model,
  );
  return (trained?.result as GetJobStatusOutput | undefined)?.outputs.model;
}
