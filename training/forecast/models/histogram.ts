/**
 * Gradient histograms, the inner loop of the hist GBDT. Gradients are float32 (g, h) pairs in one array,
 * as XGBoost stores them, summed into double-precision histograms holding a (Σg, Σh) pair per bin of every
 * feature. Rows are read from a row-major matrix of histogram slots (XGBoost's row-wise layout with bin
 * offsets folded in): row r's feature f at r·cols + f holds the index of its bin's pair in the histogram.
 * The loops over rows run as WebAssembly (histogramWasm.ts) over one memory that holds every array they
 * read or write; HistogramWorkspace owns it.
 */
import { createKernelMemory, instantiateHistogramKernels, type HistogramKernels } from './histogramWasm.js';

/** Where each feature's bins sit in a compact histogram. */
export interface HistogramLayout {
  /** First slot of feature f's pairs in the histogram array (already × 2). */
  readonly base: Int32Array;
  /** Bins of feature f, the missing-value bin included. */
  readonly bins: Int32Array;
  /** Length of a histogram array: two doubles per bin. */
  readonly size: number;
}

/**
 * Per row and feature, the histogram pair its bin adds to: row-major, so a row's features share one or two
 * cache lines. Measured against column-major bins (eight columns per pass) on the bench:train matrix, per
 * feature and row: 1.2 vs 1.9 ns for the root and 1.8–3.5 vs 2.7–5.3 ns for leaves (smaller leaves cost
 * more: their rows are scattered, and column-major they touch one cache line per row and feature).
 */
export type BinSlots = Uint16Array | Uint32Array;

/** Lays out the bins of every feature back to back (bin 0 of each feature is its missing-value bin). */
export function histogramLayout(edges: readonly Float64Array[]): HistogramLayout {
  const base = new Int32Array(edges.length);
  const bins = new Int32Array(edges.length);
  let total = 0;
  edges.forEach((e, f) => {
    base[f] = total * 2;
    bins[f] = e.length + 1;
    total += e.length + 1;
  });
  return { base, bins, size: total * 2 };
}

/** Bytes per slot: two while every slot index fits, which halves the memory the row walk reads. */
function slotBytesFor(layout: HistogramLayout): 2 | 4 {
  return layout.size / 2 <= 0x10000 ? 2 : 4;
}

/** Fills `slots` (rows × cols, row-major) from column-major bins (feature f's bins at f·rows …). */
function fillSlots(
  slots: BinSlots,
  columns: Uint8Array,
  rows: number,
  cols: number,
  layout: HistogramLayout,
): void {
  for (let f = 0; f < cols; f++) {
    const column = columns.subarray(f * rows, (f + 1) * rows);
    const first = (layout.base[f] as number) >> 1;
    for (let r = 0, k = f; r < rows; r++, k += cols) slots[k] = first + (column[r] as number);
  }
}

/** Rounds a byte offset up to a 64-byte boundary (cache lines; 16 would do for f64x2 adds). */
function aligned(offset: number): number {
  return Math.ceil(offset / 64) * 64;
}

/**
 * The memory the kernels work in, and views of it: the slot matrix, the column-major bins (for the
 * partition), the row order (leaves own contiguous ranges of it), the gradients in natural row order, and a
 * fixed pool of histograms.
 */
export class HistogramWorkspace {
  /** Row-major slots (see BinSlots). */
  readonly slots: BinSlots;
  /** Row indexes; growTree partitions it so that each leaf's rows are one ascending range. */
  readonly order: Uint32Array;
  /** (g, h) of row r at 2r and 2r + 1. */
  readonly gh: Float32Array;
  private readonly orderedGh: Float32Array;
  private readonly columns: Uint8Array;
  private readonly scratch: Uint32Array;
  private readonly featureOffsets: Int32Array;
  private featureCount: number;
  private readonly free: Float64Array[];
  private readonly kernels: HistogramKernels;
  private readonly rowBytes: number;
  private readonly wide: boolean;
  private readonly buffer: ArrayBuffer;

