/**
 * The models page: every registered version with its tags (champion, rejected and why, retired), the
 * backtest metrics its training job wrote to metrics.json, and the files of its model directory.
 */
import { isMlPlatformError, type ModelVersion } from '../aml/port.js';
import { toBlobLocation } from '../activities/deps.js';
import type { PointMetrics } from '../training/forecast/metrics.js';
import type { MetricsFile } from '../training/forecast/train.js';
import { badRequest, notFound, type DashboardDeps } from './deps.js';

/** Files of a model directory the dashboard serves, with their content types. */
export const modelFiles = {
  'metrics.json': 'application/json',
  'forecast-vs-actual.svg': 'image/svg+xml',
  'model.json': 'application/json',
  'reference-stats.json': 'application/json',
} as const;
export type ModelFileName = keyof typeof modelFiles;

/** The backtest figures the models table shows. */
export interface BacktestSummary {
  model: string;
  keyType: string;
  horizon: number;
  folds: number;
  overall: PointMetrics;
  p90KeyMape: number | null;
  seasonalNaiveWape: number | null;
  movingAverageWape: number | null;
  /** The champion of the time, re-scored on this backtest. */
  championWape: number | null;
}

/** One model version as the models page shows it. */
export interface ModelSummary {
  name: string;
  version: string;
  createdAt?: string;
  tags: Record<string, string>;
  champion: boolean;
  rejected?: string;
  retired?: string;
  runId?: string;
  modelUri: string;
  metrics?: BacktestSummary;
  /** Why metrics are missing (model directory unreadable). */
  metricsError?: string;
  files: Record<string, string>;
}

/** A model version with its full backtest: per fold and the best and worst keys. */
export interface ModelDetail extends ModelSummary {
  perFold: MetricsFile['perFold'];
  worstKeys: { key: string; mape: number | null; wape: number | null }[];
  bestKeys: { key: string; mape: number | null; wape: number | null }[];
}

const versionPattern = /^[A-Za-z0-9._-]{1,64}$/;

/** Checks a version path segment; a 400 that names it when malformed. */
export function checkVersion(version: string): string {
  if (!versionPattern.test(version)) throw badRequest(`'${version}' is not a valid model version.`);
  return version;
}

/** Checks a file name against the files a model directory has. */
export function checkModelFile(name: string): ModelFileName {
  if (!(name in modelFiles)) {
    throw badRequest(`'${name}' is not a model file; use one of ${Object.keys(modelFiles).join(', ')}.`);
  }
  return name as ModelFileName;
}

/** Reads one file of a model directory (`azureml://datastores/...` URI); 404 when absent. */
export async function readModelDirFile(
  deps: DashboardDeps,
  modelUri: string,
  file: ModelFileName,
): Promise<Buffer> {
  let location: { container: string; path: string };
  try {
    location = toBlobLocation(deps, modelUri);
  } catch (err) {
    throw notFound(`The model directory ${modelUri} is not in the data lake: ${(err as Error).message}`);
  }
  try {
    return await deps.platform.dataLake.download(location.container, `${location.path}/${file}`);
  } catch (err) {
    if (isMlPlatformError(err, 'NotFound') || (err as { statusCode?: number }).statusCode === 404) {
      throw notFound(`${file} is not in the model directory ${modelUri}.`);
    }
    throw err;
  }
}

function summarizeMetrics(metrics: MetricsFile): BacktestSummary {
  return {
    model: metrics.model,
    keyType: metrics.keyType,
    horizon: metrics.horizon,
    folds: metrics.folds.length,
    overall: metrics.overall,
    p90KeyMape: metrics.perKey.mape.p90,
    seasonalNaiveWape: metrics.baselines['seasonal-naive'].overall.wape,
    movingAverageWape: metrics.baselines['moving-average'].overall.wape,
    championWape: metrics.champion?.overall.wape ?? null,
  };
}

async function readMetrics(deps: DashboardDeps, model: ModelVersion): Promise<MetricsFile> {
  return JSON.parse(
    (await readModelDirFile(deps, model.modelUri, 'metrics.json')).toString('utf8'),
  ) as MetricsFile;
}

function summary(model: ModelVersion): ModelSummary {
  const base = `models/${encodeURIComponent(model.version)}/files`;
  // Registries merge tags, so the sagas write a removed tag as '' (activities/tagModel.ts): it is not there.
  const tags = Object.fromEntries(Object.entries(model.tags).filter(([, value]) => value !== ''));
  const view: ModelSummary = {
    name: model.name,
    version: model.version,
    tags,
    champion: tags.champion === 'true',
    modelUri: model.modelUri,
    files: Object.fromEntries(Object.keys(modelFiles).map((f) => [f, `${base}/${f}`])),
  };
  if (model.createdAt) view.createdAt = model.createdAt;
  if (tags.rejected !== undefined) view.rejected = tags.rejected;
  if (tags.retired !== undefined) view.retired = tags.retired;
  if (tags.runId) view.runId = tags.runId;
  return view;
}

/** Every version of the app's model, newest first, with backtest metrics (at most `top`). */
export async function listModelViews(deps: DashboardDeps, top = 50): Promise<ModelSummary[]> {
  const versions = (await deps.platform.listModels(deps.modelName)).slice(0, top);
  return Promise.all(
    versions.map(async (model) => {
      const view = summary(model);
      try {
        view.metrics = summarizeMetrics(await readMetrics(deps, model));
      } catch (err) {
        view.metricsError = (err as Error).message;
      }
      return view;
    }),
  );
}

/** One version with its full backtest; 404 when it is not registered. */
export async function modelDetail(deps: DashboardDeps, version: string): Promise<ModelDetail> {
  const model = await getModelVersion(deps, version);
  const view = summary(model);
  let metrics: MetricsFile | undefined;
  try {
    metrics = await readMetrics(deps, model);
    view.metrics = summarizeMetrics(metrics);
  } catch (err) {
    view.metricsError = (err as Error).message;
  }
  const keys = [...(metrics?.perKey.keys ?? [])].sort((a, b) => (b.wape ?? Infinity) - (a.wape ?? Infinity));
  return {
    ...view,
    perFold: metrics?.perFold ?? [],
    worstKeys: keys.slice(0, 5),
    bestKeys: keys.slice(-5).reverse(),
  };
}

/** A registered version of the app's model; 404 when absent. */
export async function getModelVersion(deps: DashboardDeps, version: string): Promise<ModelVersion> {
  try {
    return await deps.platform.getModel(deps.modelName, checkVersion(version));
  } catch (err) {
    if (isMlPlatformError(err, 'NotFound'))
      throw notFound(`No version '${version}' of model ${deps.modelName}.`);
    throw err;
  }
}
