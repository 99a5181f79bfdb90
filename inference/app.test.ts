import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixtureKeys, writeFixtureModel, writeTrainedModel } from '../test/inference/model-fixture.js';
import { forecast, loadModel } from '../training/forecast/model.js';
import { buildInferenceApp } from './app.js';
import { ForecastModelServer } from './model-server.js';

let dir: string;
let app: FastifyInstance;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'inference-app-'));
  await writeFixtureModel(join(dir, 'model'));
  const server = new ForecastModelServer(join(dir, 'model'), 'azureml:demand-forecast:3');
  await server.load();
  app = buildInferenceApp({ server, maxBatchKeys: 5 });
});

afterAll(async () => {
  await app.close();
  await rm(dir, { recursive: true, force: true });
});

const score = (payload: unknown, contentType = 'application/json') =>
  app.inject({
    method: 'POST',
    url: '/score',
    headers: { 'content-type': contentType },
    payload: typeof payload === 'string' ? payload : JSON.stringify(payload),
  });

describe('inference app', () => {
  it('answers liveness and readiness with the model identity', async () => {
    expect((await app.inject({ method: 'GET', url: '/health' })).statusCode).toBe(200);
    const ready = await app.inject({ method: 'GET', url: '/ready' });
    expect(ready.statusCode).toBe(200);
    expect(ready.json().model).toMatchObject({
      name: 'demand-forecast',
      version: '3',
      lastDate: '2019-11-30',
    });
  });

  it('scores exactly what the training code predicts for the same model and inputs', async () => {
    const model = await loadModel(join(dir, 'model'));
    for (const request of [
      { keys: [...fixtureKeys], horizon: 7 as const },
      { keys: [fixtureKeys[1]], horizon: 28 as const },
      { keys: [fixtureKeys[0]], horizon: 14 as const, start_date: '2019-11-20' },
    ]) {
      const response = await score(request);
      expect(response.statusCode).toBe(200);
      const expected = forecast(model, {
        keys: request.keys,
        horizon: request.horizon,
        ...('start_date' in request ? { startDate: request.start_date } : {}),
      });
      expect(response.json().forecasts).toEqual(expected.forecasts);
      expect(response.json().forecasts[0].points).toHaveLength(request.horizon);
    }
  });

  it('scores a trained GBDT model exactly as the training code predicts', async () => {
    const trained = await writeTrainedModel(join(dir, 'gbdt'));
    const server = new ForecastModelServer(trained.dir);
    await server.load();
    const gbdtApp = buildInferenceApp({ server });
    const model = await loadModel(trained.dir);
    expect(model.file.kind).toBe('gbdt');
    const keys = trained.keys.slice(0, 3);
    const response = await gbdtApp.inject({ method: 'POST', url: '/score', payload: { keys, horizon: 7 } });
    expect(response.statusCode).toBe(200);
    expect(response.json().forecasts).toEqual(forecast(model, { keys, horizon: 7 }).forecasts);
    expect(response.json().model.kind).toBe('gbdt');
    const tooLong = await gbdtApp.inject({ method: 'POST', url: '/score', payload: { keys, horizon: 28 } });
    expect(tooLong.statusCode).toBe(400);
    expect(tooLong.json().error.message).toMatch(/^horizon: model was trained for 7 days/);
    await gbdtApp.close();
  });

  it('defaults the start to the day after the model data and accepts the input_data wrapper', async () => {
    const response = await score({ input_data: { keys: [fixtureKeys[0]], horizon: 7 } });
    expect(response.statusCode).toBe(200);
    expect(response.json().forecasts[0].points[0].date).toBe('2019-12-01');
    expect(response.json().model).toMatchObject({ name: 'demand-forecast', version: '3' });
  });

  it('reports unknown keys per key and forecasts keys sent with their own history', async () => {
    const history = Array.from({ length: 14 }, (_, d) => ({
      date: `2019-11-${String(17 + d).padStart(2, '0')}`,
      purchases: d % 3,
    }));
    const response = await score({
      keys: [fixtureKeys[0], 'no.such.key', 'brand.new'],
      horizon: 7,
      history: { 'brand.new': history },
    });
    expect(response.statusCode).toBe(200);
    const body = response.json();
    expect(body.forecasts.map((f: { key: string }) => f.key)).toEqual([fixtureKeys[0], 'brand.new']);
    expect(body.unknown_keys).toEqual([
      { key: 'no.such.key', reason: expect.stringContaining('no history') },
    ]);
  });

  it.each([
    ['wrong types', { keys: 'electronics', horizon: 7 }, 'keys'],
    ['unknown horizon', { keys: ['a'], horizon: 30 }, 'horizon'],
    ['empty keys', { keys: [], horizon: 7 }, 'keys'],
    ['oversized batch', { keys: ['a', 'b', 'c', 'd', 'e', 'f'], horizon: 7 }, 'keys'],
    ['non-JSON', '{"keys": [', 'body'],
    ['empty body', '', 'body'],
    ['start before history', { keys: [fixtureKeys[0]], horizon: 7, start_date: '2001-01-01' }, 'start_date'],
  ])('answers %s with 400 naming the field, and stays up', async (_name, payload, field) => {
    const response = await score(payload);
    expect(response.statusCode).toBe(400);
    expect(response.json().error.code).toBe('INVALID_INPUT');
    expect(response.json().error.message.startsWith(`${field}`)).toBe(true);
    expect((await score({ keys: [fixtureKeys[0]], horizon: 7 })).statusCode).toBe(200);
  });

  it('parses JSON sent with another content type', async () => {
    expect((await score({ keys: [fixtureKeys[0]], horizon: 7 }, 'text/plain')).statusCode).toBe(200);
  });

  it('echoes the caller request id', async () => {
    const response = await app.inject({
      method: 'POST',
      url: '/score',
      headers: { 'content-type': 'application/json', 'x-request-id': 'req-42' },
      payload: JSON.stringify({ keys: [fixtureKeys[0]], horizon: 7 }),
    });
    expect(response.headers['x-request-id']).toBe('req-42');
  });
});

