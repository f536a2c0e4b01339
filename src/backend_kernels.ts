/**
 * Kernel routing on the wasm backend: a `Slice` kernel that reads its input in place.
 *
 * tfjs-backend-wasm 4.22's `Slice` (`dist/kernels/Slice.js`) starts with `backend.readSync(x)`,
 * which copies the *whole* input out of the wasm heap into a fresh ArrayBuffer before copying the
 * slice: taking one head's 128×64 block out of a 128×768 activation costs ~0.3 ms instead of a few
 * µs, and the per-head attention path (`attention_core.ts`) takes hundreds of such slices per
 * forward. This kernel does the same copies from a view of the heap (`typedArrayFromHeap`), so
 * results are identical; string tensors (which live outside the heap) go to the original kernel.
 * Registered once, when the wasm backend is initialised (`initBackend`).
 */
import * as tf from '@tensorflow/tfjs-core';

type Vals = Float32Array | Int32Array | Uint8Array;

/** The part of BackendWasm this kernel uses. */
interface WasmBackendLike {
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  typedArrayFromHeap(t: tf.TensorInfo): Vals;
}

let installed = false;

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
  const strides = tf.util.computeStrides([...shape]);
  const inner = rank === 0 ? 1 : (size[rank - 1] as number);
  const rows = tf.util.sizeFromShape(size.slice(0, -1) as number[]);
  const idx = new Array<number>(Math.max(rank - 1, 0)).fill(0);
  let base = rank === 0 ? 0 : (begin[rank - 1] as number);
  for (let a = 0; a < rank - 1; a++) base += (begin[a] as number) * (strides[a] as number);
  let offset = base;
  for (let r = 0; r < rows; r++) {
    out.set(x.subarray(offset, offset + inner), r * inner);
    // advance the multi-index over the outer axes (odometer), updating the input offset
    for (let a = rank - 2; a >= 0; a--) {
      const stride = strides[a] as number;
      if ((idx[a] as number) + 1 < (size[a] as number)) {
        idx[a] = (idx[a] as number) + 1;
        offset += stride;
        break;
      }
      offset -= (idx[a] as number) * stride;
      idx[a] = 0;
    }
  }
}

/** Whether the in-place Slice kernel is registered (for tests). */
export function wasmSliceInstalled(): boolean {
  return installed;
}

/**
 * Register the in-place `Slice` kernel for the wasm backend (idempotent). The original config is
 * kept for string tensors.
 */
export function installWasmKernels(): void {
  if (installed) return;
  const original = tf.getKernel(tf.Slice, 'wasm');
  if (original === undefined) return; // wasm backend not bundled: nothing to route
  const kernelFunc = (args: { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap }): tf.TensorInfo => {
    const x = args.inputs['x'] as tf.TensorInfo;
    if (x.dtype === 'string') return original.kernelFunc(args as Parameters<tf.KernelFunc>[0]) as tf.TensorInfo;
    const backend = args.backend as WasmBackendLike;
    const attrs = args.attrs as unknown as tf.SliceAttrs;
    const [begin, size] = tf.slice_util.parseSliceParams(x as tf.Tensor, attrs.begin, attrs.size) as [number[], number[]];
    const out = backend.makeOutput(size, x.dtype);
    if (tf.util.sizeFromShape(size) === 0) return out;
    // Views are taken after makeOutput: its malloc may grow (and so replace) the heap buffer.
    copySlice(backend.typedArrayFromHeap(x), x.shape, begin, size, backend.typedArrayFromHeap(out));
    return out;
  };
  tf.unregisterKernel(tf.Slice, 'wasm');
  tf.registerKernel({ kernelName: tf.Slice, backendName: 'wasm', kernelFunc: kernelFunc as tf.KernelFunc });
  installed = true;
}
