import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  runBacktest,
  fitModel,
  type BacktestResult,
  type ModelSpec,
  type TrainingProgress,
} from './backtest.js';
import { modelMetrics, type ModelMetrics } from './backtestMetrics.js';
import { writeBacktestParquet } from './backtestParquet.js';
import { SpecialDays } from './calendar.js';
import { formatIsoDay } from './dates.js';
import { TrainingDataError } from './errors.js';
import { FEATURE_NAMES, FEATURE_SET_VERSION, HISTORY_DAYS } from './features.js';
import { loadModel, type Horizon } from './model.js';
import { MODEL_FORMAT_VERSION, type KeyHistory, type ModelFile } from './modelFile.js';
import { DEFAULT_GBDT_PARAMS, type GbdtParams } from './models/gbdt.js';
import { renderForecastPlot, type PlotPanel } from './plotSvg.js';
import { DEFAULT_MOVING_AVERAGE_DAYS, type ModelKind } from './predictor.js';
import { readSeries, type KeyType } from './readSeries.js';
import { referenceStats, type ReferenceStats } from './referenceStats.js';
import { lastDay, sliceSeries, seriesToObservations, type KeySeries } from './series.js';
import { buildTrainingRows, countTrainingRows } from './trainingRows.js';

/** Training settings beyond the data location. */
export interface TrainSettings {
  keyType: KeyType;
  horizon: Horizon;
  seed?: number;
  /** Model family to ship; the GBDT by default. */
  model?: ModelKind;
  gbdt?: Partial<GbdtParams>;
  /** Rolling-origin folds, ≥ 3 (default 4). */
  folds?: number;
  /** Days held out of each training window for early stopping (default max(14, horizon)). */
  validationDays?: number;
  /** Above this many rows, origins are thinned evenly (default 200 000). */
  maxTrainRows?: number;
  /** Extra special days, `YYYY-MM-DD`. */
  extraSpecialDays?: string[];
  /** Keys drawn in the forecast-vs-actual plot (default 6). */
  plotKeys?: number;
  onProgress?: (progress: TrainingProgress) => void;
}

/** trainModel's input: read series from dataDir, write the model directory to outDir. */
export interface TrainOptions extends TrainSettings {
  dataDir: string;
  outDir: string;
  /** Model directory of the current champion, re-fitted on the same backtest for the gate. */
  champion?: string;
}

/** metrics.json content. */
export interface MetricsFile extends ModelMetrics {
  formatVersion: 1;
  keyType: string;
  horizon: Horizon;
  model: ModelKind;
  folds: BacktestResult['folds'];
  baselines: { 'seasonal-naive': ModelMetrics; 'moving-average': ModelMetrics };
  /** The champion re-fitted on this backtest, when one was given. */
  champion: (ModelMetrics & { source: string }) | null;
  training: {
    keys: number;
    days: number;
    rows: number;
    originStride: number;
    trees: number | null;
    validationWape: number | null;
    backtestFits: BacktestResult['fits'];
  };
}

/** Everything a training run produces, before it is written. */
export interface TrainedArtifacts {
  model: ModelFile;
  metrics: MetricsFile;
  referenceStats: ReferenceStats;
  backtest: BacktestResult;
  plotSvg: string;
}

/** What trainModel returns. */
export interface TrainResult {
  outDir: string;
  files: string[];
  metrics: MetricsFile;
}

/** Champion to re-fit, as read from its model.json. */
export interface ChampionInput {
  source: string;
  file: ModelFile;
}

function championSpec(file: ModelFile): ModelSpec {
  if (file.kind === 'gbdt') {
    if (!file.gbdtParams)
      throw new TrainingDataError('BAD_CHAMPION', 'champion model.json has no gbdtParams');
    return { name: 'champion', kind: 'gbdt', params: file.gbdtParams };
  }
  if (file.kind === 'moving-average') {
    return {
      name: 'champion',
      kind: 'moving-average',
      days: file.movingAverageDays ?? DEFAULT_MOVING_AVERAGE_DAYS,
    };
  }
  return { name: 'champion', kind: 'seasonal-naive' };
}

