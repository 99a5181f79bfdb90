import { type SpecialDays } from './calendar.js';
import { formatIsoDay, type EpochDay } from './dates.js';
import { TrainingDataError } from './errors.js';
import { HISTORY_DAYS } from './features.js';
import { compileGbdt, fitGbdt, type GbdtFit, type GbdtParams } from './models/gbdt.js';
import { makePredictor, type Predictor } from './predictor.js';
import { lastDay, type KeySeries } from './series.js';
import { selectByTargetDay, type TrainingRows } from './trainingRows.js';

/** A model to fit and evaluate: the GBDT with its parameters, or a baseline. */
export type ModelSpec =
  | { name: string; kind: 'gbdt'; params: GbdtParams }
  | { name: string; kind: 'seasonal-naive' }
  | { name: string; kind: 'moving-average'; days: number };

/** Progress of a long training run. */
export interface TrainingProgress {
  phase: 'read' | 'features' | 'backtest' | 'final' | 'artifacts';
  fold?: number;
  folds?: number;
  model?: string;
  tree?: number;
  maxTrees?: number;
  rows?: number;
}

/** Backtest settings. */
export interface BacktestOptions {
  horizon: number;
  /** Rolling origins (≥ 3). */
  folds: number;
  /** Most recent days of each fold's training window held out for early stopping. */
  validationDays: number;
  specialDays: SpecialDays;
  onProgress?: (progress: TrainingProgress) => void;
}

/** A fitted model: its predictor and, for the GBDT, the fit record. */
export interface FittedModel {
  predictor: Predictor;
  gbdt?: GbdtFit;
}

/** One rolling origin: forecasts are made at originDay for originDay+1 … originDay+horizon. */
export interface FoldPlan {
  fold: number;
  originDay: EpochDay;
}

/** Backtest predictions in columns, one entry per (model, fold, key, day). */
export interface BacktestPoints {
  model: string[];
  fold: number[];
  key: string[];
  originDay: number[];
  day: number[];
  horizonDay: number[];
  actual: number[];
  predicted: number[];
}

/** What a backtest produces. */
export interface BacktestResult {
  folds: (FoldPlan & { originDate: string; firstDate: string; lastDate: string })[];
  points: BacktestPoints;
  /** GBDT fit records per model name and fold. */
  fits: Record<string, { fold: number; trees: number; validWape: number | null }[]>;
}

/** Fits a model with data whose target days are ≤ cutoffDay; the GBDT holds out the last validationDays. */
export function fitModel(
  spec: ModelSpec,
  rows: TrainingRows,
  cutoffDay: EpochDay,
  validationDays: number,
  specialDays: SpecialDays,
  onTree?: (tree: number) => void,
): FittedModel {
  if (spec.kind === 'seasonal-naive') return { predictor: makePredictor({ kind: spec.kind, specialDays }) };
  if (spec.kind === 'moving-average') {
    return { predictor: makePredictor({ kind: spec.kind, specialDays, movingAverageDays: spec.days }) };
  }
  const train = selectByTargetDay(rows, Number.MIN_SAFE_INTEGER, cutoffDay - validationDays);
  const valid = selectByTargetDay(rows, cutoffDay - validationDays + 1, cutoffDay);
  if (train.rows === 0)
    throw new TrainingDataError('TOO_FEW_DAYS', `no training rows before ${formatIsoDay(cutoffDay)}`);
  const fit = fitGbdt(train, spec.params, valid.rows > 0 ? valid : undefined, (it) => onTree?.(it.tree));
  return { predictor: makePredictor({ kind: 'gbdt', specialDays, gbdt: compileGbdt(fit.model) }), gbdt: fit };
}

/** Rolling origins ending at the last day, one horizon apart. */
export function planFolds(
  series: readonly KeySeries[],
  horizon: number,
  folds: number,
  validationDays: number,
): FoldPlan[] {
  if (series.length === 0) throw new TrainingDataError('NO_SERIES', 'no series to train on');
  if (folds < 3) throw new RangeError('a backtest needs at least 3 folds');
  const end = Math.max(...series.map(lastDay));
  const start = Math.min(...series.map((s) => s.startDay));
  const plan = Array.from({ length: folds }, (_, f) => ({ fold: f, originDay: end - (folds - f) * horizon }));
  const firstOrigin = (plan[0] as FoldPlan).originDay;
  // The first fold still needs full feature windows plus four weeks of training targets.
  const needed = HISTORY_DAYS + 28 + validationDays;
  if (firstOrigin - start + 1 < needed) {
    throw new TrainingDataError(
      'TOO_FEW_DAYS',
      `${end - start + 1} days cannot hold ${folds} folds of ${horizon} days plus ${needed} days of training history`,
    );
  }
  return plan;
}

/** Rolling-origin backtest of several models on the same folds and keys. */
export function runBacktest(
  series: readonly KeySeries[],
  rows: TrainingRows,
  specs: readonly ModelSpec[],
  options: BacktestOptions,
): BacktestResult {
  const { horizon, folds, validationDays, specialDays, onProgress } = options;
  const plan = planFolds(series, horizon, folds, validationDays);
  const points: BacktestPoints = {
    model: [],
    fold: [],
    key: [],
    originDay: [],
    day: [],
    horizonDay: [],
    actual: [],
    predicted: [],
  };
  const fits: BacktestResult['fits'] = {};
  for (const { fold, originDay } of plan) {
    for (const spec of specs) {
      const maxTrees = spec.kind === 'gbdt' ? spec.params.maxTrees : 0;
      onProgress?.({ phase: 'backtest', fold, folds, model: spec.name, tree: 0, maxTrees });
      const fitted = fitModel(spec, rows, originDay, validationDays, specialDays, (tree) =>
        onProgress?.({ phase: 'backtest', fold, folds, model: spec.name, tree, maxTrees }),
      );
      if (fitted.gbdt) {
        (fits[spec.name] ??= []).push({
          fold,
          trees: fitted.gbdt.bestIteration,
          validWape: fitted.gbdt.bestValidError,
        });
      }
      for (const s of series) {
        const originIndex = originDay - s.startDay;
        if (originIndex < HISTORY_DAYS - 1 || originIndex + horizon >= s.purchases.length) continue;
        for (let h = 1; h <= horizon; h++) {
          points.model.push(spec.name);
          points.fold.push(fold);
          points.key.push(s.key);
          points.originDay.push(originDay);
          points.day.push(originDay + h);
          points.horizonDay.push(h);
          points.actual.push(s.purchases[originIndex + h] as number);
          points.predicted.push(fitted.predictor(s, originIndex, h));
        }
      }
    }
  }
  return {
    folds: plan.map((p) => ({
      ...p,
      originDate: formatIsoDay(p.originDay),
      firstDate: formatIsoDay(p.originDay + 1),
      lastDate: formatIsoDay(p.originDay + horizon),
    })),
    points,
    fits,
  };
}
