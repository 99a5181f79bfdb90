import { describe, expect, it } from 'vitest';
import { activityCalls } from './history.js';
import { runView, type InstanceStatus } from './runView.js';

/** A folded history event as the durable status API returns it (.NET timestamps, results as JSON text). */
const completed = (name: string, scheduled: string, done: string, result: unknown, input?: unknown) => ({
  EventType: 'TaskCompleted',
  FunctionName: name,
  ScheduledTime: `${scheduled}0000Z`,
  Timestamp: `${done}0000Z`,
  Result: JSON.stringify(result),
  ...(input === undefined ? {} : { Input: JSON.stringify([input]) }),
});
const failed = (name: string, scheduled: string, done: string, message: string, input?: unknown) => ({
  EventType: 'TaskFailed',
  FunctionName: name,
  ScheduledTime: `${scheduled}0000Z`,
  Timestamp: `${done}0000Z`,
  FailureDetails: { ErrorType: 'Error', ErrorMessage: message },
  ...(input === undefined ? {} : { Input: JSON.stringify([input]) }),
});

const t = (s: string) => `2026-03-02T08:00:${s}`;

const gate = {
  passed: false,
  reason: 'MAPE 0.5 > 0.4',
  checks: [
    { name: 'overall_mape', value: 0.5, threshold: 0.4, passed: false },
    { name: 'beats_seasonal_naive_wape', value: 0.3, threshold: 0.4, passed: true },
  ],
};

const trainingRun = (runtimeStatus: string, output: unknown): InstanceStatus => ({
  name: 'trainingSaga',
  instanceId: 'train-1',
  runtimeStatus,
  createdTime: t('00.000Z'),
  lastUpdatedTime: t('30.000Z'),
  input: { trigger: { source: 'http', eventId: 'k1' } },
  output,
  customStatus: {
    step: 'gate',
    steps: [
      { name: 'validate', status: 'succeeded', startedAt: t('00.100Z'), endedAt: t('01.000Z') },
      { name: 'train', status: 'succeeded', startedAt: t('01.000Z'), endedAt: t('20.000Z') },
      { name: 'gate', status: 'failed', startedAt: t('20.000Z'), endedAt: t('21.000Z'), detail: gate.reason },
    ],
  },
  history: [
    { EventType: 'ExecutionStarted', Timestamp: t('00.0000000Z') },
    completed('validateDataset', t('00.100'), t('00.900'), { datasetVersion: 'abc' }),
    completed('submitJob', t('01.000'), t('01.500'), { jobName: 'train-1-train', status: 'Queued' }),
    failed('getJobStatus', t('02.000'), t('02.100'), 'Throttled', { jobName: 'train-1-train' }),
    completed(
      'getJobStatus',
      t('03.000'),
      t('03.100'),
      { status: 'Running', outputs: {} },
      { jobName: 'train-1-train' },
    ),
    completed(
      'getJobStatus',
      t('19.000'),
      t('19.500'),
      { status: 'Completed', outputs: { model: 'azureml://datastores/lake_curated/paths/m/1' } },
      { jobName: 'train-1-train' },
    ),
    { EventType: 'TimerFired', Timestamp: t('19.0000000Z') },
    completed('evaluateGate', t('20.000'), t('20.800'), gate),
    completed('recordDecision', t('21.000'), t('21.200'), { path: 'runs/training/train-1.json' }),
    completed('notify', t('21.200'), t('21.300'), null),
  ],
});

describe('activityCalls', () => {
  it('reads completed and failed calls with their times, results and retry attempts', () => {
    const calls = activityCalls(trainingRun('Completed', {}).history);
    expect(calls.map((c) => c.name)).toEqual([
      'validateDataset',
      'submitJob',
      'getJobStatus',
      'getJobStatus',
      'getJobStatus',
      'evaluateGate',
      'recordDecision',
      'notify',
    ]);
    const polls = calls.filter((c) => c.name === 'getJobStatus');
    expect(polls.map((c) => [c.outcome, c.attempt])).toEqual([
      ['failed', 1],
      ['succeeded', 2],
      ['succeeded', 1],
    ]);
    expect(polls[0]?.error).toBe('Throttled');
    expect(calls[0]).toMatchObject({
      startedAt: '2026-03-02T08:00:00.100Z',
      endedAt: '2026-03-02T08:00:00.900Z',
      result: { datasetVersion: 'abc' },
    });
  });
});

