/**
 * The fit's inner loops (histogram adds, the gradient gather, the row partition) as a small WebAssembly
 * module, assembled here from named instructions: written by hand like the rest of this GBDT, with no
 * toolchain and nothing fetched or compiled at install time. Why WebAssembly: the same loops in JavaScript
 * spend most of their time on typed-array bounds and map checks that V8 cannot hoist out of the loop;
 * compiled from wasm they measured 2.4–2.6× faster per add on the bench:train matrix, and a (g, h) pair is
 * added to its bin in one 128-bit f64x2 add (wasm SIMD, in Node since 16.4). Every address passed in is a
 * byte offset into the memory the instance imports as env.memory (see HistogramWorkspace).
 */

const I32 = 0x7f;
const F64 = 0x7c;
const V128 = 0x7b;

function uleb(value: number): number[] {
  const out: number[] = [];
  let n = value >>> 0;
  do {
    const byte = n & 0x7f;
    n >>>= 7;
    out.push(n ? byte | 0x80 : byte);
  } while (n);
  return out;
}

function sleb(value: number): number[] {
  const out: number[] = [];
  let n = value | 0;
  for (;;) {
    const byte = n & 0x7f;
    n >>= 7;
    if ((n === 0 && !(byte & 0x40)) || (n === -1 && byte & 0x40)) {
      out.push(byte);
      return out;
    }
    out.push(byte | 0x80);
  }
}

/** The instructions the kernels use; loads and stores carry their memarg (log2 alignment, offset 0). */
const op = {
  block: [0x02, 0x40],
  loop: [0x03, 0x40],
  end: [0x0b],
  brIf: (depth: number) => [0x0d, ...uleb(depth)],
  get: (local: number) => [0x20, ...uleb(local)],
  set: (local: number) => [0x21, ...uleb(local)],
  tee: (local: number) => [0x22, ...uleb(local)],
  i32Load: [0x28, 2, 0],
  i32Load8u: [0x2d, 0, 0],
  i64Load: [0x29, 3, 0],
  f32Load: [0x2a, 2, 0],
  f64Load: [0x2b, 3, 0],
  i32Load16u: [0x2f, 1, 0],
  i32Store: [0x36, 2, 0],
  i64Store: [0x37, 3, 0],
  f64Store: [0x39, 3, 0],
  i32Const: (value: number) => [0x41, ...sleb(value)],
  i32LtU: [0x49],
  i32GtU: [0x4b],
  i32GeU: [0x4f],
  i32Add: [0x6a],
  i32Sub: [0x6b],
  i32Mul: [0x6c],
  i32Shl: [0x74],
  i32ShrU: [0x76],
  f64Add: [0xa0],
  f64PromoteF32: [0xbb],
  v128Load: [0xfd, ...uleb(0x00), 4, 0],
  v128Store: [0xfd, ...uleb(0x0b), 4, 0],
  v128Load64Zero: [0xfd, ...uleb(0x5d), 3, 0],
  f64x2PromoteLowF32x4: [0xfd, ...uleb(0x5f)],
  f64x2Add: [0xfd, ...uleb(0xf0)],
};

interface Kernel {
  name: string;
  params: number;
  /** Result types (none but for partition). */
  results?: number[];
  /** Local declarations beyond the parameters: [count, type] pairs. */
  locals: [number, number][];
  body: number[][];
}

/** Bytes per slot: 2 (Uint16Array slots) or 4 (Uint32Array). */
type SlotBytes = 2 | 4;

function loadSlot(slotBytes: SlotBytes): number[] {
  return slotBytes === 2 ? op.i32Load16u : op.i32Load;
}

/**
 * Loops `p` over one row's slots: all of them (p from the row start to row start + rowBytes), or the
 * sampled features' (byte offsets within a row, listed from `feats` to `featsEnd`). `add` consumes the
 * slot value on the stack.
 */
