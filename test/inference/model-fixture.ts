import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { FEATURE_NAMES, FEATURE_SET_VERSION } from '../../training/forecast/features.js';
import { MODEL_FORMAT_VERSION, type ModelFile } from '../../training/forecast/modelFile.js';
import { trainSmall } from '../../training/forecast/testSupport.js';

/** Keys the fixture model knows. */
export const fixtureKeys = ['electronics.smartphone', 'appliances.kitchen', 'computers.notebook'] as const;

/**
 * Writes a tiny but real model directory (a moving-average model in D's model.json format, 60 days of
 * history per key, a weekly pattern per key) so tests and benchmarks need no training run.
 */
export async function writeFixtureModel(dir: string, options: { lastDate?: string } = {}): Promise<string> {
  const days = 60;
  const lastDate = options.lastDate ?? '2019-11-30';
  const start = new Date(`${lastDate}T00:00:00Z`);
  start.setUTCDate(start.getUTCDate() - (days - 1));
  const history: ModelFile['history'] = {};
  fixtureKeys.forEach((key, k) => {
    const purchases = Array.from({ length: days }, (_, d) => 5 + k * 3 + ((d * (k + 2)) % 7));
    history[key] = {
      startDate: start.toISOString().slice(0, 10),
      purchases,
      views: purchases.map((p) => p * 20),
      carts: purchases.map((p) => p * 2),
      priceMean: purchases.map((_, d) => (d % 9 === 0 ? null : 100 + k)),
    };
  });
  const file: ModelFile = {
    formatVersion: MODEL_FORMAT_VERSION,
    kind: 'moving-average',
    keyType: 'category_code',
    horizon: 28,
    featureSetVersion: FEATURE_SET_VERSION,
    featureNames: [...FEATURE_NAMES],
    historyDays: days,
    calendar: { extraDays: [] },
    lastDate,
    keys: [...fixtureKeys],
    history,
    movingAverageDays: 7,
  };
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'model.json'), JSON.stringify(file));
  return dir;
}

/**
 * Trains a small real GBDT model with the training code (D's synthetic series and test settings) and
 * writes its model.json; returns the directory and the keys it knows. Takes a few seconds.
 */
export async function writeTrainedModel(
  dir: string,
): Promise<{ dir: string; keys: string[]; lastDate: string }> {
  const artifacts = trainSmall();
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'model.json'), JSON.stringify(artifacts.model));
  return { dir, keys: artifacts.model.keys, lastDate: artifacts.model.lastDate };
}