function candidateSpec(kind: ModelKind, params: GbdtParams): ModelSpec {
  if (kind === 'gbdt') return { name: 'candidate', kind, params };
  if (kind === 'moving-average') return { name: 'candidate', kind, days: DEFAULT_MOVING_AVERAGE_DAYS };
  return { name: 'candidate', kind };
}

function keyHistory(series: KeySeries): KeyHistory {
  const recent = sliceSeries(series, lastDay(series) - HISTORY_DAYS + 1, lastDay(series));
  const observations = seriesToObservations(recent);
  return {
    startDate: formatIsoDay(recent.startDay),
    purchases: observations.map((o) => o.purchases),
    views: observations.map((o) => o.views ?? 0),
    carts: observations.map((o) => o.carts ?? 0),
    priceMean: observations.map((o) => o.priceMean ?? null),
  };
}

/** Trains, backtests and evaluates on in-memory series; no I/O. */
export function trainOnSeries(
  series: KeySeries[],
  settings: TrainSettings,
  champion?: ChampionInput,
): TrainedArtifacts {
  if (series.length === 0) throw new TrainingDataError('NO_SERIES', 'no series to train on');
  const { horizon, keyType, onProgress } = settings;
  const kind = settings.model ?? 'gbdt';
  const folds = settings.folds ?? 4;
  const validationDays = settings.validationDays ?? Math.max(14, horizon);
  const params: GbdtParams = {
    ...DEFAULT_GBDT_PARAMS,
    ...settings.gbdt,
    seed: settings.seed ?? settings.gbdt?.seed ?? 1,
  };
  const calendar = { extraDays: settings.extraSpecialDays ?? [] };
  const specialDays = new SpecialDays(calendar);
  const maxRows = settings.maxTrainRows ?? 200_000;
  const fullRows = countTrainingRows(series, { horizon, originStride: 1 });
  const originStride = Math.max(1, Math.ceil(fullRows / maxRows));
  onProgress?.({ phase: 'features', rows: Math.ceil(fullRows / originStride) });
  const rows = buildTrainingRows(series, { horizon, originStride }, specialDays);

  const specs: ModelSpec[] = [
    candidateSpec(kind, params),
    { name: 'seasonal-naive', kind: 'seasonal-naive' },
    { name: 'moving-average', kind: 'moving-average', days: DEFAULT_MOVING_AVERAGE_DAYS },
  ];
  if (champion) specs.push(championSpec(champion.file));
  const backtest = runBacktest(series, rows, specs, {
    horizon,
    folds,
    validationDays,
    specialDays,
    ...(onProgress ? { onProgress } : {}),
  });

  const end = Math.max(...series.map(lastDay));
  const final = fitModel(specs[0] as ModelSpec, rows, end, validationDays, specialDays, (tree) =>
    onProgress?.({ phase: 'final', tree, maxTrees: params.maxTrees }),
  );
  onProgress?.({ phase: 'artifacts' });
  const model: ModelFile = {
    formatVersion: MODEL_FORMAT_VERSION,
    kind,
    keyType,
    horizon,
    featureSetVersion: FEATURE_SET_VERSION,
    featureNames: [...FEATURE_NAMES],
    historyDays: HISTORY_DAYS,
    calendar,
    lastDate: formatIsoDay(end),
    keys: series.map((s) => s.key),
    history: Object.fromEntries(series.map((s) => [s.key, keyHistory(s)])),
    ...(kind === 'moving-average' ? { movingAverageDays: DEFAULT_MOVING_AVERAGE_DAYS } : {}),
    ...(kind === 'gbdt' ? { gbdtParams: params } : {}),
    ...(final.gbdt ? { gbdt: final.gbdt.model } : {}),
  };
  const candidate = modelMetrics(backtest, 'candidate');
  const metrics: MetricsFile = {
    formatVersion: 1,
    keyType,
    horizon,
    model: kind,
    folds: backtest.folds,
    ...candidate,
    baselines: {
      'seasonal-naive': modelMetrics(backtest, 'seasonal-naive'),
      'moving-average': modelMetrics(backtest, 'moving-average'),
    },
    champion: champion ? { source: champion.source, ...modelMetrics(backtest, 'champion') } : null,
    training: {
      keys: series.length,
      days: end - Math.min(...series.map((s) => s.startDay)) + 1,
      rows: rows.rows,
      originStride,
      trees: final.gbdt ? final.gbdt.bestIteration : null,
      validationWape: final.gbdt ? final.gbdt.bestValidError : null,
      backtestFits: backtest.fits,
    },
  };
  const actual = Float64Array.from(rows.y, (y, r) => y * (rows.scale[r] as number));
  return {
    model,
    metrics,
    referenceStats: referenceStats(FEATURE_NAMES, rows.x, rows.rows, actual),
    backtest,
    plotSvg: forecastPlot(backtest, keyType, settings.plotKeys ?? 6),
  };
}

