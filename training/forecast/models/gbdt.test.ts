import { describe, expect, it } from 'vitest';
import { compileGbdt, fitGbdt, predictRow, seededRandom, type Dataset } from './gbdt.js';

/** y = sin(3·x0) + 2·x1² + (x2 > 0.5 ? 1 : 0), x in [0,1)³, x3 pure noise; optional Gaussian noise. */
function syntheticRegression(rows: number, seed: number, noise = 0): Dataset {
  const random = seededRandom(seed);
  const cols = 4;
  const x = new Float32Array(rows * cols);
  const y = new Float32Array(rows);
  for (let r = 0; r < rows; r++) {
    for (let f = 0; f < cols; f++) x[r * cols + f] = random();
    const [a, b, c] = [x[r * cols] as number, x[r * cols + 1] as number, x[r * cols + 2] as number];
    const gaussian = Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
    y[r] = Math.sin(3 * a) + 2 * b * b + (c > 0.5 ? 1 : 0) + noise * gaussian;
  }
  return { x, rows, cols, y };
}

function rmse(model: ReturnType<typeof compileGbdt>, data: Dataset): number {
  let sum = 0;
  for (let r = 0; r < data.rows; r++) {
    const e = predictRow(model, data.x, r * data.cols) - (data.y[r] as number);
    sum += e * e;
  }
  return Math.sqrt(sum / data.rows);
}

describe('fitGbdt', () => {
  it('recovers a known function within a tight error bound', () => {
    const train = syntheticRegression(6000, 1);
    const test = syntheticRegression(2000, 2);
    const fit = fitGbdt(train, { maxTrees: 300, learningRate: 0.1, seed: 3 });
    const error = rmse(compileGbdt(fit.model), test);
    // The target's standard deviation is ≈ 0.85; a good fit leaves a small fraction of it.
    expect(error).toBeLessThan(0.06);
  });

  it('is deterministic per seed and differs across seeds when features are sampled', () => {
    const train = syntheticRegression(2000, 4);
    const options = { maxTrees: 30, featureFraction: 0.5 };
    const a = fitGbdt(train, { ...options, seed: 7 });
    const b = fitGbdt(train, { ...options, seed: 7 });
    const c = fitGbdt(train, { ...options, seed: 8 });
    expect(JSON.stringify(a.model)).toBe(JSON.stringify(b.model));
    expect(JSON.stringify(a.model)).not.toBe(JSON.stringify(c.model));
  });

  it('stops early on the validation set and keeps the best iteration', () => {
    const train = syntheticRegression(600, 5, 1.5);
    const valid = syntheticRegression(600, 6, 1.5);
    const fit = fitGbdt(train, { maxTrees: 400, learningRate: 0.3, earlyStoppingRounds: 10 }, valid);
    expect(fit.history.length).toBeLessThan(400);
    expect(fit.model.trees).toHaveLength(fit.bestIteration);
    const errors = fit.history.map((h) => h.validError as number);
    expect(fit.bestValidError).toBe(Math.min(...errors));
  });

  it('fits counts with the Poisson objective, predicting positive rates near the truth', () => {
    const random = seededRandom(9);
    const rows = 4000;
    const x = new Float32Array(rows);
    const y = new Float32Array(rows);
    for (let r = 0; r < rows; r++) {
      x[r] = random();
      const rate = Math.exp(1 + 2 * (x[r] as number));
      // Poisson sample by inversion (small rates only).
      let k = 0;
      let p = Math.exp(-rate);
      let cdf = p;
      const u = random();
      while (u > cdf) {
        k++;
        p *= rate / k;
        cdf += p;
      }
      y[r] = k;
    }
    const model = compileGbdt(
      fitGbdt({ x, y, rows, cols: 1 }, { objective: 'poisson', maxTrees: 200 }).model,
    );
    for (const at of [0.1, 0.5, 0.9]) {
      const truth = Math.exp(1 + 2 * at);
      expect(Math.abs(predictRow(model, Float32Array.of(at), 0) - truth) / truth).toBeLessThan(0.12);
    }
  });

  it('sends missing values left, as learned from a missing-value bin', () => {
    const rows = 400;
    const x = new Float32Array(rows);
    const y = new Float32Array(rows);
    for (let r = 0; r < rows; r++) {
      x[r] = r % 2 === 0 ? Number.NaN : r / rows;
      y[r] = r % 2 === 0 ? 10 : 0;
    }
    const model = compileGbdt(fitGbdt({ x, y, rows, cols: 1 }, { maxTrees: 50, learningRate: 0.5 }).model);
    expect(predictRow(model, Float32Array.of(Number.NaN), 0)).toBeCloseTo(10, 1);
    expect(predictRow(model, Float32Array.of(0.3), 0)).toBeCloseTo(0, 1);
  });
});
