/**
 * Feature binning for the histogram GBDT: weighted quantile bin edges (as XGBoost's hist sketch weighs
 * rows by their sample weight) and the uint8 bin matrix the trees are grown on.
 */

/** At most this many rows are sampled per feature to place bin edges. */
const BIN_SAMPLE_ROWS = 200_000;

/** The matrix and weights binning reads. */
export interface BinningInput {
  readonly x: Float32Array;
  readonly rows: number;
  readonly cols: number;
  readonly weight?: Float32Array;
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** The float32's bits mapped so that unsigned order equals numeric order. */
function orderedBits(v: number): number {
  f32[0] = v;
  const bits = u32[0] as number;
  return bits & 0x80000000 ? ~bits >>> 0 : (bits | 0x80000000) >>> 0;
}

/**
 * LSD radix sort of uint32 keys carrying an item each, two 16-bit passes: linear time, where a comparison
 * sort of every feature's values dominated binning.
 */
class RadixSorter {
  readonly keys: Uint32Array;
  readonly items: Uint32Array;
  private readonly keysTmp: Uint32Array;
  private readonly itemsTmp: Uint32Array;
  private readonly counts = new Uint32Array(1 << 16);

  constructor(capacity: number) {
    this.keys = new Uint32Array(capacity);
    this.items = new Uint32Array(capacity);
    this.keysTmp = new Uint32Array(capacity);
    this.itemsTmp = new Uint32Array(capacity);
  }

  /** Sorts the first n keys ascending (in place) and returns their items in that order. */
  sort(n: number): Uint32Array {
    this.pass(n, this.keys, this.items, this.keysTmp, this.itemsTmp, 0);
    this.pass(n, this.keysTmp, this.itemsTmp, this.keys, this.items, 16);
    return this.items.subarray(0, n);
  }

