import { type SpecialDays } from './calendar.js';
import { type EpochDay } from './dates.js';
import { FEATURE_COUNT, HISTORY_DAYS, fillFeatures } from './features.js';
import { type Dataset } from './models/gbdt.js';
import { seriesLength, type KeySeries } from './series.js';

/**
 * Every (key, origin, days-ahead) training row, built once and shared by all backtest folds: a row's
 * features read only days up to its origin, so selecting rows by target day is enough to keep a fold
 * from seeing its future.
 */
export interface TrainingRows {
  readonly rows: number;
  readonly cols: number;
  readonly x: Float32Array;
  /** Target purchases divided by the row's scale. */
  readonly y: Float32Array;
  /** The row's scale: weighting by it makes the scaled loss match errors in purchases. */
  readonly scale: Float32Array;
  readonly targetDay: Int32Array;
}

/** Options for building rows. */
export interface TrainingRowsOptions {
  horizon: number;
  /** Use every n-th origin per key (n ≥ 1); bounds memory and time on long, wide data. */
  originStride: number;
}

/** Number of rows buildTrainingRows will produce. */
export function countTrainingRows(series: readonly KeySeries[], options: TrainingRowsOptions): number {
  let rows = 0;
  forEachRow(series, options, () => rows++);
  return rows;
}

function forEachRow(
  series: readonly KeySeries[],
  { horizon, originStride }: TrainingRowsOptions,
  visit: (s: KeySeries, originIndex: number, horizonDay: number) => void,
): void {
  for (const s of series) {
    const n = seriesLength(s);
    // Align origins to the series end so the most recent origins are always included.
    for (let t = n - 2; t >= HISTORY_DAYS - 1; t -= originStride) {
      for (let h = 1; h <= horizon && t + h < n; h++) visit(s, t, h);
    }
  }
}

/** Builds the feature matrix and targets for every row. */
export function buildTrainingRows(
  series: readonly KeySeries[],
  options: TrainingRowsOptions,
  specialDays: SpecialDays,
): TrainingRows {
  const rows = countTrainingRows(series, options);
  const cols = FEATURE_COUNT;
  const x = new Float32Array(rows * cols);
  const y = new Float32Array(rows);
  const scale = new Float32Array(rows);
  const targetDay = new Int32Array(rows);
  let r = 0;
  forEachRow(series, options, (s, t, h) => {
    const rowScale = fillFeatures(s, t, h, specialDays, x, r * cols);
    scale[r] = rowScale;
    y[r] = (s.purchases[t + h] as number) / rowScale;
    targetDay[r] = s.startDay + t + h;
    r++;
  });
  return { rows, cols, x, y, scale, targetDay };
}

/** The rows whose target day lies in [fromDay, toDay], as a Dataset weighted by scale. */
export function selectByTargetDay(all: TrainingRows, fromDay: EpochDay, toDay: EpochDay): Dataset {
  const picked: number[] = [];
  for (let r = 0; r < all.rows; r++) {
    const day = all.targetDay[r] as number;
    if (day >= fromDay && day <= toDay) picked.push(r);
  }
  const { cols } = all;
  const x = new Float32Array(picked.length * cols);
  const y = new Float32Array(picked.length);
  const weight = new Float32Array(picked.length);
  picked.forEach((r, i) => {
    x.set(all.x.subarray(r * cols, (r + 1) * cols), i * cols);
    y[i] = all.y[r] as number;
    weight[i] = all.scale[r] as number;
  });
  return { x, y, weight, rows: picked.length, cols };
}
