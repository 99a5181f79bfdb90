/**
 * Histogram-based gradient-boosted regression trees (the LightGBM / XGBoost "hist" method), written by
 * hand in typed arrays because no maintained GBDT exists on npm. Leaf-wise growth with histogram
 * subtraction, quantile binning with a missing-value bin, L2 / Poisson / Tweedie objectives, per-tree
 * feature sampling from a seeded PRNG, and early stopping on a validation set.
 */

import { binMatrix, binTrainingMatrix } from './binning.js';
import {
  clearGradientSums,
  histogramLayout,
  HistogramWorkspace,
  subtractHistogram,
  type HistogramLayout,
} from './histogram.js';

/** Loss the trees minimise. Poisson and Tweedie use a log link (raw score = log of the prediction). */
export type Objective = 'l2' | 'poisson' | 'tweedie';

/** Hyper-parameters; defaults follow common LightGBM settings. */
export interface GbdtParams {
  objective: Objective;
  /** Tweedie variance power p in (1, 2). */
  tweedieVariancePower: number;
  learningRate: number;
  maxTrees: number;
  maxLeaves: number;
  maxDepth: number;
  minDataInLeaf: number;
  minSumHessian: number;
  lambdaL2: number;
  /** Value bins per feature (bin 0 is reserved for missing values). */
  maxBins: number;
  /** Share of features each tree may split on. */
  featureFraction: number;
  /** Stop when the validation error has not improved for this many trees. */
  earlyStoppingRounds: number;
  seed: number;
}

/** Default hyper-parameters. */
export const DEFAULT_GBDT_PARAMS: GbdtParams = {
  objective: 'l2',
  tweedieVariancePower: 1.5,
  learningRate: 0.08,
  maxTrees: 300,
  maxLeaves: 31,
  maxDepth: 8,
  minDataInLeaf: 20,
  minSumHessian: 1e-3,
  lambdaL2: 1,
  maxBins: 255,
  featureFraction: 0.8,
  earlyStoppingRounds: 30,
  seed: 1,
};

/** A row-major feature matrix with targets and optional sample weights. */
export interface Dataset {
  readonly x: Float32Array;
  readonly rows: number;
  readonly cols: number;
  readonly y: Float32Array;
  readonly weight?: Float32Array;
}

/** One tree; a child index < 0 is a leaf, ~child indexes leafValue. Missing values go left. */
export interface TreeJson {
  feature: number[];
  threshold: number[];
  left: number[];
  right: number[];
  leafValue: number[];
}

/** A fitted model as stored in model.json. */
export interface GbdtModelJson {
  objective: Objective;
  featureCount: number;
  baseScore: number;
  trees: TreeJson[];
}

/** Per-tree training record. */
export interface GbdtIteration {
  tree: number;
  validError: number | null;
}

/** Result of a fit. */
export interface GbdtFit {
  model: GbdtModelJson;
  /** Trees kept (the best validation iteration when early stopping ran). */
  bestIteration: number;
  /** Validation WAPE-style error at the best iteration, null without a validation set. */
  bestValidError: number | null;
  history: GbdtIteration[];
}

/** Thrown for inputs the trainer cannot use. */
export class GbdtInputError extends Error {
  readonly code = 'GBDT_INPUT';
  constructor(message: string) {
    super(message);
    this.name = 'GbdtInputError';
  }
}

/** A threshold below every finite value: such a split sends only missing values left. */
const MISSING_ONLY = -Number.MAX_VALUE;
/** Stands in for the histogram of a leaf that will not be split. */
const NO_HISTOGRAM = new Float64Array(0);
/** XGBoost's default max_delta_step for Poisson, keeps early log-link steps from exploding. */
const POISSON_MAX_DELTA_STEP = 0.7;

/** mulberry32: small, fast, seedable PRNG so every fit is reproducible per seed. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface SplitCandidate {
  gain: number;
  feature: number;
  bin: number;
  leftG: number;
  leftH: number;
  leftCount: number;
}

interface GrowingLeaf {
  start: number;
  end: number;
  depth: number;
  sumG: number;
  sumH: number;
  hist: Float64Array;
  best: SplitCandidate | null;
  /** Where this leaf hangs: parent node index and side, or -1 for the root. */
  parent: number;
  isLeft: boolean;
}

/** Converts raw scores to predictions for the objective. */
export function transformRaw(objective: Objective, raw: number): number {
  return objective === 'l2' ? raw : Math.exp(raw);
}

