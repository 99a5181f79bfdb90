import { HttpRequest, type HttpResponseInit } from '@azure/functions';
import type * as df from 'durable-functions';
import { describe, expect, it } from 'vitest';
import { testTriggerConfig } from './__fixtures__/triggerConfig.js';
import {
  cancelRun,
  decideRun,
  getRun,
  listRuns,
  rollbackEndpoint,
  startRelease,
  startRun,
} from './httpApi.js';

const config = testTriggerConfig;

interface Instance {
  instanceId: string;
  name: string;
  runtimeStatus: string;
  createdTime: Date;
  lastUpdatedTime: Date;
  input?: unknown;
  output?: unknown;
  customStatus?: unknown;
}

/** A durable client fake over a fixed set of instances, recording what the handlers ask of it. */
function fakeClient(instances: Instance[] = []) {
  const raised: { id: string; event: string; data: unknown }[] = [];
  const started: { name: string; id: string }[] = [];
  const client = {
    getStatus: async (id: string) => {
      const found = instances.find((i) => i.instanceId === id);
      if (!found) throw new Error('404');
      return found;
    },
    getStatusBy: async (filter: { runtimeStatus?: string[] }) =>
      instances.filter((i) => !filter.runtimeStatus || filter.runtimeStatus.includes(i.runtimeStatus)),
    raiseEvent: async (id: string, event: string, data: unknown) => void raised.push({ id, event, data }),
    startNew: async (name: string, options: { instanceId: string }) => {
      started.push({ name, id: options.instanceId });
      instances.push({
        instanceId: options.instanceId,
        name,
        runtimeStatus: 'Pending',
        createdTime: new Date(),
        lastUpdatedTime: new Date(),
      });
      return options.instanceId;
    },
    getStatusAll: async () => instances,
    createCheckStatusResponse: (_req: unknown, id: string) => ({ status: 202, jsonBody: { id } }),
  };
  return { client: client as unknown as df.DurableClient, raised, started, instances };
}

const request = (method: string, url: string, body?: string, params: Record<string, string> = {}) =>
  new HttpRequest({
    method,
    url: `http://127.0.0.1:7071/api/${url}`,
    ...(body === undefined ? {} : { body: { string: body } }),
    params,
  });

const run = (id: string, name: string, runtimeStatus: string, minutesAgo = 0): Instance => ({
  instanceId: id,
  name,
  runtimeStatus,
  createdTime: new Date(Date.UTC(2026, 2, 2, 8, 0) - minutesAgo * 60_000),
  lastUpdatedTime: new Date(Date.UTC(2026, 2, 2, 8, 5)),
});

const json = (r: HttpResponseInit) => r.jsonBody as Record<string, unknown>;

