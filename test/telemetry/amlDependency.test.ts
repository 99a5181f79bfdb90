import { fileURLToPath } from 'node:url';
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { ActivityDeps } from '../../activities/deps.js';
import { createActivities } from '../../activities/index.js';
import { ActivityName } from '../../activities/contracts.js';
import { AzureMlPlatform } from '../../aml/azure/platform.js';
import type { DataLake, EventPublisher } from '../../aml/port.js';
import { Attr, MetricName, SpanName } from '../../telemetry/index.js';
import { AzureFake } from '../port/armFake.js';
import { FakeCredential } from '../port/fakeCredential.js';
import { installInMemoryTelemetry, type InMemoryTelemetry } from './inMemoryTelemetry.js';

const ids = { subscriptionId: '11111111-2222-3333-4444-555555555555', resourceGroup: 'rg', workspace: 'ws' };

/** The Azure adapter over the in-process ARM fake: every Azure ML call stays in this process. */
function azurePlatform() {
  const fake = new AzureFake(ids, async () => ({ outcome: 'Completed', metrics: {} }));
  const unused = () => {
    throw new Error('not used by these tests');
  };
  const platform = new AzureMlPlatform({
    ...ids,
    location: 'westeurope',
    credential: new FakeCredential(),
    projectRoot: fileURLToPath(new URL('../../', import.meta.url)),
    dataLake: new Proxy({}, { get: unused }) as DataLake,
    events: { publish: unused } as EventPublisher,
    httpClient: fake,
    retry: { maxRetries: 2, retryDelayInMs: 1, maxRetryDelayInMs: 2 },
    minPollIntervalMs: 0,
  });
  return { platform, fake };
}

let telemetry: InMemoryTelemetry;
beforeAll(() => {
  telemetry = installInMemoryTelemetry();
});
afterAll(async () => {
  await telemetry.shutdown();
});
beforeEach(() => telemetry.reset());

const amlSpans = () => telemetry.spans().filter((s) => s.name.startsWith('AzureML '));

describe('Azure ML dependency spans', () => {
  it('records each ARM call as a CLIENT span with its operation, resource and status', async () => {
    const { platform } = azurePlatform();
    await platform.registerModel({
      name: 'demand',
      version: '3',
      modelUri: 'azureml://datastores/curatedstore/paths/runs/r1/model',
    });
    const spans = amlSpans();
    expect(spans.length).toBeGreaterThan(0);
    const put = spans.find((s) => s.name === SpanName.aml('PUT', 'models/versions'));
    expect(put, spans.map((s) => s.name).join(', ')).toBeDefined();
    expect(put!.kind).toBe(SpanKind.CLIENT);
    expect(put!.attributes).toMatchObject({
      [Attr.amlOperation]: 'PUT models/versions',
      [Attr.amlResource]: 'demand/3',
      [Attr.httpMethod]: 'PUT',
      [Attr.serverAddress]: 'management.azure.com',
      [Attr.outcome]: 'success',
    });
    expect([200, 201]).toContain(put!.attributes[Attr.httpStatus]);
    // The URL is recorded without its query string.
    expect(String(put!.attributes[Attr.url])).toMatch(/\/models\/demand\/versions\/3$/);
    const durations = (await telemetry.metricPoints()).filter(
      (p) =>
        p.name === MetricName.amlRequestDuration && p.attributes[Attr.amlOperation] === 'models/versions',
    );
    expect(durations.reduce((n, p) => n + p.count, 0)).toBeGreaterThan(0);
  });

  it('records every attempt: a throttled answer fails its span, the retry succeeds', async () => {
    const { platform, fake } = azurePlatform();
    await platform.registerModel({
      name: 'demand',
      version: '4',
      modelUri: 'azureml://datastores/x/paths/m',
    });
    telemetry.reset();
    fake.inject({
      method: 'GET',
      path: /\/models\/demand\/versions\/4$/,
      status: 503,
      code: 'ServiceUnavailable',
    });
    await platform.getModel('demand', '4');
    const gets = amlSpans().filter((s) => s.name === SpanName.aml('GET', 'models/versions'));
    expect(gets.map((s) => [s.attributes[Attr.httpStatus], s.attributes[Attr.outcome]])).toEqual([
      [503, 'failure'],
      [200, 'success'],
    ]);
    expect(gets[0]!.status.code).toBe(SpanStatusCode.ERROR);
    expect(gets[0]!.attributes[Attr.errorCode]).toBe('Http503');
  });

  it('nests Azure ML calls under the activity that made them', async () => {
    const { platform } = azurePlatform();
    await platform.registerModel({
      name: 'demand',
      version: '5',
      modelUri: 'azureml://datastores/x/paths/m',
    });
    telemetry.reset();
    const deps: ActivityDeps = {
      platform,
      jobSpecDir: '/app/aml/jobs',
      datastores: {},
      outputsContainer: 'curated',
      runsContainer: 'runs',
      log: () => undefined,
    };
    await createActivities(deps)[ActivityName.getModel]({ name: 'demand', version: '5' } as never, {
      instanceId: 'release-demand-5',
    });
    const activity = telemetry.spans().find((s) => s.name === SpanName.activity('getModel'))!;
    const calls = amlSpans();
    expect(calls.length).toBeGreaterThan(0);
    for (const call of calls) {
      expect(call.spanContext().traceId).toBe(activity.spanContext().traceId);
      expect(call.parentSpanContext?.spanId).toBe(activity.spanContext().spanId);
      // Run attributes flow from the activity to the dependency, so App Insights can filter calls by run.
      expect(call.attributes[Attr.runId]).toBe('release-demand-5');
    }
  });
});
