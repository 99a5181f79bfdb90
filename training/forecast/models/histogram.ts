/**
 * Gradient histograms, the inner loop of the hist GBDT. Bins are column-major uint8; gradients are
 * float32 (g, h) pairs in one array, as XGBoost stores them, summed into double-precision histograms
 * holding a (Σg, Σh) pair per bin of every feature.
 */

/** Where each feature's bins sit in a compact histogram. */
export interface HistogramLayout {
  /** First slot of feature f's pairs in the histogram array (already × 2). */
  readonly base: Int32Array;
  /** Bins of feature f, the missing-value bin included. */
  readonly bins: Int32Array;
  /** Length of a histogram array: two doubles per bin. */
  readonly size: number;
  /**
   * Per feature, the bin holding at least half of all rows, or -1. Histograms skip it and set it
   * afterwards to the leaf total minus the other bins (LightGBM does this for its most frequent bin):
   * adding row after row into one slot chains every add on the previous store, which made such
   * features several times slower than the rest.
   */
  readonly dominantBin: Int32Array;
}

/** Minimum share of rows in one bin for it to be skipped while building histograms. */
const DOMINANT_SHARE = 0.5;

/** Lays out the bins of every feature back to back and finds each feature's dominant bin. */
export function histogramLayout(
  edges: readonly Float64Array[],
  columns: Uint8Array,
  rows: number,
): HistogramLayout {
  const base = new Int32Array(edges.length);
  const bins = new Int32Array(edges.length);
  const dominantBin = new Int32Array(edges.length).fill(-1);
  const counts = new Int32Array(256);
  let total = 0;
  edges.forEach((e, f) => {
    base[f] = total * 2;
    bins[f] = e.length + 1;
    total += e.length + 1;
    counts.fill(0);
    const column = columns.subarray(f * rows, (f + 1) * rows);
    for (let r = 0; r < rows; r++) {
      const bin = column[r] as number;
      counts[bin] = (counts[bin] as number) + 1;
    }
    for (let b = 0; b < 256; b++) if ((counts[b] as number) >= rows * DOMINANT_SHARE) dominantBin[f] = b;
  });
  return { base, bins, size: total * 2, dominantBin };
}

/** The features with a dominant bin and those without, in the given order. */
function splitByDominance(features: Int32Array, layout: HistogramLayout): [Int32Array, Int32Array] {
  const skewed: number[] = [];
  const spread: number[] = [];
  for (const f of features) ((layout.dominantBin[f] as number) >= 0 ? skewed : spread).push(f);
  return [Int32Array.from(skewed), Int32Array.from(spread)];
}

/** Sets each skewed feature's dominant bin to the leaf totals minus that feature's other bins. */
function fillDominantBins(
  hist: Float64Array,
  skewed: Int32Array,
  layout: HistogramLayout,
  sumG: number,
  sumH: number,
): void {
  for (const f of skewed) {
    const from = layout.base[f] as number;
    const to = from + ((layout.bins[f] as number) << 1);
    let g = sumG;
    let h = sumH;
    for (let j = from; j < to; j += 2) {
      g -= hist[j] as number;
      h -= hist[j + 1] as number;
    }
    const j = from + ((layout.dominantBin[f] as number) << 1);
    hist[j] = g;
    hist[j + 1] = h;
  }
}

/**
 * Adds the rows leafRows[0…n) into hist; gh holds their (g, h) pairs in the same order. Rows in a leaf
 * stay ascending (stable partition), so bin reads walk forward through each column. Several features per
 * pass over the rows, so each row index and gradient pair is loaded once per group.
 */
