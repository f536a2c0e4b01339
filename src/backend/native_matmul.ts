/**
 * Native matmul (docs/performance.md, "Native matmul"): the wasm backend's `BatchMatMul` and
 * `_FusedMatMul` kernels routed to the system BLAS's sgemm (OpenBLAS on Linux, Accelerate on
 * macOS) through a small Node-API addon, native/blas_matmul.c, built at install time by
 * scripts/install_native.mjs into build/native/tfjs_lens_blas.node. `initBackend` installs it when
 * it loads, is not the netlib reference BLAS, and passes a self-check against the wasm kernels
 * (results within 1e-4, and not slower). The addon reads and writes the wasm heap in place (views over
 * the tensors' heap memory), so nothing is copied. Cases it does not cover (non-float32, a PReLU
 * or other activation, a bias that is not [n], batch shapes that broadcast both ways) go to the
 * original kernels.
 */
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { routeWasmKernel, type KernelArgs, type WasmBackendLike } from './wasm_kernels.js';
import { BackendError } from '../errors.js';
import { checkAndSetNormAddon, type NormAddon } from './native_norm.js';
import { checkAndSetEmbedAddon, type EmbedAddon } from './native_embed.js';

/** The addon's exports (native/blas_matmul.c). */
interface BlasAddon {
  sgemm(a: Float32Array, b: Float32Array, c: Float32Array, m: number, n: number, k: number, transA: boolean, transB: boolean,
    bias: Float32Array | null, batch?: number, strideA?: number, strideB?: number): void;
  setThreads(n: number): number;
  info(): { vendor: string; config: string | null; core: string | null; library: string | null };
  /** Fused LayerNorm (src/backend/native_norm.ts); absent from addons built before it. */
  layerNorm?: NormAddon['layerNorm'];
  embedNorm?: EmbedAddon['embedNorm'];
}

/** What the native matmul loaded. @category Backend */
export interface NativeMatmulInfo {
  /** Absolute path of the addon. */
  readonly path: string;
  /** The BLAS's own description (OpenBLAS: version, build options, configured core). */
  readonly blas: string;
  /** `openblas` or `accelerate`. */
  readonly vendor: string;
  /** BLAS version when it says (OpenBLAS: `0.3.21`). */
  readonly version?: string;
  /** Kernel set in use (OpenBLAS: `SkylakeX`, `Haswell`, …; follows `OPENBLAS_CORETYPE`). */
  readonly core?: string;
  /** The library file providing `cblas_sgemm`. */
  readonly library?: string;
  /** BLAS threads (0 when the BLAS does not say, e.g. Accelerate). */
  readonly threads: number;
  /** Self-check: largest relative difference to the wasm kernels over the check cases. */
  readonly maxError: number;
  /**
   * Whether LayerNorm/RMSNorm run as one native kernel (src/backend/native_norm.ts): the addon has it
   * and it matched the unfused ops within 1e-4.
   */
  readonly fusedNorm: boolean;
  /**
   * Whether embedding lookups (summed, then normalised) run as one native kernel
   * (src/backend/native_embed.ts): the addon has it and it matched the unfused ops within 1e-4.
   */
  readonly fusedEmbed: boolean;
  /** Speed check, [128, 768]·[768, 768]: milliseconds on the native path and on wasm's kernel. */
  readonly checkMs: {
    /** Milliseconds of the native sgemm. */
    readonly native: number;
    /** Milliseconds of the wasm kernel on the same product. */
    readonly wasm: number;
  };
}

/** Options of {@link installNativeMatmul}. @category Backend */
export interface NativeMatmulOptions {
  /** BLAS threads (default: `OPENBLAS_NUM_THREADS` / `OMP_NUM_THREADS` when set, else OpenBLAS's own). */
  readonly threads?: number;
  /** Run the self-check and speed check (default true). */
  readonly check?: boolean;
}

/** Where the install script puts the addon: `<package>/build/native/tfjs_lens_blas.node`. @category Backend */
export const DEFAULT_NATIVE_ADDON = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', 'build', 'native', 'tfjs_lens_blas.node');

