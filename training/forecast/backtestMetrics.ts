import { type BacktestPoints, type BacktestResult } from './backtest.js';
import { MetricsAccumulator, perKeyMetrics, type PerKeyMetrics, type PointMetrics } from './metrics.js';

/** Metrics of one model over a backtest: overall, per fold and per key. */
export interface ModelMetrics {
  overall: PointMetrics;
  perFold: { fold: number; originDate: string; metrics: PointMetrics }[];
  perKey: PerKeyMetrics;
}

function indicesOf(points: BacktestPoints, model: string): number[] {
  const picked: number[] = [];
  points.model.forEach((m, i) => {
    if (m === model) picked.push(i);
  });
  return picked;
}

/** Summarises one model's backtest points. */
export function modelMetrics(result: BacktestResult, model: string): ModelMetrics {
  const { points } = result;
  const picked = indicesOf(points, model);
  const overall = new MetricsAccumulator();
  const byFold = new Map<number, MetricsAccumulator>(
    result.folds.map((f) => [f.fold, new MetricsAccumulator()]),
  );
  for (const i of picked) {
    const actual = points.actual[i] as number;
    const predicted = points.predicted[i] as number;
    overall.add(actual, predicted);
    byFold.get(points.fold[i] as number)?.add(actual, predicted);
  }
  return {
    overall: overall.result(),
    perFold: result.folds.map((f) => ({
      fold: f.fold,
      originDate: f.originDate,
      metrics: (byFold.get(f.fold) as MetricsAccumulator).result(),
    })),
    perKey: perKeyMetrics(
      picked.map((i) => points.key[i] as string),
      picked.map((i) => points.actual[i] as number),
      picked.map((i) => points.predicted[i] as number),
    ),
  };
}