describe('runView', () => {
  it('places each activity under the step that ran it and counts retries; later calls form a record step', () => {
    const view = runView(trainingRun('Completed', { status: 'rejected', reason: 'quality gate failed' }));
    expect(view.steps.map((s) => [s.name, s.activities.map((a) => a.name)])).toEqual([
      ['validate', ['validateDataset']],
      ['train', ['submitJob', 'getJobStatus', 'getJobStatus', 'getJobStatus']],
      ['gate', ['evaluateGate']],
      ['record', ['recordDecision', 'notify']],
    ]);
    expect(view.steps.map((s) => s.retries)).toEqual([0, 1, 0, 0]);
    expect(view.steps[1]?.durationSeconds).toBe(19);
    expect(view).toMatchObject({
      type: 'training',
      outcome: 'rejected',
      live: false,
      durationSeconds: 30,
      trigger: { source: 'http' },
    });
  });

  it('shows the gate table from the gate activity while the run has no output yet, and links the artifacts', () => {
    const view = runView(trainingRun('Running', null));
    expect(view.live).toBe(true);
    expect(view.durationSeconds).toBeUndefined();
    expect(view.gate?.checks.map((c) => [c.name, c.passed])).toEqual([
      ['overall_mape', false],
      ['beats_seasonal_naive_wape', true],
    ]);
    expect(view.artifacts.map((a) => a.href ?? a.uri)).toEqual([
      'train-1-train',
      'azureml://datastores/lake_curated/paths/m/1',
      'runs/train-1/files/metrics.json',
      'runs/train-1/files/forecast-vs-actual.svg',
      'runs/train-1/files/record.json',
    ]);
  });

  it('builds the canary series of a release: a point per deployment and analysis, traffic moves, SLO', () => {
    const slo = { maxP95LatencyMs: 500, max5xxRate: 0.01, minRequests: 20, maxRegressionVsBlue: 0.25 };
    const analysis = (green: number, blue: number) => ({
      verdict: 'healthy',
      reason: 'ok',
      green: { deployment: 'v2', requests: 40, p95LatencyMs: green, errorRate5xx: 0 },
      blue: { deployment: 'v1', requests: 360, p95LatencyMs: blue, errorRate5xx: 0.002 },
    });
    const view = runView({
      name: 'releaseSaga',
      instanceId: 'release-m-2',
      runtimeStatus: 'Running',
      createdTime: t('00.000Z'),
      lastUpdatedTime: t('30.000Z'),
      input: { model: { name: 'm', version: '2' }, config: { slo } },
      output: null,
      customStatus: {
        step: 'canary-50',
        steps: [
          { name: 'canary-10', status: 'succeeded', startedAt: t('01.000Z'), endedAt: t('10.000Z') },
          { name: 'canary-50', status: 'running', startedAt: t('10.000Z') },
        ],
      },
      history: [
        completed('setTraffic', t('01.000'), t('01.200'), {}, { traffic: { v2: 10, v1: 90 } }),
        completed('analyzeCanary', t('05.000'), t('05.100'), analysis(30, 25)),
        completed('setTraffic', t('10.000'), t('10.200'), {}, { traffic: { v2: 50, v1: 50 } }),
        completed('analyzeCanary', t('15.000'), t('15.100'), analysis(35, 24)),
      ],
    });
    expect(view.model).toEqual({ name: 'm', version: '2' });
    expect(view.canary?.slo).toEqual(slo);
    expect(view.canary?.points.map((p) => [p.deployment, p.role, p.p95LatencyMs])).toEqual([
      ['v2', 'green', 30],
      ['v1', 'blue', 25],
      ['v2', 'green', 35],
      ['v1', 'blue', 24],
    ]);
    expect(view.canary?.trafficChanges).toEqual([
      { at: '2026-03-02T08:00:01.000Z', traffic: { v2: 10, v1: 90 }, label: 'v2 10%, v1 90%' },
      { at: '2026-03-02T08:00:10.000Z', traffic: { v2: 50, v1: 50 }, label: 'v2 50%, v1 50%' },
    ]);
  });

  it('leaves a gap, not a zero, for a deployment that got no requests in a window', () => {
    const view = runView({
      name: 'releaseSaga',
      instanceId: 'release-m-3',
      runtimeStatus: 'Running',
      createdTime: t('00.000Z'),
      lastUpdatedTime: t('30.000Z'),
      history: [
        completed('analyzeCanary', t('05.000'), t('05.100'), {
          verdict: 'insufficient-data',
          reason: 'no requests reached v3',
          green: { deployment: 'v3', requests: 0, p95LatencyMs: 0, errorRate5xx: 0 },
        }),
      ],
    });
    expect(view.canary?.points).toEqual([
      {
        at: '2026-03-02T08:00:05.100Z',
        deployment: 'v3',
        role: 'green',
        requests: 0,
        p95LatencyMs: null,
        errorRate: null,
        verdict: 'insufficient-data',
      },
    ]);
  });

  it('falls back to the canary steps for traffic moves when the history carries no activity inputs', () => {
    const view = runView({
      name: 'releaseSaga',
      instanceId: 'release-m-2',
      runtimeStatus: 'Completed',
      createdTime: t('00.000Z'),
      lastUpdatedTime: t('30.000Z'),
      customStatus: {
        step: 'rollback',
        steps: [
          { name: 'canary-10', status: 'failed', startedAt: t('01.000Z'), endedAt: t('10.000Z') },
          { name: 'rollback', status: 'succeeded', startedAt: t('10.000Z'), endedAt: t('11.000Z') },
        ],
      },
      history: [completed('setTraffic', t('01.000'), t('01.200'), {})],
    });
    expect(view.canary?.trafficChanges.map((c) => c.label)).toEqual(['green 10%', 'rollback']);
    expect(view.canary?.points).toEqual([]);
  });
});