function computeGradients(
  params: GbdtParams,
  y: Float32Array,
  weight: Float32Array | undefined,
  raw: Float64Array,
  gh: Float32Array,
): void {
  const n = y.length;
  const p = params.tweedieVariancePower;
  for (let i = 0; i < n; i++) {
    const w = weight ? (weight[i] as number) : 1;
    const yi = y[i] as number;
    const s = raw[i] as number;
    if (params.objective === 'l2') {
      gh[2 * i] = w * (s - yi);
      gh[2 * i + 1] = w;
    } else if (params.objective === 'poisson') {
      gh[2 * i] = w * (Math.exp(s) - yi);
      gh[2 * i + 1] = w * Math.exp(s + POISSON_MAX_DELTA_STEP);
    } else {
      const a = Math.exp((1 - p) * s);
      const b = Math.exp((2 - p) * s);
      gh[2 * i] = w * (-yi * a + b);
      gh[2 * i + 1] = w * (-yi * (1 - p) * a + (2 - p) * b);
    }
  }
}

function initialScore(params: GbdtParams, data: Dataset): number {
  let sumWy = 0;
  let sumW = 0;
  for (let i = 0; i < data.rows; i++) {
    const w = data.weight ? (data.weight[i] as number) : 1;
    sumWy += w * (data.y[i] as number);
    sumW += w;
  }
  const mean = sumW > 0 ? sumWy / sumW : 0;
  return params.objective === 'l2' ? mean : Math.log(Math.max(mean, 1e-6));
}

/** Weighted absolute error over weighted actuals: WAPE when y is the scaled target and w the scale. */
function weightedAbsoluteError(objective: Objective, data: Dataset, raw: Float64Array): number {
  let err = 0;
  let total = 0;
  for (let i = 0; i < data.rows; i++) {
    const w = data.weight ? (data.weight[i] as number) : 1;
    const yi = data.y[i] as number;
    err += w * Math.abs(yi - transformRaw(objective, raw[i] as number));
    total += w * Math.abs(yi);
  }
  return total > 0 ? err / total : err;
}

/** Fits boosted trees on `train`, early-stopping on `valid` when given. */
export function fitGbdt(
  train: Dataset,
  options: Partial<GbdtParams> = {},
  valid?: Dataset,
  onIteration?: (iteration: GbdtIteration) => void,
): GbdtFit {
  const params: GbdtParams = { ...DEFAULT_GBDT_PARAMS, ...options };
  validateInput(train, params, valid);
  const { rows, cols } = train;
  const { edges, columns } = binTrainingMatrix(train, params.maxBins);
  // Compact histogram: feature f owns edges[f].length + 1 bins (bin 0 = missing).
  const layout = histogramLayout(edges);
  // The workspace keeps column-major bins for the partition (one column per split) and row-major slots for
  // the histograms. Live histograms: one per leaf at most (a leaf holds at least one row), and the cached
  // root hessians.
  const histograms = Math.min(params.maxLeaves, rows) + 1;
  const workspace = new HistogramWorkspace(columns, rows, cols, layout, histograms);
  // Gradient and hessian of row r at 2r and 2r + 1: one array, one cache line for both.
  const gh = workspace.gh;
  const validBins = valid ? binMatrix(valid, edges) : null;
  const random = seededRandom(params.seed);
  const baseScore = initialScore(params, train);
  const raw = new Float64Array(rows).fill(baseScore);
  const validRaw = valid ? new Float64Array(valid.rows).fill(baseScore) : null;
  const order = workspace.order;
  const trees: TreeJson[] = [];
  const binTrees: BinTree[] = [];
  const history: GbdtIteration[] = [];
  let bestIteration = 0;
  let bestValidError =
    valid && validRaw ? weightedAbsoluteError(params.objective, valid, validRaw) : Infinity;

  // Under L2 a row's hessian is its weight in every tree, so the root's hessian sums are built once.
  let rootHessian: Float64Array | null = null;
  const allFeatures = Int32Array.from({ length: cols }, (_, f) => f);

  for (let t = 0; t < params.maxTrees; t++) {
    computeGradients(params, train.y, train.weight, raw, gh);
    const features = sampleFeatures(cols, params.featureFraction, random);
    for (let i = 0; i < rows; i++) order[i] = i;
    if (params.objective === 'l2' && rootHessian === null) {
      rootHessian = workspace.takeHistogram();
      workspace.setFeatures(allFeatures);
      workspace.buildLeaf(rootHessian, 0, rows);
      clearGradientSums(rootHessian);
    }
    workspace.setFeatures(features);
    const tree = growTree(params, rows, features, layout, workspace, rootHessian);
    // Leaves own contiguous ranges of `order`, so updating training scores needs no traversal.
    for (const leaf of tree.leaves) {
      for (let i = leaf.start; i < leaf.end; i++) {
        const r = order[i] as number;
        raw[r] = (raw[r] as number) + leaf.value;
      }
    }
    const binTree = tree.binTree;
    binTrees.push(binTree);
    trees.push(toTreeJson(binTree, edges));
    let validError: number | null = null;
    if (valid && validBins && validRaw) {
      for (let r = 0; r < valid.rows; r++)
        validRaw[r] = (validRaw[r] as number) + predictBinTree(binTree, validBins, r * cols);
      validError = weightedAbsoluteError(params.objective, valid, validRaw);
      if (validError < bestValidError - 1e-12) {
        bestValidError = validError;
        bestIteration = t + 1;
      }
    } else {
      bestIteration = t + 1;
    }
    const iteration = { tree: t + 1, validError };
    history.push(iteration);
    onIteration?.(iteration);
    if (valid && t + 1 - bestIteration >= params.earlyStoppingRounds) break;
    if (tree.leaves.length === 1 && tree.leaves[0]?.value === 0) break;
  }
  return {
    model: {
      objective: params.objective,
      featureCount: cols,
      baseScore,
      trees: trees.slice(0, bestIteration),
    },
    bestIteration,
    bestValidError: valid ? bestValidError : null,
    history,
  };
}

