import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatIsoDay, parseIsoDay } from './dates.js';
import { ForecastRequestError, ModelFormatError } from './errors.js';
import { forecast, loadModel, modelFromJson, type ForecastModel } from './model.js';
import { seriesToObservations, sliceSeries } from './series.js';
import { smallSeries, trainSmall } from './testSupport.js';
import { writeArtifacts, type TrainedArtifacts } from './train.js';

let dir: string;
let artifacts: TrainedArtifacts;
let model: ForecastModel;
const series = smallSeries();

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'forecast-model-'));
  artifacts = trainSmall(series);
  await writeArtifacts(dir, artifacts);
  model = await loadModel(dir);
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('model directory', () => {
  it('holds every artifact, with a backtest.parquet of every backtest point', async () => {
    const metrics = JSON.parse(await readFile(join(dir, 'metrics.json'), 'utf8')) as {
      overall: { wape: number };
    };
    expect(metrics.overall.wape).toBeCloseTo(artifacts.metrics.overall.wape as number, 12);
    const stats = JSON.parse(await readFile(join(dir, 'reference-stats.json'), 'utf8')) as {
      features: unknown[];
    };
    expect(stats.features).toHaveLength(artifacts.model.featureNames.length);
    expect(await readFile(join(dir, 'forecast-vs-actual.svg'), 'utf8')).toMatch(
      /^<svg[\s\S]*polyline[\s\S]*<\/svg>$/,
    );
    const instance = await DuckDBInstance.create(':memory:');
    const connection = await instance.connect();
    const reader = await connection.runAndReadAll(
      `SELECT count(*)::INTEGER AS n, count(DISTINCT model)::INTEGER AS models FROM read_parquet('${join(dir, 'backtest.parquet')}')`,
    );
    expect(reader.getRowObjectsJS()[0]).toEqual({ n: artifacts.backtest.points.model.length, models: 3 });
    connection.closeSync();
    instance.closeSync();
  });

  it('fails to load a missing directory or another format version with ModelFormatError', async () => {
    await expect(loadModel(join(dir, 'missing'))).rejects.toThrow(ModelFormatError);
    await expect(loadModel(join(dir, 'missing'))).rejects.toThrow(/cannot read model file/);
    const other = join(dir, 'v2');
    await writeFile(join(dir, 'placeholder'), '');
    await import('node:fs/promises').then((fs) => fs.mkdir(other));
    await writeFile(join(other, 'model.json'), JSON.stringify({ ...artifacts.model, formatVersion: 2 }));
    await expect(loadModel(other)).rejects.toThrow(/format version 2; this code reads version 1 only/);
    expect(() => modelFromJson({ ...artifacts.model, keys: 'x' })).toThrow(ModelFormatError);
  });
});

describe('forecast', () => {
  const key = series[0]?.key as string;

  it('forecasts known keys from the day after the last data and lists unknown keys', () => {
    const lastDate = model.lastDate;
    expect(lastDate).toBe(formatIsoDay((series[0]?.startDay as number) + 159));
    const result = forecast(model, { keys: [key, 'no-such-key'], horizon: 7 });
    expect(result.unknownKeys).toEqual(['no-such-key']);
    expect(result.forecasts).toHaveLength(1);
    const points = result.forecasts[0]?.points ?? [];
    expect(points.map((p) => p.date)).toEqual(
      Array.from({ length: 7 }, (_, i) => formatIsoDay(parseIsoDay(lastDate) + 1 + i)),
    );
    for (const p of points) expect(p.purchases).toBeGreaterThanOrEqual(0);
    expect(new Set(points.map((p) => p.purchases.toFixed(6))).size).toBeGreaterThan(1);
  });

  it('gives the same forecast after a JSON round trip and for the same history supplied as a new key', () => {
    const fromDisk = forecast(model, { keys: [key], horizon: 7 });
    const inMemory = forecast(modelFromJson(JSON.parse(JSON.stringify(artifacts.model))), {
      keys: [key],
      horizon: 7,
    });
    expect(inMemory.forecasts).toEqual(fromDisk.forecasts);
    const s = series[0];
    if (!s) throw new Error('no series');
    const recent = sliceSeries(s, s.startDay + s.purchases.length - 28, s.startDay + s.purchases.length - 1);
    const supplied = forecast(model, {
      keys: ['new-key'],
      horizon: 7,
      history: { 'new-key': seriesToObservations(recent) },
    });
    expect(supplied.unknownKeys).toEqual([]);
    expect(supplied.forecasts[0]?.points).toEqual(fromDisk.forecasts[0]?.points);
  });

  it('rejects horizons beyond the trained one and starts too far ahead', () => {
    const lastDate = model.lastDate;
    expect(() => forecast(model, { keys: [key], horizon: 14 })).toThrow(ForecastRequestError);
    const farStart = formatIsoDay(parseIsoDay(lastDate) + 3);
    expect(() => forecast(model, { keys: [key], horizon: 7, startDate: farStart })).toThrow(/at most 7/);
    const nextDay = formatIsoDay(parseIsoDay(lastDate) + 1);
    expect(forecast(model, { keys: [key], horizon: 7, startDate: nextDay })).toEqual(
      forecast(model, { keys: [key], horizon: 7 }),
    );
  });

  it('serves baseline models through the same API', () => {
    const naive = modelFromJson({ ...artifacts.model, kind: 'seasonal-naive', gbdt: undefined });
    const s = series[0];
    if (!s) throw new Error('no series');
    const points = forecast(naive, { keys: [key], horizon: 7 }).forecasts[0]?.points ?? [];
    // Same weekday last week: day last+1+i repeats day last-6+i.
    const n = s.purchases.length;
    expect(points.map((p) => p.purchases)).toEqual(Array.from(s.purchases.subarray(n - 7)));
  });
});