function overRowSlots(
  subset: boolean,
  slotBytes: SlotBytes,
  l: { p: number; q: number; end: number; rowBytes: number; feats: number; featsEnd: number },
  add: number[][],
): number[][] {
  if (subset)
    return [
      op.get(l.feats),
      op.set(l.q),
      op.loop,
      ...[op.get(l.p), op.get(l.q), op.i32Load, op.i32Add, loadSlot(slotBytes)],
      ...add,
      ...[op.get(l.q), op.i32Const(4), op.i32Add, op.tee(l.q), op.get(l.featsEnd), op.i32LtU, op.brIf(0)],
      op.end,
    ];
  return [
    ...[op.get(l.p), op.get(l.rowBytes), op.i32Add, op.set(l.end)],
    op.loop,
    ...[op.get(l.p), loadSlot(slotBytes)],
    ...add,
    ...[op.get(l.p), op.i32Const(slotBytes), op.i32Add, op.tee(l.p), op.get(l.end), op.i32LtU, op.brIf(0)],
    op.end,
  ];
}

/**
 * leaf(hist, slots, rowBytes, rows, gh, n, feats, featsEnd): for i < n, row r = u32 rows[i] adds the float32
 * pair gh[i] (promoted to f64x2) to the pair of each of its slots. Needs rowBytes > 0 and, for a subset,
 * featsEnd > feats.
 */
function leafKernel(subset: boolean, slotBytes: SlotBytes): Kernel {
  const [hist, slots, rowBytes, rows, gh, n, feats, featsEnd] = [0, 1, 2, 3, 4, 5, 6, 7];
  const [rowsEnd, p, q, end, at, pair] = [8, 9, 10, 11, 12, 13];
  const addPair = [
    ...[op.i32Const(4), op.i32Shl, op.get(hist), op.i32Add, op.tee(at)],
    ...[op.get(at), op.v128Load, op.get(pair), op.f64x2Add, op.v128Store],
  ];
  return {
    name: `leaf${subset ? 'Subset' : ''}${slotBytes * 8}`,
    params: 8,
    locals: [
      [5, I32],
      [1, V128],
    ],
    body: [
      ...[op.get(n), op.i32Const(2), op.i32Shl, op.get(rows), op.i32Add, op.set(rowsEnd)],
      ...[op.block, op.get(rows), op.get(rowsEnd), op.i32GeU, op.brIf(0)],
      op.loop,
      ...[op.get(gh), op.v128Load64Zero, op.f64x2PromoteLowF32x4, op.set(pair)],
      ...[op.get(rows), op.i32Load, op.get(rowBytes), op.i32Mul, op.get(slots), op.i32Add, op.set(p)],
      ...overRowSlots(subset, slotBytes, { p, q, end, rowBytes, feats, featsEnd }, addPair),
      ...[op.get(gh), op.i32Const(8), op.i32Add, op.set(gh)],
      ...[op.get(rows), op.i32Const(4), op.i32Add, op.tee(rows), op.get(rowsEnd), op.i32LtU, op.brIf(0)],
      op.end,
      op.end,
    ],
  };
}

/**
 * rootGradients(hist, slots, rowBytes, gh, n, feats, featsEnd): rows 0…n in natural order add only their
 * gradient gh[2r] to the Σg half of each slot's pair.
 */
function rootGradientKernel(subset: boolean, slotBytes: SlotBytes): Kernel {
  const [hist, slots, rowBytes, gh, n, feats, featsEnd] = [0, 1, 2, 3, 4, 5, 6];
  const [ghEnd, q, end, at, g, p] = [7, 8, 9, 10, 11, 12];
  const addGradient = [
    ...[op.i32Const(4), op.i32Shl, op.get(hist), op.i32Add, op.tee(at)],
    ...[op.get(at), op.f64Load, op.get(g), op.f64Add, op.f64Store],
  ];
  return {
    name: `rootGradients${subset ? 'Subset' : ''}${slotBytes * 8}`,
    params: 7,
    locals: [
      [4, I32],
      [1, F64],
      [1, I32],
    ],
    body: [
      ...[op.get(slots), op.set(p)],
      ...[op.get(n), op.i32Const(3), op.i32Shl, op.get(gh), op.i32Add, op.set(ghEnd)],
      ...[op.block, op.get(gh), op.get(ghEnd), op.i32GeU, op.brIf(0)],
      op.loop,
      ...[op.get(gh), op.f32Load, op.f64PromoteF32, op.set(g)],
      ...overRowSlots(subset, slotBytes, { p, q, end, rowBytes, feats, featsEnd }, addGradient),
      // The all-slots loop leaves p at the next row; the subset loop does not move it.
      ...(subset ? [op.get(p), op.get(rowBytes), op.i32Add, op.set(p)] : []),
      ...[op.get(gh), op.i32Const(8), op.i32Add, op.tee(gh), op.get(ghEnd), op.i32LtU, op.brIf(0)],
      op.end,
      op.end,
    ],
  };
}