function validateInput(train: Dataset, params: GbdtParams, valid?: Dataset): void {
  if (train.rows === 0) throw new GbdtInputError('training set is empty');
  if (train.x.length !== train.rows * train.cols || train.y.length !== train.rows)
    throw new GbdtInputError('training matrix, targets and row count disagree');
  if (valid && valid.cols !== train.cols) throw new GbdtInputError('validation set has another column count');
  if (params.maxBins < 2 || params.maxBins > 255) throw new GbdtInputError('maxBins must be in 2…255');
  if (params.objective !== 'l2') {
    for (let i = 0; i < train.rows; i++)
      if ((train.y[i] as number) < 0) throw new GbdtInputError(`${params.objective} needs targets ≥ 0`);
  }
}

/** The features one tree may use, ascending; a seeded partial shuffle picks them. */
function sampleFeatures(cols: number, fraction: number, random: () => number): Int32Array {
  const ids = Array.from({ length: cols }, (_, i) => i);
  if (fraction >= 1) return Int32Array.from(ids);
  const keep = Math.max(1, Math.round(cols * fraction));
  for (let i = 0; i < keep; i++) {
    const j = i + Math.floor(random() * (cols - i));
    const chosen = ids[j] as number;
    ids[j] = ids[i] as number;
    ids[i] = chosen;
  }
  return Int32Array.from(ids.slice(0, keep)).sort();
}

/** A tree over bins, used during training (and for the validation set). */
interface BinTree {
  feature: Int32Array;
  bin: Int32Array;
  left: Int32Array;
  right: Int32Array;
  leafValue: Float64Array;
}

function predictBinTree(tree: BinTree, bins: Uint8Array, rowOffset: number): number {
  let node = 0;
  if (tree.feature.length === 0) return tree.leafValue[0] as number;
  for (;;) {
    const f = tree.feature[node] as number;
    const next =
      (bins[rowOffset + f] as number) <= (tree.bin[node] as number) ? tree.left[node] : tree.right[node];
    if ((next as number) < 0) return tree.leafValue[~(next as number)] as number;
    node = next as number;
  }
}

function toTreeJson(tree: BinTree, edges: Float64Array[]): TreeJson {
  const threshold = Array.from(tree.bin, (bin, node) => {
    if (bin === 0) return MISSING_ONLY;
    return (edges[tree.feature[node] as number] as Float64Array)[bin - 1] as number;
  });
  return {
    feature: Array.from(tree.feature),
    threshold,
    left: Array.from(tree.left),
    right: Array.from(tree.right),
    leafValue: Array.from(tree.leafValue),
  };
}

