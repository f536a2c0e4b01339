/**
 * Fused embedding on the native path (docs/performance.md, "Beyond matmul"): one kernel,
 * `TfjsLensEmbedNorm`, registered on the wasm backend, that calls the BLAS addon's `embedNorm`
 * (native/blas_matmul.c). It sums the rows of several embedding tables (word, position, token type)
 * and can normalise the sum, in one pass over the rows and on the BLAS's threads. Without it, an
 * encoder's embedding is a gather per table, a broadcast add per extra table and the norm, each a
 * pass over a [batch, pos, d_model] activation on wasm's one thread: for the two 16×128 DistilBERT
 * batches of the bench's layer-0 probe, 8.3 ms of kernel time (gathers 3.5, add 1.1, norm 3.7) against
 * 2.4–2.9 ms fused (quiet machine).
 *
 * The values are the unfused ops' values bit for bit: the rows are copied, added in the same order
 * and normalised as {@link fusedLayerNorm} does. {@link installNativeMatmul} checks it against the
 * unfused ops before turning it on. Callers use it only where none of the hooks it skips is attached
 * and no gradient is being recorded (it has no gradient).
 */
import * as tf from '@tensorflow/tfjs-core';
import { ShapeError } from '../errors.js';
import type { KernelArgs, WasmBackendLike } from './wasm_kernels.js';
import { unfusedNorm } from './native_norm.js';

/** One term of the sum: [table, row ids or null, period]; with null ids row r uses table row r mod period. */
type AddonTerm = [Float32Array, Int32Array | null, number];

/** The addon's fused embedding (native/blas_matmul.c `embedNorm`). */
export interface EmbedAddon {
  embedNorm(out: Float32Array, rows: number, d: number, terms: AddonTerm[], w: Float32Array | null, b: Float32Array | null, eps: number, rms: boolean, normalise: boolean): void;
}

/** The kernel's name on the wasm backend. */
export const NATIVE_EMBED_NORM = 'TfjsLensEmbedNorm';

/**
 * One table of an embedding sum.
 * @category Backend
 */
export interface EmbedTerm {
  /** The table [n_rows, d_model], float32. */
  readonly table: tf.Tensor;
  /** int32 row ids, one per output row ([batch, pos]); omitted: row r of the output uses table row r mod `period`. */
  readonly ids?: tf.Tensor;
  /** With no ids: the period (e.g. pos, for positions 0…pos−1 in every sequence; 1 for row 0 everywhere). */
  readonly period?: number;
}

/** The norm applied to the sum. */
export interface EmbedNormSpec {
  readonly w: tf.Tensor | undefined;
  readonly b: tf.Tensor | undefined;
  readonly eps: number;
  readonly rms: boolean;
}

interface EmbedAttrs {
  periods: number[];
  shape: number[];
  eps: number;
  rms: boolean;
  normalise: boolean;
}

let addon: EmbedAddon | undefined;
let registered = false;

function kernel(args: KernelArgs): tf.TensorInfo {
  const { periods, shape, eps, rms, normalise } = args.attrs as unknown as EmbedAttrs;
  const backend = args.backend as WasmBackendLike;
  const tables = periods.map((_, t) => args.inputs[`t${t}`] as tf.TensorInfo);
  const ids = periods.map((_, t) => args.inputs[`i${t}`]);
  // Ids are checked before anything is allocated, as the gather kernel does.
  ids.forEach((i, t) => {
    if (i == null) return;
    const n = (tables[t] as tf.TensorInfo).shape[0] as number;
    const bad = backend.typedArrayFromHeap(i).find((id) => !(id >= 0 && id < n));
    if (bad !== undefined) throw new ShapeError(`embedding: index ${bad} is not in [0, ${n - 1}]`);
  });
  const out = backend.makeOutput(shape, 'float32');
  const d = shape[shape.length - 1] as number;
  const rows = tf.util.sizeFromShape(shape) / d;
  if (rows === 0 || addon === undefined) return out;
  // Views after makeOutput (its malloc may replace the heap buffer).
  const view = (t: tf.TensorInfo | undefined): Float32Array | null => (t == null ? null : (backend.typedArrayFromHeap(t) as Float32Array));
  const terms: AddonTerm[] = tables.map((t, k) => [view(t) as Float32Array, ids[k] == null ? null : (backend.typedArrayFromHeap(ids[k]) as Int32Array), periods[k] as number]);
  addon.embedNorm(view(out) as Float32Array, rows, d, terms, view(args.inputs['w']), view(args.inputs['b']), eps, rms, normalise);
  return out;
}

/**
 * Turn the fused embedding on with this addon (undefined: off). Registers the kernel once.
 * @param a The loaded addon, checked by the caller.
 */
export function setEmbedAddon(a: EmbedAddon | undefined): void {
  addon = a;
  if (a !== undefined && !registered) {
    tf.registerKernel({ kernelName: NATIVE_EMBED_NORM, backendName: 'wasm', kernelFunc: kernel as unknown as tf.KernelFunc });
    registered = true;
  }
}

/** Whether the fused embedding is on: an addon passed its check and the current backend is wasm. */
export function fusedEmbedOn(): boolean {
  return addon !== undefined && tf.getBackend() === 'wasm';
}

/**
 * Whether {@link fusedEmbed} can run these terms now: the addon is on, the backend is wasm, 1 to 4
 * float32 tables of the same width d > 0, int32 ids of `rows` values or a period in [1, n_rows],
 * and float32 [d] norm weights (if any).
 * @param terms The tables.
 * @param rows Output rows (batch·pos).
 * @param norm The norm, if any.
 * @returns True when the fused kernel applies.
 */