describe('fault injection and readiness', () => {
  it('fails scoring at the configured rate but never the probes', async () => {
    const server = new ForecastModelServer(join(dir, 'model'));
    await server.load();
    let draw = 0;
    const faulty = buildInferenceApp({
      server,
      faults: { errorRate: 0.5, addedLatencyMs: 0 },
      random: () => (draw++ % 2 === 0 ? 0.1 : 0.9),
    });
    const statuses: number[] = [];
    for (let i = 0; i < 4; i += 1) {
      const response = await faulty.inject({
        method: 'POST',
        url: '/score',
        payload: { keys: [fixtureKeys[0]], horizon: 7 },
      });
      statuses.push(response.statusCode);
      if (response.statusCode === 500) expect(response.json().error.code).toBe('INJECTED_FAULT');
    }
    expect(statuses).toEqual([500, 200, 500, 200]);
    expect((await faulty.inject({ method: 'GET', url: '/ready' })).statusCode).toBe(200);
    await faulty.close();
  });

  it('is not ready before the model loads and while draining', async () => {
    const server = new ForecastModelServer(join(dir, 'model'));
    const idle = buildInferenceApp({ server });
    expect((await idle.inject({ method: 'GET', url: '/ready' })).statusCode).toBe(503);
    const early = await idle.inject({ method: 'POST', url: '/score', payload: { keys: ['a'], horizon: 7 } });
    expect(early.statusCode).toBe(503);
    await server.load();
    expect((await idle.inject({ method: 'GET', url: '/ready' })).statusCode).toBe(200);
    server.beginDrain();
    expect((await idle.inject({ method: 'GET', url: '/ready' })).statusCode).toBe(503);
    await idle.close();
  });
});
