import { quantileSorted } from './metrics.js';

/** Distribution of one feature in the final training data, for drift detection (PSI, KS). */
export interface FeatureReference {
  name: string;
  count: number;
  missingShare: number;
  mean: number | null;
  std: number | null;
  min: number | null;
  max: number | null;
  /** P1, P5, P10, P25, P50, P75, P90, P95, P99. */
  quantiles: Record<string, number | null>;
  /** Decile bins: inner edges and the share of non-missing values in each of the edges.length + 1 bins. */
  histogram: { edges: number[]; shares: number[] };
}

/** reference-stats.json content. */
export interface ReferenceStats {
  formatVersion: 1;
  rows: number;
  features: FeatureReference[];
  target: FeatureReference;
}

const QUANTILES = [0.01, 0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99];
const SAMPLE_ROWS = 100_000;

/** Reference statistics of one column. */
export function describeColumn(name: string, values: ArrayLike<number>): FeatureReference {
  const finite: number[] = [];
  let missing = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i] as number;
    if (Number.isFinite(v)) finite.push(v);
    else missing++;
  }
  const n = finite.length;
  const mean = n ? finite.reduce((a, b) => a + b, 0) / n : null;
  const std = mean === null ? null : Math.sqrt(finite.reduce((a, b) => a + (b - mean) ** 2, 0) / n);
  const sorted = finite.sort((a, b) => a - b);
  const edges = [
    ...new Set([0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9].map((q) => quantileSorted(sorted, q) as number)),
  ].filter((e) => n > 0 && Number.isFinite(e));
  const counts = new Array<number>(edges.length + 1).fill(0);
  for (const v of sorted) {
    let b = 0;
    while (b < edges.length && v > (edges[b] as number)) b++;
    counts[b] = (counts[b] as number) + 1;
  }
  return {
    name,
    count: values.length,
    missingShare: values.length ? missing / values.length : 0,
    mean,
    std,
    min: n ? (sorted[0] as number) : null,
    max: n ? (sorted[n - 1] as number) : null,
    quantiles: Object.fromEntries(
      QUANTILES.map((q) => [`p${Math.round(q * 100)}`, quantileSorted(sorted, q)]),
    ),
    histogram: { edges, shares: counts.map((c) => (n ? c / n : 0)) },
  };
}

/** Reference statistics of a row-major feature matrix (sampled evenly above SAMPLE_ROWS rows) and its target. */
export function referenceStats(
  featureNames: readonly string[],
  x: Float32Array,
  rows: number,
  target: ArrayLike<number>,
): ReferenceStats {
  const cols = featureNames.length;
  const step = Math.max(1, Math.floor(rows / SAMPLE_ROWS));
  const sampled = Math.ceil(rows / step);
  const column = new Float64Array(sampled);
  const features = featureNames.map((name, f) => {
    for (let i = 0, r = 0; r < rows; r += step, i++) column[i] = x[r * cols + f] as number;
    return describeColumn(name, column);
  });
  return { formatVersion: 1, rows, features, target: describeColumn('purchases', target) };
}