export function fusedEmbedApplies(terms: readonly EmbedTerm[], rows: number, norm?: EmbedNormSpec): boolean {
  if (!fusedEmbedOn() || terms.length < 1 || terms.length > 4) return false;
  const d = terms[0]?.table.shape[1];
  if (d === undefined || d <= 0) return false;
  const termOk = (t: EmbedTerm): boolean =>
    t.table.dtype === 'float32' && t.table.rank === 2 && t.table.shape[1] === d &&
    (t.ids !== undefined ? t.ids.dtype === 'int32' && t.ids.size === rows : Number.isInteger(t.period) && (t.period as number) >= 1 && (t.period as number) <= (t.table.shape[0] as number));
  const weightOk = (t: tf.Tensor | undefined): boolean => t === undefined || (t.dtype === 'float32' && t.rank === 1 && t.shape[0] === d);
  return terms.every(termOk) && (norm === undefined || (weightOk(norm.w) && weightOk(norm.b)));
}

/**
 * Σ_t table_t[row_t] over the terms, in order, then the norm when given: the values of gathers, adds
 * and LayerNorm/RMSNorm on wasm, bit for bit, in one kernel. No gradient: call it only where
 * {@link fusedEmbedApplies} and no gradient tape is recording.
 * @param terms The tables and their rows.
 * @param shape Output shape without d_model (e.g. [batch, pos]).
 * @param norm The norm of the sum (LayerNorm weight/bias, epsilon, RMSNorm), or undefined for the sum alone.
 * @returns [...shape, d_model].
 */
export function fusedEmbed(terms: readonly EmbedTerm[], shape: readonly number[], norm?: EmbedNormSpec): tf.Tensor {
  const d = terms[0]?.table.shape[1] as number;
  const inputs: tf.NamedTensorMap = {};
  terms.forEach((t, k) => {
    inputs[`t${k}`] = t.table;
    if (t.ids !== undefined) inputs[`i${k}`] = t.ids;
  });
  if (norm?.w !== undefined) inputs['w'] = norm.w;
  if (norm?.b !== undefined) inputs['b'] = norm.b;
  const attrs: EmbedAttrs = {
    periods: terms.map((t) => (t.ids === undefined ? (t.period as number) : 0)),
    shape: [...shape, d], eps: norm?.eps ?? 0, rms: norm?.rms ?? false, normalise: norm !== undefined,
  };
  return tf.engine().runKernel(NATIVE_EMBED_NORM, inputs, attrs as unknown as tf.NamedAttrMap) as tf.Tensor;
}

/** The unfused ops (gathers, adds, the norm), the check's reference. */
function unfused(terms: readonly EmbedTerm[], rows: number, norm: EmbedNormSpec | undefined): tf.Tensor {
  let sum: tf.Tensor | undefined;
  for (const t of terms) {
    const ids = t.ids !== undefined ? tf.reshape(t.ids, [-1]) : tf.tensor1d(Array.from({ length: rows }, (_, r) => r % (t.period as number)), 'int32');
    const rowsOf = tf.gather(t.table, ids);
    sum = sum === undefined ? rowsOf : tf.add(sum, rowsOf);
  }
  const s = sum as tf.Tensor;
  return norm === undefined ? s : unfusedNorm(s, norm.w, norm.b, norm.eps, norm.rms);
}

/**
 * Check an addon's fused embedding against the unfused ops (three tables with ids, a period and the
 * norm; two tables without it; RMSNorm with no weight; an odd width) and turn it on when every case
 * is within 1e-4 of the largest value (on wasm it is exact).
 * @param a The addon (undefined, or one without `embedNorm`: the fused embedding stays off).
 * @returns The largest relative difference, or undefined when it stays off.
 */
export function checkAndSetEmbedAddon(a: Partial<EmbedAddon> | undefined): number | undefined {
  setEmbedAddon(undefined);
  if (a === undefined || typeof a.embedNorm !== 'function') return undefined;
  const candidate = a as EmbedAddon;
  let seed = 21;
  const cases: [number, number, ('ids' | number)[], 'ln' | 'rms' | 'none'][] = [
    [48, 24, ['ids', 8, 'ids'], 'ln'],
    [37, 10, ['ids', 'ids'], 'none'],
    [33, 9, ['ids', 1], 'rms'],
  ];
  let maxError = 0;
  for (const [d, rows, kinds, normKind] of cases) {
    const err = tf.tidy(() => {
      const terms: EmbedTerm[] = kinds.map((k) => {
        const n = k === 'ids' ? 13 : k;
        const table = tf.add(tf.randomNormal([n, d], 0, 1, 'float32', seed++), 2);
        return k === 'ids' ? { table, ids: tf.tensor1d(Array.from({ length: rows }, (_, r) => (r * 7 + 3) % n), 'int32') } : { table, period: k };
      });
      const norm: EmbedNormSpec | undefined = normKind === 'none' ? undefined : {
        w: normKind === 'ln' ? tf.randomNormal([d], 1, 0.2, 'float32', seed++) : undefined,
        b: normKind === 'ln' ? tf.randomNormal([d], 0, 0.2, 'float32', seed++) : undefined,
        eps: 1e-5, rms: normKind === 'rms',
      };
      const want = unfused(terms, rows, norm);
      setEmbedAddon(candidate);
      try {
        const got = fusedEmbed(terms, [rows], norm);
        const scale = Math.max(1, tf.max(tf.abs(want)).dataSync()[0] as number);
        return (tf.max(tf.abs(tf.sub(got, want))).dataSync()[0] as number) / scale;
      } finally {
        setEmbedAddon(undefined);
      }
    });
    maxError = Math.max(maxError, Number.isFinite(err) ? err : Infinity);
  }
  if (!(maxError <= 1e-4)) return undefined;
  setEmbedAddon(candidate);
  return maxError;
}