export function buildHistogram(
  hist: Float64Array,
  columns: Uint8Array,
  rows: number,
  allFeatures: Int32Array,
  layout: HistogramLayout,
  leafRows: Uint32Array,
  gh: Float32Array,
  n: number,
  sumG: number,
  sumH: number,
): void {
  const [skewed, features] = splitByDominance(allFeatures, layout);
  const base = layout.base;
  for (const f of skewed) {
    const c = columns.subarray(f * rows, f * rows + rows);
    const b = base[f] as number;
    const skip = layout.dominantBin[f] as number;
    for (let i = 0; i < n; i++) {
      const bin = c[leafRows[i] as number] as number;
      if (bin === skip) continue;
      const j = b + (bin << 1);
      hist[j] = (hist[j] as number) + (gh[2 * i] as number);
      hist[j + 1] = (hist[j + 1] as number) + (gh[2 * i + 1] as number);
    }
  }
  fillDominantBins(hist, skewed, layout, sumG, sumH);
  const count = features.length;
  let k = 0;
  // Eight columns per pass measured faster than four, twelve or sixteen, for dense and sparse leaves alike.
  for (; k + 7 < count; k += 8) {
    const f0 = features[k + 0] as number;
    const f1 = features[k + 1] as number;
    const f2 = features[k + 2] as number;
    const f3 = features[k + 3] as number;
    const f4 = features[k + 4] as number;
    const f5 = features[k + 5] as number;
    const f6 = features[k + 6] as number;
    const f7 = features[k + 7] as number;
    const c0 = columns.subarray(f0 * rows, f0 * rows + rows);
    const c1 = columns.subarray(f1 * rows, f1 * rows + rows);
    const c2 = columns.subarray(f2 * rows, f2 * rows + rows);
    const c3 = columns.subarray(f3 * rows, f3 * rows + rows);
    const c4 = columns.subarray(f4 * rows, f4 * rows + rows);
    const c5 = columns.subarray(f5 * rows, f5 * rows + rows);
    const c6 = columns.subarray(f6 * rows, f6 * rows + rows);
    const c7 = columns.subarray(f7 * rows, f7 * rows + rows);
    const b0 = base[f0] as number;
    const b1 = base[f1] as number;
    const b2 = base[f2] as number;
    const b3 = base[f3] as number;
    const b4 = base[f4] as number;
    const b5 = base[f5] as number;
    const b6 = base[f6] as number;
    const b7 = base[f7] as number;
    for (let i = 0; i < n; i++) {
      const r = leafRows[i] as number;
      const g = gh[2 * i] as number;
      const h = gh[2 * i + 1] as number;
      let j = b0 + ((c0[r] as number) << 1);
      hist[j] = (hist[j] as number) + g;
      hist[j + 1] = (hist[j + 1] as number) + h;
      j = b1 + ((c1[r] as number) << 1);
      hist[j] = (hist[j] as number) + g;
      hist[j + 1] = (hist[j + 1] as number) + h;
      j = b2 + ((c2[r] as number) << 1);
      hist[j] = (hist[j] as number) + g;
      hist[j + 1] = (hist[j + 1] as number) + h;
      j = b3 + ((c3[r] as number) << 1);
      hist[j] = (hist[j] as number) + g;
      hist[j + 1] = (hist[j + 1] as number) + h;
      j = b4 + ((c4[r] as number) << 1);
      hist[j] = (hist[j] as number) + g;
      hist[j + 1] = (hist[j + 1] as number) + h;
      j = b5 + ((c5[r] as number) << 1);
      hist[j] = (hist[j] as number) + g;
      hist[j + 1] = (hist[j + 1] as number) + h;
      j = b6 + ((c6[r] as number) << 1);
      hist[j] = (hist[j] as number) + g;
      hist[j + 1] = (hist[j + 1] as number) + h;
      j = b7 + ((c7[r] as number) << 1);
      hist[j] = (hist[j] as number) + g;
      hist[j + 1] = (hist[j + 1] as number) + h;
    }
  }
  for (; k + 3 < count; k += 4) {
    const f0 = features[k + 0] as number;
    const f1 = features[k + 1] as number;
    const f2 = features[k + 2] as number;
    const f3 = features[k + 3] as number;
    const c0 = columns.subarray(f0 * rows, f0 * rows + rows);
    const c1 = columns.subarray(f1 * rows, f1 * rows + rows);
    const c2 = columns.subarray(f2 * rows, f2 * rows + rows);
    const c3 = columns.subarray(f3 * rows, f3 * rows + rows);
    const b0 = base[f0] as number;
    const b1 = base[f1] as number;
    const b2 = base[f2] as number;
    const b3 = base[f3] as number;
    for (let i = 0; i < n; i++) {
      const r = leafRows[i] as number;
      const g = gh[2 * i] as number;
      const h = gh[2 * i + 1] as number;
      let j = b0 + ((c0[r] as number) << 1);
      hist[j] = (hist[j] as number) + g;
      hist[j + 1] = (hist[j + 1] as number) + h;
      j = b1 + ((c1[r] as number) << 1);
      hist[j] = (hist[j] as number) + g;
      hist[j + 1] = (hist[j + 1] as number) + h;
      j = b2 + ((c2[r] as number) << 1);
      hist[j] = (hist[j] as number) + g;
      hist[j + 1] = (hist[j + 1] as number) + h;
      j = b3 + ((c3[r] as number) << 1);
      hist[j] = (hist[j] as number) + g;
      hist[j + 1] = (hist[j + 1] as number) + h;
    }
  }
  for (; k < count; k++) {
    const f = features[k] as number;
    const c = columns.subarray(f * rows, f * rows + rows);
    const b = base[f] as number;
    for (let i = 0; i < n; i++) {
      const j = b + ((c[leafRows[i] as number] as number) << 1);
      hist[j] = (hist[j] as number) + (gh[2 * i] as number);
      hist[j + 1] = (hist[j + 1] as number) + (gh[2 * i + 1] as number);
    }
  }
}