/** What the routed kernels call: undefined while no addon is installed (or after a failed check). */
let active: BlasAddon | undefined;
let routed = false;
let installed: NativeMatmulInfo | undefined;

/**
 * c = op(a)·op(b) (+ bias) for rank ≥ 2 inputs whose batch dimensions are equal or one of them 1,
 * one sgemm call for the whole batch; undefined when the inputs are outside what it covers.
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
  if (ra < 2 || rb < 2) return undefined;
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
  if (batch * m * n === 0) return out;
  // Views after makeOutput (its malloc may replace the heap buffer).
  const av = backend.typedArrayFromHeap(a) as Float32Array;
  const bv = backend.typedArrayFromHeap(b) as Float32Array;
  const cv = backend.typedArrayFromHeap(out) as Float32Array;
  const biasV = bias === undefined ? null : (backend.typedArrayFromHeap(bias) as Float32Array);
  addon.sgemm(av, bv, cv, m, n, k, ta, tb, biasV, batch, batchA === 1 ? 0 : m * k, batchB === 1 ? 0 : k * n);
  return out;
}

/** Register the routed kernels once; they call the active addon, or fall through to wasm's. */
function route(): void {
  if (routed) return;
  const ok =
    routeWasmKernel(tf.BatchMatMul, (args) => (active === undefined ? undefined : nativeBatchMatMul(active, args, undefined))) &&
    routeWasmKernel(tf._FusedMatMul, (args) => {
      if (active === undefined) return undefined;
      const act = (args.attrs as { activation?: string } | undefined)?.activation;
      const plain = (act === undefined || act === 'linear') && args.inputs['preluActivationWeights'] == null;
      return plain ? nativeBatchMatMul(active, args, args.inputs['bias'] ?? undefined) : undefined;
    });
  if (!ok) throw new BackendError('native matmul: the wasm backend has no matmul kernels to route (initialise the wasm backend first)');
  routed = true;
}

/** Whether the native matmul is installed, and what it loaded. @category Backend */
export function nativeMatmulInfo(): NativeMatmulInfo | undefined {
  return installed;
}

/**
 * The netlib-reference refusal, naming the fix.
 * @param library The library that provides `cblas_sgemm`.
 */
export function referenceBlasMessage(library: string): string {
  return (
    `${library} is not OpenBLAS (the netlib reference BLAS is 10-50x slower): install libopenblas0-pthread ` +
    '(apt-get install libopenblas0-pthread), or select OpenBLAS for libblas.so.3: ' +
    'update-alternatives --set libblas.so.3-x86_64-linux-gnu /usr/lib/x86_64-linux-gnu/openblas-pthread/libblas.so.3'
  );
}

/**
 * OpenBLAS 0.3.21 mis-detects AVX-512 Zen 4 cores as Haswell (AVX2 kernels); on a CPU with the
 * AVX-512 subsets SkylakeX needs, pick SkylakeX unless `OPENBLAS_CORETYPE` is set. OpenBLAS reads
 * the variable when it loads, so this runs before the addon is required.
 */
function preferSkylakeX(): void {
  if (process.env['OPENBLAS_CORETYPE'] !== undefined || process.platform !== 'linux' || process.arch !== 'x64') return;
  try {
    const flags = /^flags\s*:(.*)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1]?.split(/\s+/) ?? [];
    if (['avx512f', 'avx512bw', 'avx512vl', 'avx512dq', 'avx512cd'].every((f) => flags.includes(f))) process.env['OPENBLAS_CORETYPE'] = 'SkylakeX';
  } catch {
    // no /proc: leave OpenBLAS's own detection
  }
}

/** Threads from `OPENBLAS_NUM_THREADS` / `OMP_NUM_THREADS`, when set to a positive integer. */
export function blasThreadsFromEnv(): number | undefined {
  for (const v of ['OPENBLAS_NUM_THREADS', 'OMP_NUM_THREADS']) {
    const n = Number(process.env[v]);
    if (Number.isInteger(n) && n > 0) return n;
  }
  return undefined;
}

