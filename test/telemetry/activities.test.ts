import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { ActivityDeps } from '../../activities/deps.js';
import { createActivities } from '../../activities/index.js';
import {
  ActivityName,
  type AnalyzeCanaryInput,
  type RecordDecisionInput,
} from '../../activities/contracts.js';
import {
  MlPlatformError,
  type DeploymentMetrics,
  type MlPlatform,
  type ModelVersion,
} from '../../aml/port.js';
import { Attr, MetricName, SpanEventName, SpanName } from '../../telemetry/index.js';
import { installInMemoryTelemetry, type InMemoryTelemetry } from './inMemoryTelemetry.js';

const candidateMetrics = {
  overall: { mape: 0.12, wape: 0.1 },
  perKey: { mape: { p90: 0.3 } },
  baselines: { 'seasonal-naive': { overall: { wape: 0.15 } } },
};

/** A port fake with only what the activities under test call. */
function fakeDeps() {
  const files = new Map<string, string>([
    ['curated/runs/r1/model/metrics.json', JSON.stringify(candidateMetrics)],
  ]);
  const uploads: string[] = [];
  const published: unknown[] = [];
  const model: ModelVersion = {
    name: 'demand',
    version: '7',
    modelType: 'custom_model',
    modelUri: 'azureml://datastores/curatedstore/paths/runs/r1/model',
    tags: {},
    properties: {},
  };
  const windows: Record<string, DeploymentMetrics> = {
    green: { deployment: 'green', requests: 400, p95LatencyMs: 900, errorRate: 0.001 } as DeploymentMetrics,
    blue: { deployment: 'blue', requests: 3600, p95LatencyMs: 120, errorRate: 0.002 } as DeploymentMetrics,
  };
  const platform = {
    dataLake: {
      download: async (container: string, path: string) => {
        const text = files.get(`${container}/${path}`);
        if (text === undefined) throw new MlPlatformError('NotFound', `${container}/${path} not found`);
        return Buffer.from(text);
      },
      upload: async (container: string, path: string) => {
        uploads.push(`${container}/${path}`);
      },
    },
    events: { publish: async (events: unknown[]) => void published.push(...events) },
    getModel: async (name: string, version: string) => {
      if (name !== model.name || version !== model.version)
        throw new MlPlatformError('NotFound', `${name}:${version} is not registered`);
      return model;
    },
    getDeploymentMetrics: async (_endpoint: string, deployment: string) => windows[deployment]!,
  };
  const deps: ActivityDeps = {
    platform: platform as unknown as MlPlatform,
    jobSpecDir: '/app/aml/jobs',
    datastores: { curated: 'curatedstore' },
    outputsContainer: 'curated',
    runsContainer: 'runs',
    log: () => undefined,
  };
  return { deps, uploads, published };
}

let telemetry: InMemoryTelemetry;
beforeAll(() => {
  telemetry = installInMemoryTelemetry();
});
afterAll(async () => {
  await telemetry.shutdown();
});
beforeEach(() => telemetry.reset());

const spanNamed = (name: string) => {
  const found = telemetry.spans().filter((s) => s.name === name);
  expect(found, name).toHaveLength(1);
  return found[0]!;
};

