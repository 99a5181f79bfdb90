import { type SpecialDays } from './calendar.js';
import { FEATURE_COUNT, fillFeatures } from './features.js';
import { movingAverage, seasonalNaive } from './models/baselines.js';
import { predictRow, type CompiledGbdt } from './models/gbdt.js';
import { type KeySeries } from './series.js';

/** The model families a model directory can hold. */
export type ModelKind = 'gbdt' | 'seasonal-naive' | 'moving-average';

/** Predicts purchases for (series, origin index, days ahead); shared by backtest and inference. */
export type Predictor = (series: KeySeries, originIndex: number, horizonDay: number) => number;

/** What a predictor needs besides the series. */
export interface PredictorSpec {
  kind: ModelKind;
  gbdt?: CompiledGbdt;
  movingAverageDays?: number;
  specialDays: SpecialDays;
}

/** Default window of the moving-average baseline. */
export const DEFAULT_MOVING_AVERAGE_DAYS = 7;

/** Builds the predictor of a model; the GBDT one reuses one feature buffer, so it is not re-entrant. */
export function makePredictor(spec: PredictorSpec): Predictor {
  switch (spec.kind) {
    case 'seasonal-naive':
      return seasonalNaive;
    case 'moving-average': {
      const days = spec.movingAverageDays ?? DEFAULT_MOVING_AVERAGE_DAYS;
      return (series, originIndex) => movingAverage(series, originIndex, days);
    }
    case 'gbdt': {
      const model = spec.gbdt;
      if (!model) throw new TypeError('a gbdt predictor needs a compiled model');
      const row = new Float32Array(FEATURE_COUNT);
      return (series, originIndex, horizonDay) => {
        const scale = fillFeatures(series, originIndex, horizonDay, spec.specialDays, row, 0);
        return Math.max(0, scale * predictRow(model, row, 0));
      };
    }
  }
}