/**
 * Root histogram when every row's hessian is the same in every tree (L2: h = weight): `hist` arrives
 * holding the hessian sums of all rows (cached once per fit) and zero gradient sums, and only gradients
 * are added, which halves the adds of the one histogram that covers every row.
 */
export function buildRootGradientHistogram(
  hist: Float64Array,
  columns: Uint8Array,
  rows: number,
  allFeatures: Int32Array,
  layout: HistogramLayout,
  gh: Float32Array,
  sumG: number,
): void {
  const [skewed, features] = splitByDominance(allFeatures, layout);
  const base = layout.base;
  for (const f of skewed) {
    const c = columns.subarray(f * rows, f * rows + rows);
    const b = base[f] as number;
    const skip = layout.dominantBin[f] as number;
    for (let r = 0; r < rows; r++) {
      const bin = c[r] as number;
      if (bin !== skip) hist[b + (bin << 1)] = (hist[b + (bin << 1)] as number) + (gh[2 * r] as number);
    }
    let g = sumG;
    for (let j = b; j < b + ((layout.bins[f] as number) << 1); j += 2) g -= hist[j] as number;
    hist[b + (skip << 1)] = g;
  }
  const count = features.length;
  let k = 0;
  for (; k + 7 < count; k += 8) {
    const f0 = features[k + 0] as number;
    const f1 = features[k + 1] as number;
    const f2 = features[k + 2] as number;
    const f3 = features[k + 3] as number;
    const f4 = features[k + 4] as number;
    const f5 = features[k + 5] as number;
    const f6 = features[k + 6] as number;
    const f7 = features[k + 7] as number;
    const c0 = columns.subarray(f0 * rows, f0 * rows + rows);
    const c1 = columns.subarray(f1 * rows, f1 * rows + rows);
    const c2 = columns.subarray(f2 * rows, f2 * rows + rows);
    const c3 = columns.subarray(f3 * rows, f3 * rows + rows);
    const c4 = columns.subarray(f4 * rows, f4 * rows + rows);
    const c5 = columns.subarray(f5 * rows, f5 * rows + rows);
    const c6 = columns.subarray(f6 * rows, f6 * rows + rows);
    const c7 = columns.subarray(f7 * rows, f7 * rows + rows);
    const b0 = base[f0] as number;
    const b1 = base[f1] as number;
    const b2 = base[f2] as number;
    const b3 = base[f3] as number;
    const b4 = base[f4] as number;
    const b5 = base[f5] as number;
    const b6 = base[f6] as number;
    const b7 = base[f7] as number;
    for (let r = 0; r < rows; r++) {
      const g = gh[2 * r] as number;
      let j = b0 + ((c0[r] as number) << 1);
      hist[j] = (hist[j] as number) + g;
      j = b1 + ((c1[r] as number) << 1);
      hist[j] = (hist[j] as number) + g;
      j = b2 + ((c2[r] as number) << 1);
      hist[j] = (hist[j] as number) + g;
      j = b3 + ((c3[r] as number) << 1);
      hist[j] = (hist[j] as number) + g;
      j = b4 + ((c4[r] as number) << 1);
      hist[j] = (hist[j] as number) + g;
      j = b5 + ((c5[r] as number) << 1);
      hist[j] = (hist[j] as number) + g;
      j = b6 + ((c6[r] as number) << 1);
      hist[j] = (hist[j] as number) + g;
      j = b7 + ((c7[r] as number) << 1);
      hist[j] = (hist[j] as number) + g;
    }
  }
  for (; k + 3 < count; k += 4) {
    const f0 = features[k + 0] as number;
    const f1 = features[k + 1] as number;
    const f2 = features[k + 2] as number;
    const f3 = features[k + 3] as number;
    const c0 = columns.subarray(f0 * rows, f0 * rows + rows);
    const c1 = columns.subarray(f1 * rows, f1 * rows + rows);
    const c2 = columns.subarray(f2 * rows, f2 * rows + rows);
    const c3 = columns.subarray(f3 * rows, f3 * rows + rows);
    const b0 = base[f0] as number;
    const b1 = base[f1] as number;
    const b2 = base[f2] as number;
    const b3 = base[f3] as number;
    for (let r = 0; r < rows; r++) {
      const g = gh[2 * r] as number;
      let j = b0 + ((c0[r] as number) << 1);
      hist[j] = (hist[j] as number) + g;
      j = b1 + ((c1[r] as number) << 1);
      hist[j] = (hist[j] as number) + g;
      j = b2 + ((c2[r] as number) << 1);
      hist[j] = (hist[j] as number) + g;
      j = b3 + ((c3[r] as number) << 1);
      hist[j] = (hist[j] as number) + g;
    }
  }
  for (; k < count; k++) {
    const f = features[k] as number;
    const c = columns.subarray(f * rows, f * rows + rows);
    const b = base[f] as number;
    for (let r = 0; r < rows; r++) {
      const j = b + ((c[r] as number) << 1);
      hist[j] = (hist[j] as number) + (gh[2 * r] as number);
    }
  }
}