function findBestSplit(
  params: GbdtParams,
  hist: Float64Array,
  features: Int32Array,
  layout: HistogramLayout,
  sumG: number,
  sumH: number,
  count: number,
): SplitCandidate | null {
  const lambda = params.lambdaL2;
  const parentScore = (sumG * sumG) / (sumH + lambda);
  // Like LightGBM, bins hold no row counts: a side's count is estimated from its hessian share.
  const countPerHessian = count / sumH;
  const minData = params.minDataInLeaf;
  const minHessian = params.minSumHessian;
  // The best split so far in locals: no object per improvement in this hot loop.
  let bestGain = 1e-12;
  let bestFeature = -1;
  let bestBin = 0;
  let bestG = 0;
  let bestH = 0;
  for (let k = 0; k < features.length; k++) {
    const f = features[k] as number;
    let gl = 0;
    let hl = 0;
    const base = layout.base[f] as number;
    // The last bin cannot be a split point: everything would go left.
    const last = (layout.bins[f] as number) - 1;
    for (let b = 0; b < last; b++) {
      const j = base + (b << 1);
      gl += hist[j] as number;
      hl += hist[j + 1] as number;
      const cl = hl * countPerHessian;
      if (cl < minData || hl < minHessian) continue;
      const hr = sumH - hl;
      if (count - cl < minData || hr < minHessian) break;
      const gr = sumG - gl;
      const gain = (gl * gl) / (hl + lambda) + (gr * gr) / (hr + lambda) - parentScore;
      if (gain > bestGain) {
        bestGain = gain;
        bestFeature = f;
        bestBin = b;
        bestG = gl;
        bestH = hl;
      }
    }
  }
  if (bestFeature < 0) return null;
  return {
    gain: bestGain,
    feature: bestFeature,
    bin: bestBin,
    leftG: bestG,
    leftH: bestH,
    leftCount: Math.round(bestH * countPerHessian),
  };
}

function gradientSums(gh: Float32Array, rows: number): [number, number] {
  let sumG = 0;
  let sumH = 0;
  for (let i = 0; i < rows; i++) {
    sumG += gh[2 * i] as number;
    sumH += gh[2 * i + 1] as number;
  }
  return [sumG, sumH];
}

function growTree(
  params: GbdtParams,
  rows: number,
  features: Int32Array,
  layout: HistogramLayout,
  workspace: HistogramWorkspace,
  rootHessian: Float64Array | null,
): { binTree: BinTree; leaves: { start: number; end: number; value: number }[] } {
  const [sumG, sumH] = gradientSums(workspace.gh, rows);
  const rootHist = workspace.takeHistogram();
  if (rootHessian) {
    rootHist.set(rootHessian);
    workspace.buildRootGradients(rootHist);
  } else {
    workspace.buildLeaf(rootHist, 0, rows);
  }
  const root: GrowingLeaf = {
    start: 0,
    end: rows,
    depth: 0,
    sumG,
    sumH,
    hist: rootHist,
    best: null,
    parent: -1,
    isLeft: false,
  };
  root.best = findBestSplit(params, rootHist, features, layout, sumG, sumH, rows);
  const leaves: GrowingLeaf[] = [root];
  const feature: number[] = [];
  const bin: number[] = [];
  const left: number[] = [];
  const right: number[] = [];

  while (leaves.length < params.maxLeaves) {
    let pick = -1;
    for (let i = 0; i < leaves.length; i++) {
      const candidate = (leaves[i] as GrowingLeaf).best;
      if (
        candidate &&
        (pick < 0 || candidate.gain > ((leaves[pick] as GrowingLeaf).best as SplitCandidate).gain)
      )
        pick = i;
    }
    if (pick < 0) break;
    const leaf = leaves[pick] as GrowingLeaf;
    const split = leaf.best as SplitCandidate;
    const l = workspace.partition(leaf.start, leaf.end, split.feature, split.bin);
    const node = feature.length;
    feature.push(split.feature);
    bin.push(split.bin);
    left.push(0);
    right.push(0);
    if (leaf.parent >= 0) (leaf.isLeft ? left : right)[leaf.parent] = node;
    const leftLeaf: GrowingLeaf = {
      start: leaf.start,
      end: l,
      depth: leaf.depth + 1,
      sumG: split.leftG,
      sumH: split.leftH,
      hist: leaf.hist,
      best: null,
      parent: node,
      isLeft: true,
    };
    const rightLeaf: GrowingLeaf = {
      start: l,
      end: leaf.end,
      depth: leaf.depth + 1,
      sumG: leaf.sumG - split.leftG,
      sumH: leaf.sumH - split.leftH,
      hist: leaf.hist,
      best: null,
      parent: node,
      isLeft: false,
    };
    const splittable = (child: GrowingLeaf): boolean =>
      leaves.length + 1 < params.maxLeaves &&
      child.depth < params.maxDepth &&
      child.end - child.start >= 2 * params.minDataInLeaf;
    if (!splittable(leftLeaf) && !splittable(rightLeaf)) {
      // Neither child will be split (the tree is full or they are too deep or small): no histograms.
      leftLeaf.hist = leaf.hist;
      rightLeaf.hist = NO_HISTOGRAM;
      leaves.splice(pick, 1, leftLeaf, rightLeaf);
      continue;
    }
    // Histogram subtraction: build the smaller child, derive the larger from the parent.
    const [small, large] =
      leftLeaf.end - leftLeaf.start <= rightLeaf.end - rightLeaf.start
        ? [leftLeaf, rightLeaf]
        : [rightLeaf, leftLeaf];
    const smallHist = workspace.takeHistogram();
    workspace.buildLeaf(smallHist, small.start, small.end);
    const parentHist = leaf.hist;
    subtractHistogram(parentHist, smallHist, features, layout);
    small.hist = smallHist;
    large.hist = parentHist;
    for (const child of [leftLeaf, rightLeaf]) {
      child.best = splittable(child)
        ? findBestSplit(params, child.hist, features, layout, child.sumG, child.sumH, child.end - child.start)
        : null;
    }
    leaves.splice(pick, 1, leftLeaf, rightLeaf);
  }

  const leafValue = new Float64Array(leaves.length);
  const out: { start: number; end: number; value: number }[] = [];
  leaves.forEach((leaf, i) => {
    const value = (-leaf.sumG / (leaf.sumH + params.lambdaL2)) * params.learningRate;
    leafValue[i] = value;
    out.push({ start: leaf.start, end: leaf.end, value });
    if (leaf.parent >= 0) (leaf.isLeft ? left : right)[leaf.parent] = ~i;
    if (leaf.hist !== NO_HISTOGRAM) workspace.releaseHistogram(leaf.hist);
  });
  return {
    binTree: {
      feature: Int32Array.from(feature),
      bin: Int32Array.from(bin),
      left: Int32Array.from(left),
      right: Int32Array.from(right),
      leafValue,
    },
    leaves: out,
  };
}

