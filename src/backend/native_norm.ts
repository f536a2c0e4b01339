/**
 * Fused LayerNorm / RMSNorm on the native path (docs/performance.md, "Native matmul"): one kernel,
 * `TfjsLensLayerNorm`, registered on the wasm backend, that calls the BLAS addon's `layerNorm`
 * (native/blas_matmul.c) over views of the wasm heap, in place of the nine tensor ops of the unfused
 * form in `src/model/components/layer_norm.ts` (a mean, a subtraction, a square, a mean, an add, a
 * square root, a division, a product and a sum, each a pass over the activation on wasm's one
 * thread). {@link installNativeMatmul} turns it on after checking it against the unfused ops;
 * components use it only when neither of the norm's hooks is attached and no gradient is being
 * recorded, so hooks and gradients see what they did before. Its values equal the unfused ops' bit
 * for bit (the row sums are made in wasm's order), so a run gives the same numbers whichever hooks
 * are attached.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { KernelArgs, WasmBackendLike } from './wasm_kernels.js';

/** The addon's fused norm (native/blas_matmul.c `layerNorm`). */
export interface NormAddon {
  layerNorm(x: Float32Array, out: Float32Array, rows: number, d: number, w: Float32Array | null, b: Float32Array | null, eps: number, rms: boolean): void;
}

/** The kernel's name on the wasm backend. */
export const NATIVE_LAYER_NORM = 'TfjsLensLayerNorm';

let addon: NormAddon | undefined;
let registered = false;

interface NormAttrs {
  eps: number;
  rms: boolean;
}

function kernel(args: KernelArgs): tf.TensorInfo {
  const x = args.inputs['x'] as tf.TensorInfo;
  const w = args.inputs['w'];
  const b = args.inputs['b'];
  const { eps, rms } = args.attrs as unknown as NormAttrs;
  const backend = args.backend as WasmBackendLike;
  const out = backend.makeOutput(x.shape, 'float32');
  const d = x.shape[x.shape.length - 1] as number;
  const rows = tf.util.sizeFromShape(x.shape) / d;
  if (rows === 0 || addon === undefined) return out;
  // Views after makeOutput (its malloc may replace the heap buffer).
  const view = (t: tf.TensorInfo | undefined): Float32Array | null => (t == null ? null : (backend.typedArrayFromHeap(t) as Float32Array));
  addon.layerNorm(view(x) as Float32Array, view(out) as Float32Array, rows, d, view(w), view(b), eps, rms);
  return out;
}

/**
 * Turn the fused norm on with this addon (undefined: off). Registers the kernel once.
 * @param a The loaded addon, checked by the caller.
 */
export function setNormAddon(a: NormAddon | undefined): void {
  addon = a;
  if (a !== undefined && !registered) {
    tf.registerKernel({ kernelName: NATIVE_LAYER_NORM, backendName: 'wasm', kernelFunc: kernel as unknown as tf.KernelFunc });
    registered = true;
  }
}

/**
 * Whether {@link fusedLayerNorm} can run `x` now: the addon is on, the backend is wasm, x is float32
 * with a non-empty last axis, and the weights (if any) are float32 [d].
 * @param x Input.
 * @param w Weight, if any.
 * @param b Bias, if any.
 * @returns True when the fused kernel applies.
 */
export function fusedNormApplies(x: tf.Tensor, w: tf.Tensor | undefined, b: tf.Tensor | undefined): boolean {
  if (addon === undefined || x.dtype !== 'float32' || x.rank === 0 || tf.getBackend() !== 'wasm') return false;
  const d = x.shape[x.rank - 1] as number;
  const ok = (t: tf.Tensor | undefined): boolean => t === undefined || (t.dtype === 'float32' && t.rank === 1 && t.shape[0] === d);
  return d > 0 && ok(w) && ok(b);
}

