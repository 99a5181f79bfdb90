/** Accuracy figures over a set of (actual, predicted) points; null where undefined (no non-zero actuals). */
export interface PointMetrics {
  count: number;
  /** Mean absolute percentage error over days with non-zero actuals. */
  mape: number | null;
  smape: number | null;
  /** Sum of absolute errors over sum of actuals. */
  wape: number | null;
  rmse: number | null;
  /** Root mean squared percentage error over days with non-zero actuals. */
  rmspe: number | null;
}

/** Per-key MAPE and WAPE with their P50 and P90 across keys. */
export interface PerKeyMetrics {
  keys: { key: string; mape: number | null; wape: number | null }[];
  mape: { p50: number | null; p90: number | null };
  wape: { p50: number | null; p90: number | null };
}

/** Accumulates points and computes PointMetrics. */
export class MetricsAccumulator {
  private count = 0;
  private nonZero = 0;
  private absPercentSum = 0;
  private sqPercentSum = 0;
  private smapeSum = 0;
  private absErrorSum = 0;
  private actualSum = 0;
  private sqErrorSum = 0;

  /** Adds one point. */
  add(actual: number, predicted: number): void {
    const error = predicted - actual;
    this.count++;
    this.absErrorSum += Math.abs(error);
    this.sqErrorSum += error * error;
    this.actualSum += Math.abs(actual);
    const denominator = Math.abs(actual) + Math.abs(predicted);
    this.smapeSum += denominator === 0 ? 0 : (2 * Math.abs(error)) / denominator;
    if (actual !== 0) {
      this.nonZero++;
      const percent = error / actual;
      this.absPercentSum += Math.abs(percent);
      this.sqPercentSum += percent * percent;
    }
  }

  /** The metrics of every point added so far. */
  result(): PointMetrics {
    const n = this.count;
    return {
      count: n,
      mape: this.nonZero > 0 ? this.absPercentSum / this.nonZero : null,
      smape: n > 0 ? this.smapeSum / n : null,
      wape: this.actualSum > 0 ? this.absErrorSum / this.actualSum : null,
      rmse: n > 0 ? Math.sqrt(this.sqErrorSum / n) : null,
      rmspe: this.nonZero > 0 ? Math.sqrt(this.sqPercentSum / this.nonZero) : null,
    };
  }
}

/** Metrics of paired arrays of actuals and predictions. */
export function pointMetrics(actual: ArrayLike<number>, predicted: ArrayLike<number>): PointMetrics {
  if (actual.length !== predicted.length) throw new RangeError('actual and predicted differ in length');
  const acc = new MetricsAccumulator();
  for (let i = 0; i < actual.length; i++) acc.add(actual[i] as number, predicted[i] as number);
  return acc.result();
}

/** Linear-interpolated quantile (q in [0,1]) of the finite values; null when there are none. */
export function quantile(values: readonly (number | null)[], q: number): number | null {
  return quantileSorted(
    values.filter((v): v is number => v !== null && Number.isFinite(v)).sort((a, b) => a - b),
    q,
  );
}

/** Linear-interpolated quantile of values already sorted ascending; null when empty. */
export function quantileSorted(sorted: readonly number[], q: number): number | null {
  if (sorted.length === 0) return null;
  const position = (sorted.length - 1) * q;
  const lower = Math.floor(position);
  const upper = Math.ceil(position);
  const a = sorted[lower] as number;
  const b = sorted[upper] as number;
  return a + (b - a) * (position - lower);
}

/** Per-key metrics from points labelled by key. */
export function perKeyMetrics(
  keys: readonly string[],
  actual: ArrayLike<number>,
  predicted: ArrayLike<number>,
): PerKeyMetrics {
  const byKey = new Map<string, MetricsAccumulator>();
  keys.forEach((key, i) => {
    let acc = byKey.get(key);
    if (!acc) byKey.set(key, (acc = new MetricsAccumulator()));
    acc.add(actual[i] as number, predicted[i] as number);
  });
  const rows = [...byKey].map(([key, acc]) => {
    const m = acc.result();
    return { key, mape: m.mape, wape: m.wape };
  });
  const spread = (values: (number | null)[]) => ({ p50: quantile(values, 0.5), p90: quantile(values, 0.9) });
  return { keys: rows, mape: spread(rows.map((r) => r.mape)), wape: spread(rows.map((r) => r.wape)) };
}
