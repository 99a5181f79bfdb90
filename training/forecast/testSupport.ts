import { parseIsoDay } from './dates.js';
import { type KeySeries } from './series.js';
import { syntheticSeries } from './synthetic.js';
import { trainOnSeries, type TrainedArtifacts, type TrainSettings } from './train.js';

/** Small synthetic series shared by the unit tests: 6 keys × 160 days from 2025-01-01. */
export function smallSeries(seed = 11): KeySeries[] {
  return syntheticSeries({ keys: 6, days: 160, startDay: parseIsoDay('2025-01-01'), seed, level: 4 });
}

/** Settings small enough for unit tests (3 folds, ≤ 50 trees of ≤ 63 bins). */
export const SMALL_SETTINGS: TrainSettings = {
  keyType: 'category_code',
  horizon: 7,
  folds: 3,
  gbdt: { maxTrees: 50, learningRate: 0.15, maxBins: 63, earlyStoppingRounds: 10 },
};

/** Trains on the small series. */
export function trainSmall(series = smallSeries(), settings: Partial<TrainSettings> = {}): TrainedArtifacts {
  return trainOnSeries(series, { ...SMALL_SETTINGS, ...settings });
}
