import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { MlPlatformError, type ModelVersion } from '../aml/port.js';
import { DashboardAssets, pageHtml } from './assets.js';
import { DashboardError, type DashboardDeps } from './deps.js';
import { endpointView } from './endpoint.js';
import { listModelViews, modelDetail, readModelDirFile } from './models.js';

const root = path.resolve(import.meta.dirname, '..');

const metrics = {
  model: 'gbdt',
  keyType: 'category_code',
  horizon: 7,
  folds: [{ fold: 0 }, { fold: 1 }],
  overall: { count: 10, mape: 0.3, smape: 0.28, wape: 0.25, rmse: 4, rmspe: 0.4 },
  perFold: [{ fold: 0, originDate: '2019-05-01', metrics: { count: 5, mape: 0.3, wape: 0.2 } }],
  perKey: {
    keys: [
      { key: 'a', mape: 0.1, wape: 0.1 },
      { key: 'b', mape: 0.9, wape: 0.8 },
      { key: 'c', mape: null, wape: null },
    ],
    mape: { p50: 0.2, p90: 0.5 },
    wape: { p50: 0.2, p90: 0.6 },
  },
  baselines: {
    'seasonal-naive': { overall: { wape: 0.4 } },
    'moving-average': { overall: { wape: 0.45 } },
  },
  champion: null,
};

const model = (version: string, tags: Record<string, string>): ModelVersion => ({
  name: 'demand',
  version,
  modelType: 'custom_model',
  modelUri: `azureml://datastores/lake_curated/paths/jobs/run-${version}/model/`,
  tags,
  properties: {},
});

/** A platform over two registered versions (v2 without a model directory) and one endpoint. */
function deps(): DashboardDeps {
  const models = [
    model('2', { rejected: 'p95 breach', champion: '' }),
    model('1', { champion: 'true', rejected: '' }),
  ];
  const notFound = (what: string) => new MlPlatformError('NotFound', `${what} not found`);
  return {
    modelName: 'demand',
    endpointName: 'ep',
    datastores: { curated: 'lake_curated' },
    runsContainer: 'runs',
    appRoot: root,
    platform: {
      listModels: async () => models,
      getModel: async (_name, version) => {
        const found = models.find((m) => m.version === version);
        if (!found) throw notFound(`model ${version}`);
        return found;
      },
      getEndpoint: async () => ({
        name: 'ep',
        provisioningState: 'Succeeded',
        authMode: 'Key',
        traffic: { v1: 90, v2: 10 },
        mirrorTraffic: {},
        tags: {},
      }),
      listDeployments: async () => [
        {
          endpointName: 'ep',
          name: 'v2',
          provisioningState: 'Succeeded',
          model: { name: 'demand', version: '2' },
          instanceCount: 1,
          tags: {},
        },
        {
          endpointName: 'ep',
          name: 'v1',
          provisioningState: 'Succeeded',
          model: { name: 'demand', version: '1' },
          instanceCount: 1,
          tags: {},
        },
      ],
      getDeploymentMetrics: async (_ep, deployment, windowMs) => {
        if (deployment === 'v2') throw new MlPlatformError('Unavailable', 'no statistics yet');
        return { deployment, windowMs, requests: 40, p95LatencyMs: 12, errorRate: 0.025 };
      },
      dataLake: {
        download: async (container: string, file: string) => {
          if (container === 'curated' && file === 'jobs/run-1/model/metrics.json')
            return Buffer.from(JSON.stringify(metrics));
          throw new MlPlatformError('NotFound', `${container}/${file} not found`);
        },
      } as unknown as DashboardDeps['platform']['dataLake'],
    },
  };
}

describe('models view', () => {
  it('lists versions with tags (removed tags hidden), the rejection reason and backtest figures', async () => {
    const views = await listModelViews(deps());
    expect(views.map((v) => [v.version, v.champion, v.rejected, Object.keys(v.tags)])).toEqual([
      ['2', false, 'p95 breach', ['rejected']],
      ['1', true, undefined, ['champion']],
    ]);
    expect(views[1]?.metrics).toMatchObject({
      model: 'gbdt',
      folds: 2,
      p90KeyMape: 0.5,
      seasonalNaiveWape: 0.4,
    });
    expect(views[0]?.metrics).toBeUndefined();
    expect(views[0]?.metricsError).toMatch(/metrics.json is not in the model directory/);
    expect(views[1]?.files['forecast-vs-actual.svg']).toBe('models/1/files/forecast-vs-actual.svg');
  });

  it('details one version with its worst and best keys; 400 for a malformed version, 404 for an unknown one', async () => {
    const detail = await modelDetail(deps(), '1');
    expect(detail.worstKeys.map((k) => k.key)).toEqual(['c', 'b', 'a']);
    expect(detail.perFold).toHaveLength(1);
    await expect(modelDetail(deps(), '../x')).rejects.toMatchObject({ status: 400 });
    await expect(modelDetail(deps(), '7')).rejects.toMatchObject({
      status: 404,
      message: "No version '7' of model demand.",
    });
    await expect(readModelDirFile(deps(), 'https://elsewhere/model', 'model.json')).rejects.toBeInstanceOf(
      DashboardError,
    );
  });
});

describe('endpoint view', () => {
  it('shows the split, deployments by traffic and their recent statistics when the platform has them', async () => {
    const view = await endpointView(deps());
    expect(view.traffic).toEqual({ v1: 90, v2: 10 });
    expect(view.deployments.map((d) => [d.name, d.trafficPercent, d.recent?.requests])).toEqual([
      ['v1', 90, 40],
      ['v2', 10, undefined],
    ]);
  });

  it('says the endpoint does not exist before the first release', async () => {
    const d = deps();
    d.platform.getEndpoint = async () => {
      throw new MlPlatformError('NotFound', 'no endpoint');
    };
    expect(await endpointView(d)).toEqual({
      name: 'ep',
      exists: false,
      traffic: {},
      mirrorTraffic: {},
      deployments: [],
    });
  });
});

describe('dashboard assets', () => {
  it('serves its own modules and uPlot from node_modules, and nothing else', async () => {
    const assets = new DashboardAssets(root);
    expect((await assets.get('app.js')).contentType).toMatch(/javascript/);
    expect((await assets.get('vendor/uPlot.esm.js')).body).toMatch(
      /export \{ uPlot as default \}|export default/,
    );
    await expect(assets.get('../package.json')).rejects.toMatchObject({ status: 400 });
    await expect(assets.get('missing.js')).rejects.toMatchObject({ status: 404 });
    expect(await assets.modules()).toEqual(
      expect.arrayContaining(['app.js', 'api.js', 'charts.js', 'vendor/uPlot.esm.js']),
    );
  });

  it('carries the key on every module and stylesheet URL, escaped', () => {
    const html = pageHtml({ basePath: '/api/dashboard', code: 'k&"<', modules: ['app.js'], title: 'T <x>' });
    expect(html).toContain('"/api/dashboard/static/app.js": "/api/dashboard/static/app.js?code=k%26%22%3C"');
    expect(html).toContain('href="/api/dashboard/static/style.css?code=k%26%22%3C"');
    expect(html).toContain('<title>T &#60;x&#62;</title>');
    expect(html).toContain('"apiBase":"/api/dashboard/api/","appApiBase":"/api/"');
  });
});