/** Zeroes the gradient sums of a histogram, keeping the hessian sums. */
export function clearGradientSums(hist: Float64Array): void {
  for (let j = 0; j < hist.length; j += 2) hist[j] = 0;
}

/** Leaves with fewer than this share of all rows are built by buildSparseHistogram. */
export const SPARSE_LEAF_SHARE = 1 / 64;

/**
 * Histogram of a sparse leaf from row-major bins (row r's bins at r·cols …). Over a few scattered rows
 * the column-major walk touches one cache line per row and feature (measured 15 ns per add below a
 * 1.5% share of the rows, 3 ns over the root); a row-major row is one cache line for all its features.
 */
export function buildSparseHistogram(
  hist: Float64Array,
  rowBins: Uint8Array,
  cols: number,
  features: Int32Array,
  layout: HistogramLayout,
  leafRows: Uint32Array,
  gh: Float32Array,
  n: number,
): void {
  const m = features.length;
  const featureBase = new Int32Array(m);
  for (let k = 0; k < m; k++) featureBase[k] = layout.base[features[k] as number] as number;
  if (m === cols) {
    // Every feature: bins and bases are read in step, one index fewer per add.
    for (let i = 0; i < n; i++) {
      const offset = (leafRows[i] as number) * cols;
      const g = gh[2 * i] as number;
      const h = gh[2 * i + 1] as number;
      for (let k = 0; k < m; k++) {
        const j = (featureBase[k] as number) + ((rowBins[offset + k] as number) << 1);
        hist[j] = (hist[j] as number) + g;
        hist[j + 1] = (hist[j + 1] as number) + h;
      }
    }
    return;
  }
  for (let i = 0; i < n; i++) {
    const offset = (leafRows[i] as number) * cols;
    const g = gh[2 * i] as number;
    const h = gh[2 * i + 1] as number;
    for (let k = 0; k < m; k++) {
      const j = (featureBase[k] as number) + ((rowBins[offset + (features[k] as number)] as number) << 1);
      hist[j] = (hist[j] as number) + g;
      hist[j + 1] = (hist[j + 1] as number) + h;
    }
  }
}

/** Copies the (g, h) pairs of rows leafRows[0…n) into leaf order ("ordered gradients", as LightGBM). */
export function gatherGradients(gh: Float32Array, leafRows: Uint32Array, n: number, out: Float32Array): void {
  for (let i = 0; i < n; i++) {
    const r = leafRows[i] as number;
    out[2 * i] = gh[2 * r] as number;
    out[2 * i + 1] = gh[2 * r + 1] as number;
  }
}

/** parent ← parent − child over the given features: the sibling's histogram without a pass over rows. */
export function subtractHistogram(
  parent: Float64Array,
  child: Float64Array,
  features: Int32Array,
  layout: HistogramLayout,
): void {
  for (let k = 0; k < features.length; k++) {
    const f = features[k] as number;
    const from = layout.base[f] as number;
    const to = from + ((layout.bins[f] as number) << 1);
    for (let i = from; i < to; i++) parent[i] = (parent[i] as number) - (child[i] as number);
  }
}