function loadAddon(abs: string): BlasAddon {
  preferSkylakeX();
  let addon: BlasAddon;
  try {
    addon = createRequire(import.meta.url)(abs) as BlasAddon;
  } catch (err) {
    throw new BackendError(`native matmul: cannot load ${abs}: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`);
  }
  if (typeof addon.sgemm !== 'function' || typeof addon.setThreads !== 'function' || typeof addon.info !== 'function') {
    throw new BackendError(`native matmul: ${abs} is not the tfjs-lens BLAS addon (no sgemm/setThreads/info); rebuild it: node scripts/install_native.mjs`);
  }
  return addon;
}

/**
 * Self-check cases: 2-D, transposed either side, batched, broadcast batch, fused bias. The fused
 * cases' reference (`ref` true) is matMul + add: tfjs-backend-wasm 4.22's `_FusedMatMul` gives wrong
 * values when a bias comes with a transposed operand.
 */
type Rand = (shape: number[]) => tf.Tensor;
const fusedCase = (r: Rand, ref: boolean, ta: boolean, tb: boolean): tf.Tensor => {
  const [a, b, bias] = [r(ta ? [64, 37] : [37, 64]), r(tb ? [29, 64] : [64, 29]), r([29])];
  return ref ? tf.add(tf.matMul(a, b, ta, tb), bias) : tf.fused.matMul({ a: a as tf.Tensor2D, b: b as tf.Tensor2D, bias, transposeA: ta, transposeB: tb });
};
const CHECKS: ((r: Rand, ref: boolean) => tf.Tensor)[] = [
  (r) => tf.matMul(r([37, 64]), r([64, 29])),
  (r) => tf.matMul(r([64, 37]), r([64, 29]), true, false),
  (r) => tf.matMul(r([37, 64]), r([29, 64]), false, true),
  (r) => tf.matMul(r([3, 2, 16, 8]), r([3, 2, 8, 5])),
  (r) => tf.matMul(r([4, 16, 8]), r([1, 8, 5])),
  (r) => tf.matMul(r([1, 16, 8]), r([4, 5, 8]), false, true),
  (r, ref) => fusedCase(r, ref, false, false),
  (r, ref) => fusedCase(r, ref, false, true),
  (r, ref) => fusedCase(r, ref, true, true),
];

/** Run every check case on the current kernels: values per case. */
function runChecks(ref: boolean): Float32Array[] {
  let seed = 1;
  const r = (shape: number[]): tf.Tensor => tf.randomNormal(shape, 0, 1, 'float32', seed++);
  return CHECKS.map((f) => tf.tidy(() => f(r, ref).dataSync() as Float32Array));
}

/**
 * Speed check: best milliseconds of a [128, 768]·[768, 768] matmul on wasm's kernel and on the
 * addon, interleaved (so that a busy machine slows both alike), 3 to 8 rounds after a warm-up:
 * it stops once the addon is ahead, or clearly behind (10x).
 */
function speedCheck(addon: BlasAddon): { native: number; wasm: number } {
  const [a, b] = [tf.randomNormal([128, 768], 0, 1, 'float32', 7), tf.randomNormal([768, 768], 0, 1, 'float32', 8)];
  const time = (): number => {
    const t0 = performance.now();
    const c = tf.matMul(a, b);
    c.dataSync();
    c.dispose();
    return performance.now() - t0;
  };
  const best = { native: Infinity, wasm: Infinity };
  try {
    for (let round = 0; round < 9; round++) {
      active = undefined;
      const w = time();
      active = addon;
      const n = time();
      if (round === 0) continue; // warm-up (XNNPACK packs the weights, OpenBLAS starts its threads)
      best.wasm = Math.min(best.wasm, w);
      best.native = Math.min(best.native, n);
      if ((round >= 3 && best.native < best.wasm) || best.native > 10 * best.wasm) break;
    }
  } finally {
    active = undefined;
    tf.dispose([a, b]);
  }
  return best;
}