describe('runs API', () => {
  it('starts a training run, idempotently per key, and answers 400 with the field for bad bodies', async () => {
    const f = fakeClient();
    const first = await startRun(request('POST', 'runs', '{"idempotencyKey":"k1"}'), f.client, config);
    const again = await startRun(request('POST', 'runs', '{"idempotencyKey":"k1"}'), f.client, config);
    expect(first.status).toBe(202);
    expect(json(first).id).toBe(json(again).id);
    const bad = await startRun(request('POST', 'runs', '{"blobs": []}'), f.client, config);
    expect(bad.status).toBe(400);
    expect(json(bad).message).toMatch(/blobs/);
    expect((await startRun(request('POST', 'runs', '{nope'), f.client, config)).status).toBe(400);
    expect((await startRun(request('POST', 'runs', '{"surprise":1}'), f.client, config)).status).toBe(400);
  });

  it('lists sagas newest first, filtered by type and status; rejects bad filters', async () => {
    const f = fakeClient([
      run('train-a', 'trainingSaga', 'Completed', 10),
      run('release-b', 'releaseSaga', 'Running', 5),
      run('training-coordinator-x', 'trainingCoordinator', 'Running', 20),
    ]);
    const all = json(await listRuns(request('GET', 'runs'), f.client)).runs as { id: string; type: string }[];
    expect(all.map((r) => [r.id, r.type])).toEqual([
      ['release-b', 'release'],
      ['train-a', 'training'],
    ]);
    const releases = json(
      await listRuns(new HttpRequest({ method: 'GET', url: 'http://h/api/runs?type=release' }), f.client),
    );
    expect((releases.runs as unknown[]).length).toBe(1);
    const bad = await listRuns(
      new HttpRequest({ method: 'GET', url: 'http://h/api/runs?status=Sleeping' }),
      f.client,
    );
    expect(bad.status).toBe(400);
    expect(
      (await listRuns(new HttpRequest({ method: 'GET', url: 'http://h/api/runs?top=0' }), f.client)).status,
    ).toBe(400);
  });

  it('answers 404 for unknown runs, 400 for malformed ids and 410 for finished ones', async () => {
    const f = fakeClient([
      run('train-a', 'trainingSaga', 'Completed'),
      run('release-b', 'releaseSaga', 'Running'),
    ]);
    expect((await getRun(request('GET', 'runs/nope', undefined, { id: 'nope' }), f.client)).status).toBe(404);
    expect((await getRun(request('GET', 'runs/x', undefined, { id: '../etc' }), f.client)).status).toBe(400);
    expect(
      (await cancelRun(request('DELETE', 'runs/train-a', undefined, { id: 'train-a' }), f.client)).status,
    ).toBe(410);
    const cancel = await cancelRun(
      request('DELETE', 'runs/release-b', undefined, { id: 'release-b' }),
      f.client,
    );
    expect(cancel.status).toBe(202);
    expect(f.raised).toEqual([
      { id: 'release-b', event: 'cancel', data: { reason: 'canceled over the HTTP API' } },
    ]);
  });

  it('passes approvals only to releases that are still running', async () => {
    const f = fakeClient([
      run('train-a', 'trainingSaga', 'Running'),
      run('release-b', 'releaseSaga', 'Running'),
    ]);
    const approve = decideRun(true);
    const ok = await approve(
      request('POST', 'runs/release-b/approve', '{"by":"ada"}', { id: 'release-b' }),
      f.client,
    );
    expect(ok.status).toBe(202);
    expect(f.raised[0]).toEqual({ id: 'release-b', event: 'approval', data: { approved: true, by: 'ada' } });
    expect((await approve(request('POST', 'x', '', { id: 'train-a' }), f.client)).status).toBe(400);
    expect(
      (await decideRun(false)(request('POST', 'x', '{"by": 3}', { id: 'release-b' }), f.client)).status,
    ).toBe(400);
  });

  it('releases a version of this model only', async () => {
    const f = fakeClient();
    expect(
      (await startRelease(request('POST', 'releases', '{"version":"3"}'), f.client, config)).status,
    ).toBe(202);
    expect(
      (
        await startRelease(
          request('POST', 'releases', '{"version":"3","modelName":"other"}'),
          f.client,
          config,
        )
      ).status,
    ).toBe(400);
    expect(
      (await startRelease(request('POST', 'releases', '{"version":"3 4"}'), f.client, config)).status,
    ).toBe(400);
  });
});

describe('rollback API', () => {
  it('cancels a release in progress, which rolls itself back', async () => {
    const f = fakeClient([run('release-b', 'releaseSaga', 'Running')]);
    const res = await rollbackEndpoint(
      request('POST', 'endpoint/rollback', '{"reason":"bad forecasts"}'),
      f.client,
      config,
    );
    expect(json(res)).toMatchObject({ action: 'canceled-release', releases: ['release-b'] });
    expect(f.raised[0]).toMatchObject({ id: 'release-b', event: 'cancel' });
    expect(f.started).toHaveLength(0);
  });

  it('otherwise starts one rollback run per endpoint and minute; a reason is required', async () => {
    const f = fakeClient();
    const now = new Date('2026-03-02T08:00:30Z');
    const a = await rollbackEndpoint(
      request('POST', 'endpoint/rollback', '{"reason":"bad"}'),
      f.client,
      config,
      now,
    );
    const b = await rollbackEndpoint(
      request('POST', 'endpoint/rollback', '{"reason":"bad"}'),
      f.client,
      config,
      now,
    );
    expect(json(a).id).toBe('rollback-forecast-202603020800');
    expect(json(b).id).toBe(json(a).id);
    expect(f.started.map((s) => s.name)).toEqual(['rollbackSaga', 'rollbackSaga']);
    expect(
      (await rollbackEndpoint(request('POST', 'endpoint/rollback', '{}'), f.client, config, now)).status,
    ).toBe(400);
  });
});
