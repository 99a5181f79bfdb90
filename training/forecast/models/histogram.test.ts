import { describe, expect, it } from 'vitest';
import { binTrainingMatrix, rowMajorBins } from './binning.js';
import { seededRandom } from './gbdt.js';
import {
  buildHistogram,
  buildRootGradientHistogram,
  buildSparseHistogram,
  clearGradientSums,
  histogramLayout,
} from './histogram.js';

const rows = 3000;
const cols = 13;

/** Columns of mixed shape: one mostly a single value (a dominant bin), some with missing values. */
function fixture(): { columns: Uint8Array; rowBins: Uint8Array; layout: ReturnType<typeof histogramLayout> } {
  const random = seededRandom(11);
  const x = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++)
    for (let f = 0; f < cols; f++) {
      const u = random();
      x[r * cols + f] =
        f === 0 ? (u < 0.9 ? 0 : u) : f % 5 === 1 && u < 0.1 ? Number.NaN : Math.floor(u * 40);
    }
  const { edges, columns } = binTrainingMatrix({ x, rows, cols }, 31);
  return {
    columns,
    rowBins: rowMajorBins(columns, rows, cols),
    layout: histogramLayout(edges, columns, rows),
  };
}

/** The histogram summed naively, row by row and feature by feature. */
function reference(
  columns: Uint8Array,
  layout: ReturnType<typeof histogramLayout>,
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

function sums(gh: Float32Array, n: number): [number, number] {
  let g = 0;
  let h = 0;
  for (let i = 0; i < n; i++) {
    g += gh[2 * i] as number;
    h += gh[2 * i + 1] as number;
  }
  return [g, h];
}

function expectClose(
  actual: Float64Array,
  expected: Float64Array,
  features: Int32Array,
  layout: ReturnType<typeof histogramLayout>,
): void {
  for (const f of features) {
    const from = layout.base[f] as number;
    for (let j = from; j < from + 2 * (layout.bins[f] as number); j++)
      expect(actual[j]).toBeCloseTo(expected[j] as number, 6);
  }
}

describe('histograms', () => {
  const { columns, rowBins, layout } = fixture();
  const random = seededRandom(5);
  const ghAll = Float32Array.from({ length: 2 * rows }, (_, i) =>
    i % 2 === 1 ? 0.5 + random() : random() - 0.5,
  );
  const leafRows = Uint32Array.from({ length: rows }, (_, r) => r).filter((r) => r % 7 === 3 || r % 11 === 0);
  const gh = Float32Array.from(
    { length: 2 * leafRows.length },
    (_, i) => ghAll[2 * (leafRows[i >> 1] as number) + (i & 1)] as number,
  );
  const subsets = {
    'every feature': Int32Array.from({ length: cols }, (_, f) => f),
    'sampled features': Int32Array.of(0, 2, 3, 5, 6, 8, 9, 10, 12),
  };

  it('finds a dominant bin only where one value holds most rows', () => {
    expect(layout.dominantBin[0]).toBeGreaterThanOrEqual(1);
    expect(Array.from(layout.dominantBin).slice(1)).toEqual(Array(cols - 1).fill(-1));
  });

  for (const [name, features] of Object.entries(subsets)) {
    it(`column-major and row-major builds equal a naive sum (${name})`, () => {
      const expected = reference(columns, layout, features, leafRows, gh);
      const [sumG, sumH] = sums(gh, leafRows.length);
      const dense = new Float64Array(layout.size);
      buildHistogram(dense, columns, rows, features, layout, leafRows, gh, leafRows.length, sumG, sumH);
      expectClose(dense, expected, features, layout);
      const sparse = new Float64Array(layout.size);
      buildSparseHistogram(sparse, rowBins, cols, features, layout, leafRows, gh, leafRows.length);
      expectClose(sparse, expected, features, layout);
    });

    it(`the root gradient-only build over cached hessians equals a full build (${name})`, () => {
      const all = Uint32Array.from({ length: rows }, (_, r) => r);
      const expected = reference(columns, layout, features, all, ghAll);
      const [sumG, sumH] = sums(ghAll, rows);
      const cached = new Float64Array(layout.size);
      buildHistogram(cached, columns, rows, subsets['every feature'], layout, all, ghAll, rows, sumG, sumH);
      clearGradientSums(cached);
      buildRootGradientHistogram(cached, columns, rows, features, layout, ghAll, sumG);
      expectClose(cached, expected, features, layout);
    });
  }
});