  private pass(
    n: number,
    keys: Uint32Array,
    items: Uint32Array,
    keysOut: Uint32Array,
    itemsOut: Uint32Array,
    shift: number,
  ): void {
    const counts = this.counts.fill(0);
    for (let k = 0; k < n; k++) {
      const digit = ((keys[k] as number) >>> shift) & 0xffff;
      counts[digit] = (counts[digit] as number) + 1;
    }
    let sum = 0;
    for (let b = 0; b < counts.length; b++) {
      const c = counts[b] as number;
      counts[b] = sum;
      sum += c;
    }
    for (let k = 0; k < n; k++) {
      const key = keys[k] as number;
      const digit = (key >>> shift) & 0xffff;
      const at = counts[digit] as number;
      counts[digit] = at + 1;
      keysOut[at] = key;
      itemsOut[at] = items[k] as number;
    }
  }
}

/** Binned training matrix: bin edges per feature and the bins, column-major (feature f at f·rows). */
export interface BinnedMatrix {
  readonly edges: Float64Array[];
  readonly columns: Uint8Array;
}

/** Features whose values one pass over the rows collects: a row's run of them shares cache lines. */
const FEATURE_BLOCK = 8;

/**
 * Bins a training matrix. Edges: a finite x goes to bin 1 + (first i with x ≤ edges[i]); bin 0 is for
 * missing values; cuts sit at weighted quantiles, so heavy rows get finer bins (XGBoost's hist sketch
 * weighs rows by sample weight too). When every row was sampled, the sort that placed the edges also
 * assigns the bins, in one forward walk instead of a binary search per value.
 */
export function binTrainingMatrix(data: BinningInput, maxBins: number): BinnedMatrix {
  const { rows, cols, x, weight } = data;
  const step = Math.max(1, Math.ceil(rows / BIN_SAMPLE_ROWS));
  const sampled = Math.ceil(rows / step);
  const sorters = Array.from({ length: Math.min(FEATURE_BLOCK, cols) }, () => new RadixSorter(sampled));
  const counts = new Int32Array(FEATURE_BLOCK);
  const values = new Float32Array(sampled);
  const weights = new Float64Array(sampled);
  const columns = new Uint8Array(rows * cols);
  const edges: Float64Array[] = [];
  for (let first = 0; first < cols; first += FEATURE_BLOCK) {
    const width = Math.min(FEATURE_BLOCK, cols - first);
    counts.fill(0);
    for (let r = 0, i = 0; r < rows; r += step, i++) {
      const offset = r * cols + first;
      for (let k = 0; k < width; k++) {
        const v = x[offset + k] as number;
        if (Number.isNaN(v)) continue;
        const sorter = sorters[k] as RadixSorter;
        const n = counts[k] as number;
        sorter.keys[n] = orderedBits(v);
        sorter.items[n] = i;
        counts[k] = n + 1;
      }
    }
    for (let k = 0; k < width; k++) {
      const sorter = sorters[k] as RadixSorter;
      const n = counts[k] as number;
      const items = sorter.sort(n);
      for (let j = 0; j < n; j++) {
        values[j] = valueOfBits(sorter.keys[j] as number);
        weights[j] = weight ? (weight[(items[j] as number) * step] as number) : 1;
      }
      const e = edgesFromSorted(values, weights, n, maxBins);
      edges.push(e);
      if (step === 1) {
        const column = columns.subarray((first + k) * rows, (first + k + 1) * rows);
        let bin = 0;
        for (let j = 0; j < n; j++) {
          while ((values[j] as number) > (e[bin] as number)) bin++;
          column[items[j] as number] = bin + 1;
        }
      }
    }
  }
  if (step > 1) {
    for (let r = 0; r < rows; r++)
      for (let f = 0; f < cols; f++)
        columns[f * rows + r] = binOf(x[r * cols + f] as number, edges[f] as Float64Array);
  }
  return { edges, columns };
}

/** The float32 value of orderedBits' output. */
function valueOfBits(u: number): number {
  u32[0] = u & 0x80000000 ? u & 0x7fffffff : ~u >>> 0;
  return f32[0] as number;
}

/** Upper bin edges of one feature from its n sorted finite values and their weights. */
function edgesFromSorted(
  values: Float32Array,
  weights: Float64Array,
  n: number,
  maxBins: number,
): Float64Array {
  const distinct: number[] = [];
  const distinctWeight: number[] = [];
  let total = 0;
  for (let k = 0; k < n; k++) {
    const v = values[k] as number;
    const w = weights[k] as number;
    total += w;
    const d = distinct.length;
    if (d > 0 && v === distinct[d - 1]) distinctWeight[d - 1] = (distinctWeight[d - 1] as number) + w;
    else {
      distinct.push(v);
      distinctWeight.push(w);
    }
  }
  const d = distinct.length;
  let cuts: number[];
  if (d <= maxBins) {
    cuts = distinct;
  } else {
    // Close a bin at the first value whose cumulative weight reaches the next of maxBins equal shares.
    cuts = [];
    let cumulative = 0;
    let next = 1;
    for (let k = 0; k < d - 1 && cuts.length < maxBins - 1; k++) {
      cumulative += distinctWeight[k] as number;
      if (cumulative >= (next * total) / maxBins) {
        cuts.push(distinct[k] as number);
        next = Math.floor((cumulative * maxBins) / total) + 1;
      }
    }
    cuts.push(distinct[d - 1] as number);
  }
  // Midpoints between cut values generalise to unseen values; the last bin is open-ended.
  const featureEdges = new Float64Array(Math.max(1, cuts.length));
  for (let i = 0; i < cuts.length - 1; i++)
    featureEdges[i] = ((cuts[i] as number) + (cuts[i + 1] as number)) / 2;
  featureEdges[featureEdges.length - 1] = Number.POSITIVE_INFINITY;
  return featureEdges;
}

/** Bin (0 = missing) of value v under one feature's edges. */
function binOf(v: number, e: Float64Array): number {
  if (Number.isNaN(v)) return 0;
  let lo = 0;
  let hi = e.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (v <= (e[mid] as number)) hi = mid;
    else lo = mid + 1;
  }
  return lo + 1;
}

/** Maps every value to its bin (0 = missing), row-major like the input. */
export function binMatrix(
  data: Pick<BinningInput, 'x' | 'rows' | 'cols'>,
  edges: Float64Array[],
): Uint8Array {
  const { rows, cols, x } = data;
  const bins = new Uint8Array(rows * cols);
  for (let f = 0; f < cols; f++) {
    const e = edges[f] as Float64Array;
    for (let r = 0; r < rows; r++) bins[r * cols + f] = binOf(x[r * cols + f] as number, e);
  }
  return bins;
}