/** A model flattened into typed arrays for fast scoring. */
export interface CompiledGbdt {
  readonly objective: Objective;
  readonly featureCount: number;
  readonly baseScore: number;
  readonly roots: Int32Array;
  readonly feature: Int32Array;
  readonly threshold: Float64Array;
  readonly left: Int32Array;
  readonly right: Int32Array;
  /** Leaf values of all trees; a tree's leaf i is at leafBase[tree] + i. */
  readonly leafValue: Float64Array;
  readonly leafBase: Int32Array;
}

/** Flattens a stored model for prediction. */
export function compileGbdt(model: GbdtModelJson): CompiledGbdt {
  const nodes = model.trees.reduce((n, t) => n + t.feature.length, 0);
  const leafCount = model.trees.reduce((n, t) => n + t.leafValue.length, 0);
  const compiled = {
    objective: model.objective,
    featureCount: model.featureCount,
    baseScore: model.baseScore,
    roots: new Int32Array(model.trees.length),
    feature: new Int32Array(nodes),
    threshold: new Float64Array(nodes),
    left: new Int32Array(nodes),
    right: new Int32Array(nodes),
    leafValue: new Float64Array(leafCount),
    leafBase: new Int32Array(model.trees.length),
  };
  let nodeBase = 0;
  let leafBase = 0;
  model.trees.forEach((tree, t) => {
    // A root of -1 marks a single-leaf tree.
    compiled.roots[t] = tree.feature.length === 0 ? -1 : nodeBase;
    compiled.leafBase[t] = leafBase;
    for (let i = 0; i < tree.feature.length; i++) {
      compiled.feature[nodeBase + i] = tree.feature[i] as number;
      compiled.threshold[nodeBase + i] = tree.threshold[i] as number;
      const l = tree.left[i] as number;
      const r = tree.right[i] as number;
      compiled.left[nodeBase + i] = l < 0 ? l : l + nodeBase;
      compiled.right[nodeBase + i] = r < 0 ? r : r + nodeBase;
    }
    compiled.leafValue.set(tree.leafValue, leafBase);
    nodeBase += tree.feature.length;
    leafBase += tree.leafValue.length;
  });
  return compiled;
}

/** Prediction (on the objective's scale) for the row starting at x[offset]. */
export function predictRow(model: CompiledGbdt, x: Float32Array, offset: number): number {
  let raw = model.baseScore;
  const { roots, feature, threshold, left, right, leafValue, leafBase } = model;
  for (let t = 0; t < roots.length; t++) {
    let node = roots[t] as number;
    if (node < 0) {
      raw += leafValue[leafBase[t] as number] as number;
      continue;
    }
    for (;;) {
      const v = x[offset + (feature[node] as number)] as number;
      const next =
        Number.isNaN(v) || v <= (threshold[node] as number)
          ? (left[node] as number)
          : (right[node] as number);
      if (next < 0) {
        raw += leafValue[(leafBase[t] as number) + ~next] as number;
        break;
      }
      node = next;
    }
  }
  return transformRaw(model.objective, raw);
}