  /** Sets up a memory for `rows` × `cols` slots and `histograms` histograms of layout.size doubles. */
  constructor(
    columns: Uint8Array,
    readonly rows: number,
    readonly cols: number,
    readonly layout: HistogramLayout,
    histograms: number,
  ) {
    const slotBytes = slotBytesFor(layout);
    this.wide = slotBytes === 4;
    this.rowBytes = cols * slotBytes;
    let end = 0;
    const reserve = (bytes: number): number => {
      const start = end;
      end = aligned(end + bytes);
      return start;
    };
    const histogramBytes = aligned(layout.size * 8);
    const at = {
      slots: reserve(rows * cols * slotBytes),
      columns: reserve(rows * cols),
      order: reserve(rows * 4),
      scratch: reserve(rows * 4),
      gh: reserve(rows * 8),
      orderedGh: reserve(rows * 8),
      features: reserve(cols * 4),
      histograms: reserve(histograms * histogramBytes),
    };
    const memory = createKernelMemory(end);
    const buffer = memory.buffer;
    this.buffer = buffer;
    this.slots =
      slotBytes === 2
        ? new Uint16Array(buffer, at.slots, rows * cols)
        : new Uint32Array(buffer, at.slots, rows * cols);
    fillSlots(this.slots, columns, rows, cols, layout);
    this.columns = new Uint8Array(buffer, at.columns, rows * cols);
    this.columns.set(columns.subarray(0, rows * cols));
    this.order = new Uint32Array(buffer, at.order, rows);
    this.scratch = new Uint32Array(buffer, at.scratch, rows);
    this.gh = new Float32Array(buffer, at.gh, 2 * rows);
    this.orderedGh = new Float32Array(buffer, at.orderedGh, 2 * rows);
    this.featureOffsets = new Int32Array(buffer, at.features, cols);
    this.featureCount = cols;
    this.free = Array.from(
      { length: histograms },
      (_, i) => new Float64Array(buffer, at.histograms + i * histogramBytes, layout.size),
    );
    this.kernels = instantiateHistogramKernels(memory);
  }

  /**
   * Splits order[start…end) stably: rows whose bin of `feature` is ≤ `bin` first, then the others, each
   * part in its previous order (so results do not depend on history). Returns where the second part starts.
   */
  partition(start: number, end: number, feature: number, bin: number): number {
    const n = end - start;
    if (n <= 0) return start;
    const left = this.kernels.partition(
      this.order.byteOffset + start * 4,
      n,
      this.columns.byteOffset + feature * this.rows,
      bin,
      this.scratch.byteOffset,
    );
    this.order.set(this.scratch.subarray(0, n - left), start + left);
    return start + left;
  }

  /** The features the following builds cover (ascending ids); the others' bins are left as they are. */
  setFeatures(features: Int32Array): void {
    this.featureCount = features.length;
    const slotBytes = this.rowBytes / Math.max(1, this.cols);
    for (let k = 0; k < features.length; k++) this.featureOffsets[k] = (features[k] as number) * slotBytes;
  }

  /** A zeroed histogram from the pool; throws when all are in use. */
  takeHistogram(): Float64Array {
    const hist = this.free.pop();
    if (!hist) throw new Error('histogram pool exhausted');
    return hist.fill(0);
  }

  /** Returns a histogram to the pool. */
  releaseHistogram(hist: Float64Array): void {
    this.free.push(hist);
  }

  /**
   * Adds the rows order[start…end) into hist. Their (g, h) pairs are first gathered into leaf order
   * ("ordered gradients", as LightGBM), so the row loop reads them sequentially.
   */
  buildLeaf(hist: Float64Array, start: number, end: number): void {
    this.checkOwned(hist);
    const n = end - start;
    if (n <= 0 || this.featureCount === 0) return;
    const k = this.kernels;
    const rows = this.order.byteOffset + start * 4;
    k.gather(this.gh.byteOffset, rows, n, this.orderedGh.byteOffset);
    const args = [
      hist.byteOffset,
      this.slots.byteOffset,
      this.rowBytes,
      rows,
      this.orderedGh.byteOffset,
      n,
      this.featureOffsets.byteOffset,
      this.featureOffsets.byteOffset + 4 * this.featureCount,
    ] as const;
    if (this.featureCount === this.cols) (this.wide ? k.leaf32 : k.leaf16)(...args);
    else (this.wide ? k.leafSubset32 : k.leafSubset16)(...args);
  }

  /**
   * Root histogram when every row's hessian is the same in every tree (L2: h = weight): `hist` arrives
   * holding the hessian sums of all rows (cached once per fit) and zero gradient sums, and only gradients
   * are added, which halves the adds of the one histogram that covers every row.
   */
  buildRootGradients(hist: Float64Array): void {
    this.checkOwned(hist);
    if (this.rows === 0 || this.featureCount === 0) return;
    const k = this.kernels;
    const args = [
      hist.byteOffset,
      this.slots.byteOffset,
      this.rowBytes,
      this.gh.byteOffset,
      this.rows,
      this.featureOffsets.byteOffset,
      this.featureOffsets.byteOffset + 4 * this.featureCount,
    ] as const;
    if (this.featureCount === this.cols) (this.wide ? k.rootGradients32 : k.rootGradients16)(...args);
    else (this.wide ? k.rootGradientsSubset32 : k.rootGradientsSubset16)(...args);
  }

  /** The kernels address memory by offset: a histogram from elsewhere would be written at random. */
  private checkOwned(hist: Float64Array): void {
    if (hist.buffer !== this.buffer || hist.length !== this.layout.size)
      throw new Error('histogram is not from this workspace');
  }
}

/** Zeroes the gradient sums of a histogram, keeping the hessian sums. */
export function clearGradientSums(hist: Float64Array): void {
  for (let j = 0; j < hist.length; j += 2) hist[j] = 0;
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