/**
 * LayerNorm (or RMSNorm) in one kernel: (x − mean) / sqrt(mean((x − mean)²) + eps) · w + b over the
 * last axis, as TransformerLens computes it, equal bit for bit to the unfused tensor ops on wasm. It
 * has no gradient: call it only where {@link fusedNormApplies} and no gradient tape is recording.
 * @param x Input [..., d].
 * @param w Weight [d], or undefined (LNPre / RMSPre).
 * @param b Bias [d], or undefined.
 * @param eps Epsilon.
 * @param rms RMSNorm (no centring).
 * @returns The normalised tensor, shaped like x.
 */
export function fusedLayerNorm<X extends tf.Tensor>(x: X, w: tf.Tensor | undefined, b: tf.Tensor | undefined, eps: number, rms: boolean): X {
  const inputs: tf.NamedTensorMap = { x };
  if (w !== undefined) inputs['w'] = w;
  if (b !== undefined) inputs['b'] = b;
  const attrs: NormAttrs = { eps, rms };
  return tf.engine().runKernel(NATIVE_LAYER_NORM, inputs, attrs as unknown as tf.NamedAttrMap) as X;
}

/**
 * The unfused formula (as src/model/components/layer_norm.ts, without its hooks): the checks' reference.
 * @param x Input [..., d].
 * @param w Weight [d], or undefined.
 * @param b Bias [d], or undefined.
 * @param eps Epsilon.
 * @param rms RMSNorm (no centring).
 * @returns The normalised tensor.
 */
export function unfusedNorm(x: tf.Tensor, w: tf.Tensor | undefined, b: tf.Tensor | undefined, eps: number, rms: boolean): tf.Tensor {
  const centred = rms ? x : tf.sub(x, tf.mean(x, -1, true));
  let out = tf.div(centred, tf.sqrt(tf.add(tf.mean(tf.square(centred), -1, true), eps)));
  if (w !== undefined) out = tf.mul(out, w);
  return b === undefined ? out : tf.add(out, b);
}

/**
 * Check an addon's fused norm against the unfused tensor ops (LayerNorm with and without weights,
 * RMSNorm, an odd width, rows far from zero); turns it on when every case is within 1e-4 of the
 * largest value (on wasm it is exact; the margin lets a compiler's rounding differ without losing speed).
 * @param a The addon (undefined, or one without `layerNorm`: the fused norm stays off).
 * @returns The largest relative difference, or undefined when the fused norm stays off.
 */
export function checkAndSetNormAddon(a: Partial<NormAddon> | undefined): number | undefined {
  setNormAddon(undefined);
  if (a === undefined || typeof a.layerNorm !== 'function') return undefined;
  const cases: [number[], boolean, boolean, boolean][] = [
    [[3, 5, 64], true, true, false],
    [[7, 37], false, false, false],
    [[2, 4, 48], true, false, true],
    [[5, 33], false, false, true],
  ];
  let maxError = 0;
  let seed = 11;
  const candidate = a as NormAddon;
  for (const [shape, affine, bias, rms] of cases) {
    const err = tf.tidy(() => {
      const d = shape[shape.length - 1] as number;
      const x = tf.add(tf.randomNormal(shape, 0, 2, 'float32', seed++), 3);
      const w = affine ? tf.randomNormal([d], 1, 0.2, 'float32', seed++) : undefined;
      const b = bias ? tf.randomNormal([d], 0, 0.2, 'float32', seed++) : undefined;
      const want = unfusedNorm(x, w, b, 1e-5, rms);
      setNormAddon(candidate);
      try {
        const got = fusedLayerNorm(x, w, b, 1e-5, rms);
        const scale = Math.max(1, tf.max(tf.abs(want)).dataSync()[0] as number);
        return (tf.max(tf.abs(tf.sub(got, want))).dataSync()[0] as number) / scale;
      } finally {
        setNormAddon(undefined);
      }
    });
    maxError = Math.max(maxError, Number.isFinite(err) ? err : Infinity);
  }
  if (!(maxError <= 1e-4)) return undefined;
  setNormAddon(candidate);
  return maxError;
}