describe('activity spans', () => {
  it('carry the run id, model name and version and outcome success', async () => {
    const activities = createActivities(fakeDeps().deps);
    await activities[ActivityName.getModel]({ name: 'demand', version: '7' } as never, {
      instanceId: 'release-demand-7',
    });
    const span = spanNamed(SpanName.activity('getModel'));
    expect(span.kind).toBe(SpanKind.INTERNAL);
    expect(span.attributes).toMatchObject({
      [Attr.activity]: 'getModel',
      [Attr.runId]: 'release-demand-7',
      [Attr.instanceId]: 'release-demand-7',
      [Attr.modelName]: 'demand',
      [Attr.modelVersion]: '7',
      [Attr.outcome]: 'success',
    });
    expect(span.status.code).not.toBe(SpanStatusCode.ERROR);
    const durations = (await telemetry.metricPoints()).filter(
      (p) => p.name === MetricName.activityDuration && p.attributes[Attr.activity] === 'getModel',
    );
    expect(durations.map((p) => [p.attributes[Attr.outcome], p.count])).toEqual([['success', 1]]);
  });

  it("join the Functions host's trace when the invocation carries a traceparent", async () => {
    const activities = createActivities(fakeDeps().deps);
    const traceId = '0af7651916cd43dd8448eb211c80319c';
    const hostSpanId = 'b7ad6b7169203331';
    await activities[ActivityName.getModel]({ name: 'demand', version: '7' } as never, {
      instanceId: 'release-demand-7',
      traceParent: `00-${traceId}-${hostSpanId}-01`,
    });
    const span = spanNamed(SpanName.activity('getModel'));
    expect(span.spanContext().traceId).toBe(traceId);
    expect(span.parentSpanContext?.spanId).toBe(hostSpanId);
  });

  it('record a failure with the typed error code, and let the error through', async () => {
    const activities = createActivities(fakeDeps().deps);
    await expect(
      activities[ActivityName.evaluateGate](
        {
          modelName: 'demand',
          modelUri: 'azureml://datastores/curatedstore/paths/runs/missing/model',
          thresholds: { maxMape: 0.2, maxP90KeyMape: 0.25, championTolerance: 0.02 },
        } as never,
        { instanceId: 'training-abc' },
      ),
    ).rejects.toMatchObject({ code: 'METRICS_UNREADABLE' });
    const span = spanNamed(SpanName.activity('evaluateGate'));
    expect(span.attributes).toMatchObject({
      [Attr.runId]: 'training-abc',
      [Attr.modelName]: 'demand',
      [Attr.outcome]: 'failure',
      [Attr.errorCode]: 'METRICS_UNREADABLE',
      [Attr.errorTransient]: false,
    });
    expect(span.status.code).toBe(SpanStatusCode.ERROR);
    expect(span.events.map((e) => e.name)).toContain('exception');
  });

  it('record the platform error code of a port failure', async () => {
    const activities = createActivities(fakeDeps().deps);
    await expect(
      activities[ActivityName.getModel]({ name: 'demand', version: '99' } as never, { instanceId: 'r' }),
    ).rejects.toBeInstanceOf(MlPlatformError);
    expect(spanNamed(SpanName.activity('getModel')).attributes).toMatchObject({
      [Attr.outcome]: 'failure',
      [Attr.errorCode]: 'NotFound',
      [Attr.errorTransient]: false,
    });
  });
});