/**
 * Load the addon and route the wasm matmul kernels to it (once per process; wasm backend only),
 * after checking that its BLAS is OpenBLAS or Accelerate, that it gives the wasm kernels' results
 * (relative 1e-4) on 2-D, transposed, batched, broadcast and fused-bias cases, and that it is not
 * slower than wasm's kernel (less than 2x its time: a reference BLAS is 5-10x slower). On any failure the wasm kernels stay and nothing is left installed.
 * @param path Path of the built addon (default {@link DEFAULT_NATIVE_ADDON}).
 * @param opts Threads and checks.
 * @returns What was loaded.
 * @throws {@link "tfjs-lens"!BackendError} when the addon cannot be loaded, is not the tfjs-lens addon,
 *   links the reference BLAS, fails a check, or another addon path was installed before.
 * @category Backend
 */
export function installNativeMatmul(path: string = DEFAULT_NATIVE_ADDON, opts: NativeMatmulOptions = {}): NativeMatmulInfo {
  const abs = resolve(path);
  if (installed !== undefined) {
    if (installed.path === abs) return installed;
    throw new BackendError(`native matmul: already installed from ${installed.path}; cannot switch to ${abs}`);
  }
  if (tf.getBackend() !== 'wasm') throw new BackendError(`native matmul: needs the wasm backend, current backend is '${tf.getBackend()}'`);
  const addon = loadAddon(abs);
  const info = addon.info();
  if (info.vendor !== 'openblas' && info.vendor !== 'accelerate') {
    throw new BackendError(`native matmul: ${referenceBlasMessage(info.library ?? 'the BLAS the addon links')}; or rebuild against OpenBLAS: node scripts/install_native.mjs`);
  }
  const threads = addon.setThreads(opts.threads ?? blasThreadsFromEnv() ?? 0);
  route();
  let maxError = 0;
  let checkMs = { native: 0, wasm: 0 };
  if (opts.check !== false) {
    const want = runChecks(true);
    active = addon;
    try {
      const got = runChecks(false);
      got.forEach((g, i) => {
        const w = want[i] as Float32Array;
        let scale = 1;
        for (const v of w) scale = Math.max(scale, Math.abs(v));
        for (let j = 0; j < w.length; j++) maxError = Math.max(maxError, Math.abs((g[j] as number) - (w[j] as number)) / scale);
        if (g.length !== w.length || !(maxError <= 1e-4)) {
          throw new BackendError(`native matmul: self-check failed (case ${i}: ${g.length !== w.length ? 'wrong size' : `relative error ${maxError.toExponential(2)} > 1e-4`} against the wasm kernel)`);
        }
      });
      checkMs = speedCheck(addon);
      // A slow BLAS is 5-10x behind wasm here, a fast one 3-6x ahead: the 2x margin keeps a busy machine's noise from refusing a good one.
      if (!(checkMs.native < 2 * checkMs.wasm)) {
        throw new BackendError(`native matmul: slower than wasm (${checkMs.native.toFixed(1)} ms vs ${checkMs.wasm.toFixed(1)} ms for 128x768x768); is ${info.library ?? 'the BLAS'} a fast BLAS?`);
      }
    } catch (err) {
      active = undefined;
      throw err instanceof BackendError ? err : new BackendError(`native matmul: self-check failed: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  active = addon;
  const normError = checkAndSetNormAddon(addon);
  if (normError !== undefined) maxError = Math.max(maxError, normError);
  const embedError = checkAndSetEmbedAddon(addon);
  if (embedError !== undefined) maxError = Math.max(maxError, embedError);
  const config = (info.config ?? info.vendor).trim();
  const version = /OpenBLAS (\d+\.\d+\.\d+)/.exec(config)?.[1];
  installed = {
    path: abs, blas: config, vendor: info.vendor, threads, maxError, checkMs, fusedNorm: normError !== undefined, fusedEmbed: embedError !== undefined,
    ...(version === undefined ? {} : { version }),
    ...(info.core === null ? {} : { core: info.core }),
    ...(info.library === null ? {} : { library: info.library }),
  };
  return installed;
}

/** One line for the backend report: `OpenBLAS 0.3.21 SkylakeX x2`. @category Backend */
export function describeNativeMatmul(info: NativeMatmulInfo): string {
  const name = info.vendor === 'openblas' ? `OpenBLAS ${info.version ?? ''}`.trim() : 'Accelerate';
  return `${name}${info.core === undefined ? '' : ` ${info.core}`}${info.threads > 0 ? ` x${info.threads}` : ''}`;
}
