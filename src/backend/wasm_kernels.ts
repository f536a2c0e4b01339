/**
 * Kernel routing on the wasm backend: `Slice`, `Tile` and row `GatherV2` as row copies between views
 * of the wasm heap (`typedArrayFromHeap`), registered once when the wasm backend is initialised
 * (`initBackend`). Results are identical to the original kernels (pure copies).
 *
 * - tfjs-backend-wasm 4.22's `Slice` (`dist/kernels/Slice.js`) starts with `backend.readSync(x)`,
 *   which copies the *whole* input out of the heap into a fresh ArrayBuffer: one head's 128×64 block
 *   of a 128×768 activation cost ~0.3 ms instead of a few µs, and the per-head attention path
 *   (`attention_core.ts`) takes hundreds of slices per forward.
 * - Its `Tile` and `GatherV2` run element by element in C++: tiling the position embeddings to a
 *   16×128×768 batch took 106 ms, gathering 2,048 rows of the 30522×768 word embeddings 44 ms.
 *
 * Cases outside these (string tensors, gathers on another axis or with batch dims) go to the
 * original kernels.
 */
import * as tf from '@tensorflow/tfjs-core';
import { ShapeError } from '../errors.js';

type Vals = Float32Array | Int32Array | Uint8Array;

/** The part of BackendWasm the routed kernels use. */
export interface WasmBackendLike {
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  typedArrayFromHeap(t: tf.TensorInfo): Vals;
}

let installed = false;

/**
 * The copy loop both kernels share: for each row of the output's outer axes (row-major), the input
 * row at Σ coord(a, i_a)·stride_a + first (`inner` values) is written `innerReps` times.
 */
function copyRows(
  x: Vals, out: Vals, outer: readonly number[], strides: readonly number[],
  coord: (axis: number, i: number) => number, first: number, inner: number, innerReps = 1,
): void {
  const rows = tf.util.sizeFromShape([...outer]);
  const idx = new Array<number>(outer.length).fill(0);
  let dst = 0;
  for (let r = 0; r < rows; r++) {
    let src = first;
    for (let a = 0; a < outer.length; a++) src += coord(a, idx[a] as number) * (strides[a] as number);
    const row = x.subarray(src, src + inner);
    for (let k = 0; k < innerReps; k++, dst += inner) out.set(row, dst);
    for (let a = outer.length - 1; a >= 0; a--) {
      idx[a] = (idx[a] as number) + 1; // odometer over the outer axes
      if ((idx[a] as number) < (outer[a] as number)) break;
      idx[a] = 0;
    }
  }
}

/**
 * Copy a strided block: rows of the last axis, one `set` per row.
 * @param x Input values (row-major, shape `shape`).
 * @param shape Input shape.
 * @param begin Start index per axis.
 * @param size Extent per axis (non-zero).
 * @param out Output values (row-major, shape `size`).
 */
export function copySlice(x: Vals, shape: readonly number[], begin: readonly number[], size: readonly number[], out: Vals): void {
  const rank = shape.length;
  if (rank === 0) {
    out.set(x.subarray(0, 1));
    return;
  }
  const strides = tf.util.computeStrides([...shape]);
  copyRows(x, out, size.slice(0, -1), strides, (a, i) => (begin[a] as number) + i, begin[rank - 1] as number, size[rank - 1] as number);
}

/**
 * Tile by rows: out[i…] = x[i mod xShape…], one `set` per input row copied.
 * @param x Input values (row-major, shape `shape`).
 * @param shape Input shape (rank ≥ 1).
 * @param reps Repetitions per axis.
 * @param out Output values (row-major, shape shape·reps).
 */
export function copyTile(x: Vals, shape: readonly number[], reps: readonly number[], out: Vals): void {
  const rank = shape.length;
  const outer = shape.slice(0, -1).map((d, i) => d * (reps[i] as number));
  const strides = tf.util.computeStrides([...shape]);
  copyRows(x, out, outer, strides, (a, i) => i % (shape[a] as number), 0, shape[rank - 1] as number, reps[rank - 1] as number);
}

/** Whether the in-place kernels are registered (for tests). */
export function wasmKernelsInstalled(): boolean {
  return installed;
}

/** What a wasm kernel function receives. */
export type KernelArgs = { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap };

