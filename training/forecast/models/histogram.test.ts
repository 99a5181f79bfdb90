import { describe, expect, it } from 'vitest';
import { binTrainingMatrix } from './binning.js';
import { seededRandom } from './gbdt.js';
import {
  clearGradientSums,
  histogramLayout,
  HistogramWorkspace,
  subtractHistogram,
  type HistogramLayout,
} from './histogram.js';

interface Fixture {
  name: string;
  rows: number;
  cols: number;
  columns: Uint8Array;
  layout: HistogramLayout;
}

/** Thirteen columns of mixed shape: one mostly a single value, some with missing values. */
function narrow(): Fixture {
  const rows = 3000;
  const cols = 13;
  const random = seededRandom(11);
  const x = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++)
    for (let f = 0; f < cols; f++) {
      const u = random();
      x[r * cols + f] =
        f === 0 ? (u < 0.9 ? 0 : u) : f % 5 === 1 && u < 0.1 ? Number.NaN : Math.floor(u * 40);
    }
  const { edges, columns } = binTrainingMatrix({ x, rows, cols }, 31);
  return { name: '16-bit slots', rows, cols, columns, layout: histogramLayout(edges) };
}

/** 300 features of 255 bins: more slots than 16 bits hold. */
function wide(): Fixture {
  const rows = 200;
  const cols = 300;
  const random = seededRandom(12);
  const columns = Uint8Array.from({ length: rows * cols }, () => Math.floor(random() * 255));
  const edges = Array.from({ length: cols }, () => new Float64Array(254));
  return { name: '32-bit slots', rows, cols, columns, layout: histogramLayout(edges) };
}

/** The histogram summed naively from column-major bins, row by row and feature by feature. */
function reference(
  fx: Fixture,
  features: Int32Array,
  leafRows: ArrayLike<number>,
  gh: Float32Array,
): Float64Array {
  const hist = new Float64Array(fx.layout.size);
  for (let i = 0; i < leafRows.length; i++) {
    const r = leafRows[i] as number;
    for (const f of features) {
      const j = (fx.layout.base[f] as number) + 2 * (fx.columns[f * fx.rows + r] as number);
      hist[j] = (hist[j] as number) + (gh[2 * r] as number);
      hist[j + 1] = (hist[j + 1] as number) + (gh[2 * r + 1] as number);
    }
  }
  return hist;
}

/** Every bin of the given features within 1e-6 (one assertion on the worst bin: 150 000 bins in wide). */
function expectClose(actual: Float64Array, expected: Float64Array, features: Int32Array, fx: Fixture): void {
  let worst = -1;
  let worstError = 0;
  for (const f of features) {
    const from = fx.layout.base[f] as number;
    for (let j = from; j < from + 2 * (fx.layout.bins[f] as number); j++) {
      const error = Math.abs((actual[j] as number) - (expected[j] as number));
      if (error > worstError || worst < 0) [worst, worstError] = [j, error];
    }
  }
  expect(actual[worst]).toBeCloseTo(expected[worst] as number, 6);
}

describe('histogram layout', () => {
  it('lays features out back to back, each with its missing-value bin', () => {
    const layout = histogramLayout([new Float64Array(3), new Float64Array(1), new Float64Array(5)]);
    expect(Array.from(layout.bins)).toEqual([4, 2, 6]);
    expect(Array.from(layout.base)).toEqual([0, 8, 12]);
    expect(layout.size).toBe(24);
  });
});