/** gather(gh, rows, n, out): out[i] = gh[rows[i]] for (g, h) pairs, moved as one 64-bit word. */
function gatherKernel(): Kernel {
  const [gh, rows, n, out] = [0, 1, 2, 3];
  const rowsEnd = 4;
  return {
    name: 'gather',
    params: 4,
    locals: [[1, I32]],
    body: [
      ...[op.get(n), op.i32Const(2), op.i32Shl, op.get(rows), op.i32Add, op.set(rowsEnd)],
      ...[op.block, op.get(rows), op.get(rowsEnd), op.i32GeU, op.brIf(0)],
      op.loop,
      ...[
        op.get(out),
        op.get(rows),
        op.i32Load,
        op.i32Const(3),
        op.i32Shl,
        op.get(gh),
        op.i32Add,
        op.i64Load,
      ],
      op.i64Store,
      ...[op.get(out), op.i32Const(8), op.i32Add, op.set(out)],
      ...[op.get(rows), op.i32Const(4), op.i32Add, op.tee(rows), op.get(rowsEnd), op.i32LtU, op.brIf(0)],
      op.end,
      op.end,
    ],
  };
}

/**
 * partition(rows, n, column, bin, scratch) → left count: a stable partition of the n u32 row indexes at
 * `rows` by their u8 bin in `column` (≤ bin stays in front, in place; the rest go to `scratch`, in order).
 * Branch-free: which side a row goes is a coin toss to a branch predictor, so every row is written to both
 * places and only the two write positions move by the comparison's 0 / 1.
 */
function partitionKernel(): Kernel {
  const [rows, n, column, bin, scratch] = [0, 1, 2, 3, 4];
  const [end, left, start, r] = [5, 6, 7, 8];
  return {
    name: 'partition',
    params: 5,
    results: [I32],
    locals: [[4, I32]],
    body: [
      ...[
        op.get(rows),
        op.tee(start),
        op.tee(left),
        op.get(n),
        op.i32Const(2),
        op.i32Shl,
        op.i32Add,
        op.set(end),
      ],
      ...[op.block, op.get(rows), op.get(end), op.i32GeU, op.brIf(0)],
      op.loop,
      ...[op.get(rows), op.i32Load, op.set(r)],
      ...[op.get(left), op.get(r), op.i32Store, op.get(scratch), op.get(r), op.i32Store],
      ...[
        op.get(column),
        op.get(r),
        op.i32Add,
        op.i32Load8u,
        op.get(bin),
        op.i32GtU,
        op.i32Const(2),
        op.i32Shl,
      ],
      // On the stack: 4 when the row goes right, else 0.
      ...[op.tee(r), op.get(scratch), op.i32Add, op.set(scratch)],
      ...[op.get(left), op.i32Const(4), op.i32Add, op.get(r), op.i32Sub, op.set(left)],
      ...[op.get(rows), op.i32Const(4), op.i32Add, op.tee(rows), op.get(end), op.i32LtU, op.brIf(0)],
      op.end,
      op.end,
      ...[op.get(left), op.get(start), op.i32Sub, op.i32Const(2), op.i32ShrU],
    ],
  };
}

