import { describe, expect, it } from 'vitest';
import { binTrainingMatrix } from './binning.js';
import { seededRandom } from './gbdt.js';
import {
  binSlots,
  buildHistogram,
  buildRootGradientHistogram,
  clearGradientSums,
  gatherGradients,
  histogramLayout,
  subtractHistogram,
  type HistogramLayout,
} from './histogram.js';

const rows = 3000;
/** Thirteen columns: one run of eight unrolled slots and a tail of five. */
const cols = 13;

/** Columns of mixed shape: one mostly a single value, some with missing values. */
function fixture(): { columns: Uint8Array; layout: HistogramLayout } {
  const random = seededRandom(11);
  const x = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++)
    for (let f = 0; f < cols; f++) {
      const u = random();
      x[r * cols + f] =
        f === 0 ? (u < 0.9 ? 0 : u) : f % 5 === 1 && u < 0.1 ? Number.NaN : Math.floor(u * 40);
    }
  const { edges, columns } = binTrainingMatrix({ x, rows, cols }, 31);
  return { columns, layout: histogramLayout(edges) };
}

/** The histogram summed naively from column-major bins, row by row and feature by feature. */
function reference(
  columns: Uint8Array,
  layout: HistogramLayout,
  features: Int32Array,
  leafRows: Uint32Array,
  gh: Float32Array,
): Float64Array {
  const hist = new Float64Array(layout.size);
  leafRows.forEach((r, i) => {
    for (const f of features) {
      const j = (layout.base[f] as number) + 2 * (columns[f * rows + r] as number);
      hist[j] = (hist[j] as number) + (gh[2 * i] as number);
      hist[j + 1] = (hist[j + 1] as number) + (gh[2 * i + 1] as number);
    }
  });
  return hist;
}

function expectClose(
  actual: Float64Array,
  expected: Float64Array,
  features: Int32Array,
  layout: HistogramLayout,
): void {
  for (const f of features) {
    const from = layout.base[f] as number;
    for (let j = from; j < from + 2 * (layout.bins[f] as number); j++)
      expect(actual[j]).toBeCloseTo(expected[j] as number, 6);
  }
}

describe('histograms', () => {
  const { columns, layout } = fixture();
  const slots = binSlots(columns, rows, cols, layout);
  const random = seededRandom(5);
  const ghAll = Float32Array.from({ length: 2 * rows }, (_, i) =>
    i % 2 === 1 ? 0.5 + random() : random() - 0.5,
  );
  const leafRows = Uint32Array.from({ length: rows }, (_, r) => r).filter((r) => r % 7 === 3 || r % 11 === 0);
  const gh = new Float32Array(2 * leafRows.length);
  gatherGradients(ghAll, leafRows, leafRows.length, gh);
  const subsets = {
    'every feature': Int32Array.from({ length: cols }, (_, f) => f),
    'sampled features': Int32Array.of(0, 2, 3, 5, 6, 8, 9, 10, 12),
  };

  it('lays features out back to back and maps each row and feature to its bin’s slot', () => {
    expect(Array.from(layout.base)).toEqual(
      Array.from(layout.bins).map(
        (_, f) => 2 * Array.from(layout.bins.subarray(0, f)).reduce((a, b) => a + b, 0),
      ),
    );
    expect(slots).toBeInstanceOf(Uint16Array);
    for (const r of [0, 1, 1234, rows - 1])
      for (let f = 0; f < cols; f++)
        expect(2 * (slots[r * cols + f] as number)).toBe(
          (layout.base[f] as number) + 2 * (columns[f * rows + r] as number),
        );
  });

  it('keeps slots past 65 535 in 32 bits', () => {
    const wide = 300;
    const edges = Array.from({ length: wide }, () => new Float64Array(254));
    const wideLayout = histogramLayout(edges);
    const wideColumns = new Uint8Array(2 * wide).fill(254);
    const wideSlots = binSlots(wideColumns, 2, wide, wideLayout);
    expect(wideSlots).toBeInstanceOf(Uint32Array);
    expect(wideSlots[2 * wide - 1]).toBe(wideLayout.size / 2 - 1);
  });

  it('gathers (g, h) pairs into leaf order', () => {
    leafRows.forEach((r, i) => {
      expect(gh[2 * i]).toBe(ghAll[2 * r]);
      expect(gh[2 * i + 1]).toBe(ghAll[2 * r + 1]);
    });
  });

  for (const [name, features] of Object.entries(subsets)) {
    it(`a leaf's build equals a naive sum (${name})`, () => {
      const expected = reference(columns, layout, features, leafRows, gh);
      const hist = new Float64Array(layout.size);
      buildHistogram(hist, slots, cols, features, leafRows, gh, leafRows.length);
      expectClose(hist, expected, features, layout);
    });

    it(`the root gradient-only build over cached hessians equals a full build (${name})`, () => {
      const all = Uint32Array.from({ length: rows }, (_, r) => r);
      const expected = reference(columns, layout, features, all, ghAll);
      const cached = new Float64Array(layout.size);
      buildHistogram(cached, slots, cols, subsets['every feature'], all, ghAll, rows);
      clearGradientSums(cached);
      buildRootGradientHistogram(cached, slots, cols, features, ghAll, rows);
      expectClose(cached, expected, features, layout);
    });

    it(`subtraction leaves the sibling's histogram (${name})`, () => {
      const all = Uint32Array.from({ length: rows }, (_, r) => r);
      const sibling = all.filter((r) => !leafRows.includes(r));
      const siblingGh = new Float32Array(2 * sibling.length);
      gatherGradients(ghAll, sibling, sibling.length, siblingGh);
      const parent = new Float64Array(layout.size);
      buildHistogram(parent, slots, cols, features, all, ghAll, rows);
      const child = new Float64Array(layout.size);
      buildHistogram(child, slots, cols, features, leafRows, gh, leafRows.length);
      subtractHistogram(parent, child, features, layout);
      expectClose(parent, reference(columns, layout, features, sibling, siblingGh), features, layout);
    });
  }
});