/**
 * Register `kernelFunc` for kernel `name` on wasm in place of tfjs's; where it returns undefined
 * (a case it does not cover) tfjs's original kernel runs.
 * @returns false when wasm has no such kernel (nothing routed).
 */
export function routeWasmKernel(name: string, kernelFunc: (args: KernelArgs) => tf.TensorInfo | undefined): boolean {
  const original = tf.getKernel(name, 'wasm');
  if (original === undefined) return false;
  const f: tf.KernelFunc = (args) => kernelFunc(args) ?? original.kernelFunc(args);
  tf.unregisterKernel(name, 'wasm');
  tf.registerKernel({ kernelName: name, backendName: 'wasm', kernelFunc: f });
  return true;
}

function tileKernel(args: KernelArgs): tf.TensorInfo | undefined {
  const x = args.inputs['x'];
  const reps = (args.attrs as unknown as tf.TileAttrs).reps;
  if (x === undefined || x.dtype === 'string' || x.shape.length === 0 || reps.length !== x.shape.length) return undefined;
  const backend = args.backend as WasmBackendLike;
  const out = backend.makeOutput(x.shape.map((d, i) => d * (reps[i] as number)), x.dtype);
  if (tf.util.sizeFromShape(out.shape) === 0) return out;
  copyTile(backend.typedArrayFromHeap(x), x.shape, reps, backend.typedArrayFromHeap(out));
  return out;
}

/** Rows of a table: gather on axis 0 without batch dims; indices are checked as tfjs does. */
function gatherKernel(args: KernelArgs): tf.TensorInfo | undefined {
  const x = args.inputs['x'];
  const indices = args.inputs['indices'];
  if (x === undefined || indices === undefined) return undefined;
  const attrs = args.attrs as unknown as tf.GatherV2Attrs;
  const axis = tf.util.parseAxisParam(attrs.axis, x.shape)[0];
  if (x.dtype === 'string' || axis !== 0 || (attrs.batchDims ?? 0) !== 0 || indices.dtype !== 'int32' || x.shape.length === 0) return undefined;
  const backend = args.backend as WasmBackendLike;
  const n = tf.util.sizeFromShape(indices.shape);
  const rowSize = tf.util.sizeFromShape(x.shape.slice(1));
  const nRows = x.shape[0] as number;
  const bad = backend.typedArrayFromHeap(indices).find((id) => !(id >= 0 && id < nRows));
  if (bad !== undefined) throw new ShapeError(`gather: index ${bad} is not in [0, ${nRows - 1}]`); // before any allocation
  const out = backend.makeOutput([...indices.shape, ...x.shape.slice(1)], x.dtype);
  const ids = backend.typedArrayFromHeap(indices); // views after makeOutput (its malloc may replace the heap buffer)
  const xv = backend.typedArrayFromHeap(x);
  const ov = backend.typedArrayFromHeap(out);
  for (let i = 0; i < n; i++) {
    const id = ids[i] as number;
    ov.set(xv.subarray(id * rowSize, (id + 1) * rowSize), i * rowSize);
  }
  return out;
}

/**
 * Register the in-place `Slice`, `Tile` and row-`GatherV2` kernels for the wasm backend
 * (idempotent). The original configs handle everything else.
 */
export function installWasmKernels(): void {
  if (installed || tf.getKernel(tf.Slice, 'wasm') === undefined) return;
  routeWasmKernel(tf.Slice, (args) => {
    const x = args.inputs['x'];
    if (x === undefined || x.dtype === 'string') return undefined;
    const backend = args.backend as WasmBackendLike;
    const attrs = args.attrs as unknown as tf.SliceAttrs;
    const [begin, size] = tf.slice_util.parseSliceParams(x, attrs.begin, attrs.size) as [number[], number[]];
    const out = backend.makeOutput(size, x.dtype);
    if (tf.util.sizeFromShape(size) === 0) return out;
    // Views are taken after makeOutput: its malloc may grow (and so replace) the heap buffer.
    copySlice(backend.typedArrayFromHeap(x), x.shape, begin, size, backend.typedArrayFromHeap(out));
    return out;
  });
  routeWasmKernel(tf.Tile, tileKernel);
  routeWasmKernel(tf.GatherV2, gatherKernel);
  installed = true;
}
