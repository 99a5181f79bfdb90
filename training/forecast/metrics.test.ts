import { describe, expect, it } from 'vitest';
import { perKeyMetrics, pointMetrics, quantile } from './metrics.js';

describe('pointMetrics', () => {
  it('computes MAPE over non-zero actuals and the other figures over all points', () => {
    const m = pointMetrics([10, 0, 20, 5], [12, 1, 15, 5]);
    expect(m.count).toBe(4);
    expect(m.mape).toBeCloseTo((0.2 + 0.25 + 0) / 3, 12);
    expect(m.wape).toBeCloseTo((2 + 1 + 5 + 0) / 35, 12);
    expect(m.rmse).toBeCloseTo(Math.sqrt((4 + 1 + 25 + 0) / 4), 12);
    expect(m.rmspe).toBeCloseTo(Math.sqrt((0.04 + 0.0625 + 0) / 3), 12);
    expect(m.smape).toBeCloseTo((4 / 22 + 2 / 1 + 10 / 35 + 0) / 4, 12);
  });

  it('reports undefined figures as null instead of dividing by zero', () => {
    const m = pointMetrics([0, 0], [0, 1]);
    expect(m.mape).toBeNull();
    expect(m.wape).toBeNull();
    expect(m.rmspe).toBeNull();
    expect(m.smape).toBeCloseTo(1, 12);
  });
});

describe('perKeyMetrics', () => {
  it('gives per-key MAPE and WAPE with their P50 and P90', () => {
    const keys = ['a', 'a', 'b', 'b', 'c', 'c'];
    const m = perKeyMetrics(keys, [10, 10, 10, 10, 0, 0], [11, 9, 15, 15, 1, 1]);
    expect(m.keys).toEqual([
      { key: 'a', mape: expect.closeTo(0.1, 12), wape: expect.closeTo(0.1, 12) },
      { key: 'b', mape: expect.closeTo(0.5, 12), wape: expect.closeTo(0.5, 12) },
      { key: 'c', mape: null, wape: null },
    ]);
    expect(m.mape.p50).toBeCloseTo(0.3, 12);
    expect(m.mape.p90).toBeCloseTo(0.46, 12);
  });

  it('interpolates quantiles linearly and ignores nulls', () => {
    expect(quantile([3, null, 1, 2], 0.5)).toBe(2);
    expect(quantile([0, 10], 0.9)).toBeCloseTo(9, 12);
    expect(quantile([null], 0.5)).toBeNull();
  });
});