function section(id: number, content: number[]): number[] {
  return [id, ...uleb(content.length), ...content];
}

function vector(items: number[][]): number[] {
  return [...uleb(items.length), ...items.flat()];
}

function name(text: string): number[] {
  return [...uleb(text.length), ...Array.from(text, (c) => c.charCodeAt(0))];
}

const KERNELS: Kernel[] = [
  gatherKernel(),
  partitionKernel(),
  ...([2, 4] as const).flatMap((slotBytes) =>
    [false, true].flatMap((subset) => [leafKernel(subset, slotBytes), rootGradientKernel(subset, slotBytes)]),
  ),
];

/** The module's binary: one function per kernel, all taking i32 arguments. */
export function histogramModuleBytes(): Uint8Array {
  const types = KERNELS.map((k) => [
    0x60,
    ...uleb(k.params),
    ...Array<number>(k.params).fill(I32),
    ...vector((k.results ?? []).map((type) => [type])),
  ]);
  const memoryImport = [...name('env'), ...name('memory'), 0x02, 0x00, 0x00];
  const functions = KERNELS.map((_, i) => uleb(i));
  const exports = KERNELS.map((k, i) => [...name(k.name), 0x00, ...uleb(i)]);
  const code = KERNELS.map((k) => {
    const body = [...vector(k.locals.map(([count, type]) => [...uleb(count), type])), ...k.body.flat(), 0x0b];
    return [...uleb(body.length), ...body];
  });
  return Uint8Array.from([
    ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00],
    ...section(1, vector(types)),
    ...section(2, vector([memoryImport])),
    ...section(3, vector(functions)),
    ...section(7, vector(exports)),
    ...section(10, vector(code)),
  ]);
}

/** The kernels of one instance; arguments are byte offsets into its memory, counts and sizes. */
export interface HistogramKernels {
  gather(gh: number, rows: number, n: number, out: number): void;
  partition(rows: number, n: number, column: number, bin: number, scratch: number): number;
  leaf16(...args: LeafArgs): void;
  leafSubset16(...args: LeafArgs): void;
  leaf32(...args: LeafArgs): void;
  leafSubset32(...args: LeafArgs): void;
  rootGradients16(...args: RootArgs): void;
  rootGradientsSubset16(...args: RootArgs): void;
  rootGradients32(...args: RootArgs): void;
  rootGradientsSubset32(...args: RootArgs): void;
}

type LeafArgs = [
  hist: number,
  slots: number,
  rowBytes: number,
  rows: number,
  gh: number,
  n: number,
  feats: number,
  featsEnd: number,
];
type RootArgs = [
  hist: number,
  slots: number,
  rowBytes: number,
  gh: number,
  n: number,
  feats: number,
  featsEnd: number,
];

/**
 * The slice of the WebAssembly JS API used here. The project's TypeScript libs (ES2023, Node types) do not
 * declare the WebAssembly global, so it is typed locally rather than for the whole project.
 */
interface WasmApi {
  Memory: new (descriptor: { initial: number }) => WasmMemory;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: unknown };
}

/** A WebAssembly.Memory: its buffer is fixed as long as it never grows (it does not here). */
export interface WasmMemory {
  readonly buffer: ArrayBuffer;
}

const wasm = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;
let compiled: object | null = null;

/** A memory of at least `bytes` bytes for the kernels to work in. */
export function createKernelMemory(bytes: number): WasmMemory {
  const pages = Math.max(1, Math.ceil(bytes / 65536));
  // 32-bit addresses: 65 536 pages of 64 KiB.
  if (pages > 65536) throw new RangeError(`histogram kernels need ${bytes} bytes, more than wasm32's 4 GiB`);
  return new wasm.Memory({ initial: pages });
}

/** Instantiates the kernels over `memory` (the module is compiled once per process). */
export function instantiateHistogramKernels(memory: WasmMemory): HistogramKernels {
  compiled ??= new wasm.Module(histogramModuleBytes());
  return new wasm.Instance(compiled, { env: { memory } }).exports as HistogramKernels;
}