/** The keys with the most purchases in the backtest, actual vs candidate vs seasonal naive. */
function forecastPlot(backtest: BacktestResult, keyType: string, topKeys: number): string {
  const { points } = backtest;
  const totals = new Map<string, number>();
  points.model.forEach((m, i) => {
    if (m === 'candidate')
      totals.set(
        points.key[i] as string,
        (totals.get(points.key[i] as string) ?? 0) + (points.actual[i] as number),
      );
  });
  const top = [...totals]
    .sort((a, b) => b[1] - a[1])
    .slice(0, topKeys)
    .map(([key]) => key);
  const panels: PlotPanel[] = top.map((key) => {
    const line = (model: string, value: 'actual' | 'predicted'): { day: number; value: number }[] =>
      points.model.flatMap((m, i) =>
        m === model && points.key[i] === key
          ? [{ day: points.day[i] as number, value: points[value][i] as number }]
          : [],
      );
    return {
      title: key,
      lines: [
        { label: 'actual', color: '#222', points: line('candidate', 'actual') },
        { label: 'candidate', color: '#1f77b4', points: line('candidate', 'predicted') },
        {
          label: 'seasonal naive',
          color: '#ff7f0e',
          dashed: true,
          points: line('seasonal-naive', 'predicted'),
        },
      ],
    };
  });
  return renderForecastPlot(`Backtest forecast vs actual, top ${top.length} ${keyType} keys`, panels);
}

/** Reads the ETL series, trains, backtests and writes the model directory. */
export async function trainModel(options: TrainOptions): Promise<TrainResult> {
  options.onProgress?.({ phase: 'read' });
  const series = await readSeries(options.dataDir, options.keyType);
  let champion: ChampionInput | undefined;
  if (options.champion) {
    try {
      champion = { source: options.champion, file: (await loadModel(options.champion)).file };
    } catch (error) {
      throw new TrainingDataError(
        'BAD_CHAMPION',
        `champion ${options.champion}: ${(error as Error).message}`,
      );
    }
  }
  const artifacts = trainOnSeries(series, options, champion);
  return writeArtifacts(options.outDir, artifacts);
}

/** Writes a model directory. */
export async function writeArtifacts(outDir: string, artifacts: TrainedArtifacts): Promise<TrainResult> {
  await mkdir(outDir, { recursive: true });
  const files = {
    'model.json': JSON.stringify(artifacts.model),
    'metrics.json': JSON.stringify(artifacts.metrics, null, 2),
    'reference-stats.json': JSON.stringify(artifacts.referenceStats, null, 2),
    'forecast-vs-actual.svg': artifacts.plotSvg,
  };
  for (const [name, text] of Object.entries(files)) await writeFile(join(outDir, name), text);
  await writeBacktestParquet(artifacts.backtest.points, join(outDir, 'backtest.parquet'));
  return { outDir, files: [...Object.keys(files), 'backtest.parquet'], metrics: artifacts.metrics };
}