describe('gate and canary telemetry', () => {
  it('records each gate check value as a metric and the decision as span events', async () => {
    const activities = createActivities(fakeDeps().deps);
    const decision = (await activities[ActivityName.evaluateGate](
      {
        modelName: 'demand',
        modelUri: 'azureml://datastores/curatedstore/paths/runs/r1/model',
        thresholds: { maxMape: 0.2, maxP90KeyMape: 0.25, championTolerance: 0.02 },
      } as never,
      { instanceId: 'training-r1' },
    )) as { passed: boolean };
    expect(decision.passed).toBe(false);

    const gateValues = (await telemetry.metricPoints()).filter((p) => p.name === MetricName.gateCheckValue);
    const byCheck = Object.fromEntries(
      gateValues.map((p) => [p.attributes[Attr.gateCheck], [p.sum, p.attributes[Attr.gatePassed]]]),
    );
    expect(byCheck).toEqual({
      overall_mape: [0.12, true],
      p90_key_mape: [0.3, false],
      beats_seasonal_naive_wape: [0.1, true],
    });
    expect(gateValues.every((p) => p.attributes[Attr.modelName] === 'demand')).toBe(true);

    const span = spanNamed(SpanName.activity('evaluateGate'));
    expect(span.attributes[Attr.gatePassed]).toBe(false);
    const checks = span.events.filter((e) => e.name === SpanEventName.gateCheck);
    expect(checks.map((e) => e.attributes?.[Attr.gateCheck])).toEqual([
      'overall_mape',
      'p90_key_mape',
      'beats_seasonal_naive_wape',
    ]);
    // Events carry the run id themselves: App Insights stores them as trace rows of their own.
    expect(checks.every((e) => e.attributes?.[Attr.runId] === 'training-r1')).toBe(true);
    const verdict = span.events.find((e) => e.name === SpanEventName.gateDecision);
    expect(verdict?.attributes?.[Attr.gateReason]).toMatch(/P90|p90|key/i);
  });

  it('records canary p95 and error rate per deployment and the verdict', async () => {
    const activities = createActivities(fakeDeps().deps);
    const input: AnalyzeCanaryInput = {
      endpointName: 'forecast',
      green: 'green',
      blue: 'blue',
      windowSeconds: 300,
      slo: { maxP95LatencyMs: 500, max5xxRate: 0.01, minRequests: 100, maxRegressionVsBlue: 0.2 },
    };
    const analysis = (await activities[ActivityName.analyzeCanary](input as never, {
      instanceId: 'release-demand-7',
    })) as { verdict: string };
    expect(analysis.verdict).toBe('breach');

    const points = await telemetry.metricPoints();
    const of = (name: string) =>
      Object.fromEntries(
        points.filter((p) => p.name === name).map((p) => [p.attributes[Attr.deployment], p.sum]),
      );
    expect(of(MetricName.canaryP95)).toEqual({ green: 900, blue: 120 });
    expect(of(MetricName.canaryErrorRate)).toEqual({ green: 0.001, blue: 0.002 });
    expect(
      points
        .filter((p) => p.name === MetricName.canaryDecisions)
        .map((p) => [p.attributes[Attr.canaryVerdict], p.sum]),
    ).toEqual([['breach', 1]]);

    const span = spanNamed(SpanName.activity('analyzeCanary'));
    expect(span.attributes).toMatchObject({
      [Attr.endpoint]: 'forecast',
      [Attr.deployment]: 'green',
      [Attr.canaryVerdict]: 'breach',
    });
    const event = span.events.find((e) => e.name === SpanEventName.canaryDecision);
    expect(event?.attributes).toMatchObject({
      [Attr.runId]: 'release-demand-7',
      [Attr.canaryVerdict]: 'breach',
      [Attr.canaryP95Ms]: 900,
    });
  });
});