for (const fx of [narrow(), wide()]) {
  describe(`histogram workspace (${fx.name})`, () => {
    const { rows, cols, layout } = fx;
    const workspace = new HistogramWorkspace(fx.columns, rows, cols, layout, 4);
    const random = seededRandom(5);
    workspace.gh.set(
      Float32Array.from({ length: 2 * rows }, (_, i) => (i % 2 === 1 ? 0.5 + random() : random() - 0.5)),
    );
    // A leaf as growTree leaves it: one range of `order`, rows ascending, other rows around it.
    const inLeaf = (r: number): boolean => r % 7 === 3 || r % 11 === 0;
    const all = Array.from({ length: rows }, (_, r) => r);
    const leafRows = all.filter(inLeaf);
    const before = all.filter((r) => !inLeaf(r) && r % 2 === 0);
    const after = all.filter((r) => !inLeaf(r) && r % 2 === 1);
    workspace.order.set([...before, ...leafRows, ...after]);
    const [start, end] = [before.length, before.length + leafRows.length];
    const everyFeature = Int32Array.from({ length: cols }, (_, f) => f);
    const subsets = {
      'every feature': everyFeature,
      'sampled features': everyFeature.filter((f) => f % 4 !== 1),
    };

    it('maps each row and feature to its bin’s slot, row-major', () => {
      expect(workspace.slots).toBeInstanceOf(fx.name.startsWith('16') ? Uint16Array : Uint32Array);
      for (const r of [0, 1, 123, rows - 1])
        for (let f = 0; f < cols; f++)
          expect(2 * (workspace.slots[r * cols + f] as number)).toBe(
            (layout.base[f] as number) + 2 * (fx.columns[f * rows + r] as number),
          );
    });

    for (const [name, features] of Object.entries(subsets)) {
      it(`a leaf's build equals a naive sum (${name})`, () => {
        workspace.setFeatures(features);
        const hist = workspace.takeHistogram();
        workspace.buildLeaf(hist, start, end);
        expectClose(hist, reference(fx, features, leafRows, workspace.gh), features, fx);
        workspace.releaseHistogram(hist);
      });

      it(`the root gradient-only build over cached hessians equals a full build (${name})`, () => {
        const cached = workspace.takeHistogram();
        workspace.setFeatures(everyFeature);
        workspace.buildLeaf(cached, 0, rows);
        clearGradientSums(cached);
        workspace.setFeatures(features);
        workspace.buildRootGradients(cached);
        expectClose(cached, reference(fx, features, all, workspace.gh), features, fx);
        workspace.releaseHistogram(cached);
      });

      it(`subtraction leaves the sibling's histogram (${name})`, () => {
        workspace.setFeatures(features);
        const parent = workspace.takeHistogram();
        workspace.buildLeaf(parent, 0, rows);
        const child = workspace.takeHistogram();
        workspace.buildLeaf(child, start, end);
        subtractHistogram(parent, child, features, layout);
        const sibling = [...before, ...after];
        expectClose(parent, reference(fx, features, sibling, workspace.gh), features, fx);
        workspace.releaseHistogram(parent);
        workspace.releaseHistogram(child);
      });
    }
  });
}

describe('partition', () => {
  const fx = narrow();
  it('splits one range of the row order stably by a feature’s bin, leaving the rest alone', () => {
    const workspace = new HistogramWorkspace(fx.columns, fx.rows, fx.cols, fx.layout, 1);
    const random = seededRandom(8);
    const all = Array.from({ length: fx.rows }, (_, r) => r);
    const shuffled = all
      .map((r) => [random(), r] as const)
      .sort((a, b) => a[0] - b[0])
      .map(([, r]) => r);
    workspace.order.set(shuffled);
    const [start, end, feature, bin] = [100, 2500, 3, 12];
    const binOf = (r: number): number => fx.columns[feature * fx.rows + r] as number;
    const range = shuffled.slice(start, end);
    const expected = [...range.filter((r) => binOf(r) <= bin), ...range.filter((r) => binOf(r) > bin)];
    const split = workspace.partition(start, end, feature, bin);
    expect(split).toBe(start + range.filter((r) => binOf(r) <= bin).length);
    expect(split).toBeGreaterThan(start);
    expect(split).toBeLessThan(end);
    expect(Array.from(workspace.order)).toEqual([
      ...shuffled.slice(0, start),
      ...expected,
      ...shuffled.slice(end),
    ]);
  });
});

describe('histogram pool', () => {
  const fx = narrow();
  it('hands out zeroed histograms, a fixed number of them, and rejects foreign ones', () => {
    const workspace = new HistogramWorkspace(fx.columns, fx.rows, fx.cols, fx.layout, 2);
    const first = workspace.takeHistogram();
    first.fill(3);
    workspace.releaseHistogram(first);
    const again = workspace.takeHistogram();
    expect(again).toBe(first);
    expect(again.every((v) => v === 0)).toBe(true);
    workspace.takeHistogram();
    expect(() => workspace.takeHistogram()).toThrow(/exhausted/);
    expect(() => workspace.buildLeaf(new Float64Array(fx.layout.size), 0, fx.rows)).toThrow(/workspace/);
  });
});
