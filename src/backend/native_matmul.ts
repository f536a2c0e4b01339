/**
 * Prototype, off by default (docs/performance.md, "Native matmul"): the wasm backend's
 * `BatchMatMul` and `_FusedMatMul` kernels routed to OpenBLAS's sgemm through a small Node-API addon
 * (native/blas_matmul.c, built by scripts/build_native_matmul.sh; not shipped). Set
 * `TFJS_LENS_NATIVE_MATMUL=<path to the .node file>`; `initBackend` then installs it after the wasm
 * backend starts. The addon reads and writes the wasm heap in place (views over the tensors' heap
 * memory), so nothing is copied. Cases it does not cover (non-float32, a PReLU or other activation,
 * a bias that is not [n]) go to the original kernels.
 */
import { createRequire } from 'node:module';
import { resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { routeWasmKernel, type KernelArgs, type WasmBackendLike } from './wasm_kernels.js';
import { BackendError } from '../errors.js';

/** The addon's exports. */
interface BlasAddon {
  sgemm(a: Float32Array, b: Float32Array, c: Float32Array, m: number, n: number, k: number, transA: boolean, transB: boolean, bias: Float32Array | null): void;
  setThreads(n: number): number;
  config(): string;
}

/** What the native-matmul prototype loaded (`TFJS_LENS_NATIVE_MATMUL`; docs/performance.md). @category Backend */
export interface NativeMatmulInfo {
  /** Absolute path of the addon. */
  readonly path: string;
  /** OpenBLAS's own description (version, core type). */
  readonly blas: string;
  /** OpenBLAS threads. */
  readonly threads: number;
}

let installed: NativeMatmulInfo | undefined;

/**
 * c = op(a)·op(b) (+ bias) for rank ≥ 2 inputs with broadcastable batch dimensions, one sgemm per
 * batch entry; undefined when the inputs are outside what it covers.
 */
function nativeBatchMatMul(addon: BlasAddon, args: KernelArgs, bias: tf.TensorInfo | undefined): tf.TensorInfo | undefined {
  const a = args.inputs['a'];
  const b = args.inputs['b'];
  if (a === undefined || b === undefined) return undefined;
  const attrs = (args.attrs ?? {}) as { transposeA?: boolean; transposeB?: boolean };
  const ta = attrs.transposeA === true;
  const tb = attrs.transposeB === true;
  if (a.dtype !== 'float32' || b.dtype !== 'float32' || (bias !== undefined && (bias.dtype !== 'float32' || bias.shape.length !== 1))) return undefined;
  const ra = a.shape.length;
  const rb = b.shape.length;
  const m = (ta ? a.shape[ra - 1] : a.shape[ra - 2]) as number;
  const k = (ta ? a.shape[ra - 2] : a.shape[ra - 1]) as number;
  const n = (tb ? b.shape[rb - 2] : b.shape[rb - 1]) as number;
  const kb = (tb ? b.shape[rb - 1] : b.shape[rb - 2]) as number;
  const batchA = tf.util.sizeFromShape(a.shape.slice(0, -2));
  const batchB = tf.util.sizeFromShape(b.shape.slice(0, -2));
  if (k !== kb || (batchA !== batchB && batchA !== 1 && batchB !== 1) || (bias !== undefined && bias.shape[0] !== n)) return undefined;
  const outer = tf.backend_util.assertAndGetBroadcastShape(a.shape.slice(0, -2), b.shape.slice(0, -2));
  const batch = Math.max(batchA, batchB);
  const backend = args.backend as WasmBackendLike;
  const out = backend.makeOutput([...outer, m, n], 'float32');
  // Views after makeOutput (its malloc may replace the heap buffer).
  const av = backend.typedArrayFromHeap(a) as Float32Array;
  const bv = backend.typedArrayFromHeap(b) as Float32Array;
  const cv = backend.typedArrayFromHeap(out) as Float32Array;
  const biasV = bias === undefined ? null : (backend.typedArrayFromHeap(bias) as Float32Array);
  for (let i = 0; i < batch; i++) {
    const ai = batchA === 1 ? 0 : i;
    const bi = batchB === 1 ? 0 : i;
    addon.sgemm(av.subarray(ai * m * k, (ai + 1) * m * k), bv.subarray(bi * k * n, (bi + 1) * k * n), cv.subarray(i * m * n, (i + 1) * m * n), m, n, k, ta, tb, biasV);
  }
  return out;
}

/** Whether the prototype is installed, and what it loaded. @category Backend */
export function nativeMatmulInfo(): NativeMatmulInfo | undefined {
  return installed;
}

/**
 * Load the addon and route the wasm matmul kernels to it (once per process; wasm backend only).
 * @param path Path of the built addon (`build/native/tfjs_lens_blas.node`).
 * @param threads OpenBLAS threads (default: leave OpenBLAS's own setting, `OPENBLAS_NUM_THREADS`).
 * @returns What was loaded.
 * @throws {@link "tfjs-lens"!BackendError} when the addon cannot be loaded or lacks its functions, or another
 *   addon path was installed before.
 * @category Backend
 */
export function installNativeMatmul(path: string, threads?: number): NativeMatmulInfo {
  const abs = resolve(path);
  if (installed !== undefined) {
    if (installed.path === abs) return installed;
    throw new BackendError(`native matmul: already installed from ${installed.path}; cannot switch to ${abs}`);
  }
  let addon: BlasAddon;
  try {
    addon = createRequire(import.meta.url)(abs) as BlasAddon;
  } catch (err) {
    throw new BackendError(`native matmul: cannot load ${abs}: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (typeof addon.sgemm !== 'function' || typeof addon.setThreads !== 'function' || typeof addon.config !== 'function') {
    throw new BackendError(`native matmul: ${abs} is not the tfjs-lens BLAS addon (no sgemm/setThreads/config)`);
  }
  const routed =
    routeWasmKernel(tf.BatchMatMul, (args) => nativeBatchMatMul(addon, args, undefined)) &&
    routeWasmKernel(tf._FusedMatMul, (args) => {
      const act = (args.attrs as { activation?: string } | undefined)?.activation;
      const plain = (act === undefined || act === 'linear') && args.inputs['preluActivationWeights'] == null;
      return plain ? nativeBatchMatMul(addon, args, args.inputs['bias'] ?? undefined) : undefined;
    });
  if (!routed) throw new BackendError('native matmul: the wasm backend has no matmul kernels to route');
  installed = { path: abs, blas: addon.config(), threads: addon.setThreads(threads ?? 0) };
  return installed;
}