describe('notify and saga steps', () => {
  it('announces a run event as a span event with its properties', async () => {
    const { deps, published } = fakeDeps();
    await createActivities(deps)[ActivityName.notify](
      {
        runId: 'training-r1',
        kind: 'training',
        event: 'training.registered',
        message: 'registered demand:7',
        properties: { model: 'demand:7' },
      } as never,
      { instanceId: 'training-r1' },
    );
    expect(published).toHaveLength(1);
    const event = spanNamed(SpanName.activity('notify')).events.find(
      (e) => e.name === SpanEventName.runEvent,
    );
    expect(event?.attributes).toMatchObject({
      [Attr.runId]: 'training-r1',
      [Attr.saga]: 'training',
      [Attr.runEvent]: 'training.registered',
      [`${Attr.runEvent}.model`]: 'demand:7',
    });
  });

  it('announces a failed run as an App Insights custom event that the saga-failure alert matches', async () => {
    const { deps } = fakeDeps();
    await createActivities(deps)[ActivityName.notify](
      {
        runId: 'release-demand-8',
        kind: 'release',
        event: 'release.failed',
        message: 'deployment green failed to provision',
        properties: { status: 'failed' },
      } as never,
      { instanceId: 'release-demand-8' },
    );
    const records = telemetry.logRecords();
    expect(records).toHaveLength(1);
    const record = records[0]!;
    // infra/app/alerts.bicep: customEvents | where name endswith ".failed" | ... customDimensions.instanceId
    expect(record.attributes).toMatchObject({
      'microsoft.custom_event.name': 'release.failed',
      instanceId: 'release-demand-8',
      [Attr.runEvent]: 'release.failed',
      [`${Attr.runEvent}.status`]: 'failed',
    });
    expect(record.severityText).toBe('WARN');
    // The record belongs to the notify activity's trace.
    const span = spanNamed(SpanName.activity('notify'));
    expect(record.spanContext?.spanId).toBe(span.spanContext().spanId);
  });

  it('emits the saga span and a span per step, with the orchestration clock times, after the record is written', async () => {
    const { deps, uploads } = fakeDeps();
    const record: RecordDecisionInput = {
      runId: 'training-r2',
      kind: 'training',
      status: 'rejected',
      reason: 'quality gate failed',
      details: {
        steps: [
          {
            name: 'validate',
            status: 'succeeded',
            startedAt: '2026-11-29T10:00:00.000Z',
            endedAt: '2026-11-29T10:00:02.000Z',
          },
          {
            name: 'etl',
            status: 'succeeded',
            startedAt: '2026-11-29T10:00:02.000Z',
            endedAt: '2026-11-29T10:01:02.000Z',
          },
          {
            name: 'gate',
            status: 'failed',
            startedAt: '2026-11-29T10:05:00.000Z',
            endedAt: '2026-11-29T10:05:01.500Z',
            detail: 'p90 too high',
          },
        ],
      },
    };
    await createActivities(deps)[ActivityName.recordDecision](record as never, { instanceId: 'training-r2' });
    expect(uploads).toEqual(['runs/training/training-r2.json']);

    const saga = spanNamed(SpanName.saga('training'));
    expect(saga.parentSpanContext).toBeUndefined();
    expect(saga.links).toHaveLength(1);
    // A rejected candidate is an outcome the saga chose, not an error; the failed gate step is.
    expect(saga.status.code).not.toBe(SpanStatusCode.ERROR);
    expect(saga.attributes).toMatchObject({
      [Attr.runId]: 'training-r2',
      [Attr.runStatus]: 'rejected',
      [Attr.outcome]: 'success',
    });
    expect(new Date(saga.startTime[0] * 1000).toISOString()).toBe('2026-11-29T10:00:00.000Z');

    const steps = telemetry.spans().filter((s) => s.name.startsWith('saga.step '));
    expect(steps.map((s) => [s.name, s.attributes[Attr.outcome], s.parentSpanContext?.spanId])).toEqual([
      [SpanName.sagaStep('validate'), 'success', saga.spanContext().spanId],
      [SpanName.sagaStep('etl'), 'success', saga.spanContext().spanId],
      [SpanName.sagaStep('gate'), 'failure', saga.spanContext().spanId],
    ]);
    expect(steps.map((s) => s.status.code === SpanStatusCode.ERROR)).toEqual([false, false, true]);
    const durations = (await telemetry.metricPoints()).filter((p) => p.name === MetricName.sagaStepDuration);
    expect(Object.fromEntries(durations.map((p) => [p.attributes[Attr.step], p.sum]))).toEqual({
      validate: 2,
      etl: 60,
      gate: 1.5,
    });
  });

  it('marks a failed run as an error on its saga span', async () => {
    const { deps } = fakeDeps();
    await createActivities(deps)[ActivityName.recordDecision](
      {
        runId: 'release-demand-9',
        kind: 'release',
        status: 'failed',
        reason: 'deployment green failed to provision',
        details: {
          steps: [
            {
              name: 'deploy',
              status: 'failed',
              startedAt: '2026-11-29T11:00:00.000Z',
              endedAt: '2026-11-29T11:10:00.000Z',
            },
          ],
        },
      } as never,
      { instanceId: 'release-demand-9' },
    );
    const saga = spanNamed(SpanName.saga('release'));
    expect(saga.status).toMatchObject({ code: SpanStatusCode.ERROR });
    expect(saga.status.message).toContain('deployment green failed to provision');
    expect(saga.attributes[Attr.outcome]).toBe('failure');
  });

  it('emits no saga span when writing the record fails', async () => {
    const { deps } = fakeDeps();
    (deps.platform.dataLake as { upload: unknown }).upload = async () => {
      throw new MlPlatformError('Unavailable', 'storage is down');
    };
    await expect(
      createActivities(deps)[ActivityName.recordDecision](
        {
          runId: 'r3',
          kind: 'release',
          status: 'promoted',
          reason: 'ok',
          details: {
            steps: [{ name: 'deploy', status: 'succeeded', startedAt: '2026-11-29T10:00:00.000Z' }],
          },
        } as never,
        {},
      ),
    ).rejects.toMatchObject({ code: 'Unavailable' });
    expect(telemetry.spans().map((s) => s.name)).toEqual([SpanName.activity('recordDecision')]);
    expect(spanNamed(SpanName.activity('recordDecision')).attributes[Attr.errorTransient]).toBe(true);
  });
});
