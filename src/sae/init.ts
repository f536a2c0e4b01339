/**
 * SAE initialisation as SAELens v6 `TrainingSAE.initialize_weights`: W_dec rows drawn
 * Kaiming-uniform, rescaled to a fixed norm (`decoder_init_norm`, 0.1: Anthropic's April-2024
 * "heuristic" init), W_enc = W_decᵀ, zero biases; JumpReLU thresholds start at
 * `jumprelu_init_threshold`; Gated's b_gate, r_mag, b_mag and BatchTopK's running threshold start at
 * zero (`_init_weights_gated`, `BatchTopKTrainingSAE.__init__`). b_dec can start at the mean or geometric median of a sample (the
 * pre-v6 `b_dec_init_method`; Weiszfeld's algorithm for the median).
 */
import { ConfigError } from '../errors.js';
import { seededRng } from '../utils/rng.js';
import type { SaeConfig } from './config.js';
import { SparseAutoencoder, type SaeWeightArrays } from './sae.js';

/** Options of {@link initSaeWeights}. @category SAE */
export interface SaeInitOptions {
  /** Seed (default 0). */
  readonly seed?: number;
  /** Norm of every decoder row (default 0.1). */
  readonly decoderInitNorm?: number;
  /** JumpReLU initial threshold (default 0.01). */
  readonly jumpreluInitThreshold?: number;
  /** Initial b_dec [d_in] (default zeros). */
  readonly bDec?: Float32Array;
}

/**
 * Fresh SAE weights, seeded.
 * @param cfg Architecture.
 * @param opts Seed, decoder norm, threshold, b_dec.
 * @returns Weight arrays (W_enc [d_in, d_sae] = W_decᵀ, W_dec [d_sae, d_in] rows of norm decoderInitNorm).
 * @throws {@link "tfjs-lens"!ConfigError} if b_dec has the wrong length.
 * @example const w = initSaeWeights(cfg, { seed: 1 });
 * @category SAE
 */
export function initSaeWeights(cfg: SaeConfig, opts: SaeInitOptions = {}): SaeWeightArrays {
  const { dIn, dSae } = cfg;
  const rand = seededRng(opts.seed ?? 0);
  const norm = opts.decoderInitNorm ?? 0.1;
  const bound = Math.sqrt(2) * Math.sqrt(3 / dIn); // kaiming_uniform_ (fan_in = d_in, gain √2); rescaled below anyway
  const W_dec = new Float32Array(dSae * dIn);
  const W_enc = new Float32Array(dIn * dSae);
  for (let i = 0; i < dSae; i++) {
    let ss = 0;
    for (let j = 0; j < dIn; j++) {
      const v = (2 * rand() - 1) * bound;
      W_dec[i * dIn + j] = v;
      ss += v * v;
    }
    const s = norm / Math.max(Math.sqrt(ss), 1e-12);
    for (let j = 0; j < dIn; j++) {
      const v = (W_dec[i * dIn + j] as number) * s;
      W_dec[i * dIn + j] = v;
      W_enc[j * dSae + i] = v; // W_enc = W_decᵀ
    }
  }
  if (opts.bDec !== undefined && opts.bDec.length !== dIn) {
    throw new ConfigError(`initSaeWeights: bDec must have d_in = ${dIn} values, got ${opts.bDec.length}`);
  }
  return {
    W_enc,
    b_enc: new Float32Array(dSae),
    W_dec,
    b_dec: opts.bDec !== undefined ? new Float32Array(opts.bDec) : new Float32Array(dIn),
    ...(cfg.architecture === 'jumprelu' ? { threshold: new Float32Array(dSae).fill(opts.jumpreluInitThreshold ?? 0.01) } : {}),
    ...(cfg.architecture === 'gated' ? { b_gate: new Float32Array(dSae), r_mag: new Float32Array(dSae), b_mag: new Float32Array(dSae) } : {}),
    ...(cfg.architecture === 'batchtopk' ? { topk_threshold: 0 } : {}),
  };
}

/**
 * A freshly initialised SAE.
 * @param cfg Architecture.
 * @param opts Seed, decoder norm, threshold, b_dec.
 * @returns The SAE (dispose it).
 * @example const sae = initSae(saeConfig({ architecture: 'standard', dIn: 64, dSae: 256 }), { seed: 0 });
 * @throws {@link "tfjs-lens"!ConfigError} if bDec has the wrong length.
 * @category SAE
 */
export function initSae(cfg: SaeConfig, opts: SaeInitOptions = {}): SparseAutoencoder {
  return new SparseAutoencoder(cfg, initSaeWeights(cfg, opts));
}

function checkSample(x: Float32Array, dIn: number, fn: string): number {
  const n = x.length / dIn;
  if (!Number.isInteger(n) || n < 1) throw new ConfigError(`${fn}: sample must hold a positive multiple of d_in = ${dIn} values, got ${x.length}`);
  return n;
}

/**
 * Mean of a sample of activations.
 * @param x [n, d_in] row-major.
 * @param dIn Row width.
 * @returns [d_in].
 * @throws {@link "tfjs-lens"!ConfigError} on an empty or ragged sample.
 * @example meanOf(new Float32Array([1, 2, 3, 4]), 2);   // [2, 3]
 * @category SAE
 */
export function meanOf(x: Float32Array, dIn: number): Float32Array {
  const n = checkSample(x, dIn, 'meanOf');
  const acc = new Float64Array(dIn);
  for (let r = 0; r < n; r++) for (let j = 0; j < dIn; j++) acc[j] = (acc[j] as number) + (x[r * dIn + j] as number);
  return Float32Array.from(acc, (v) => v / n);
}

/**
 * Geometric median (the point minimising the summed Euclidean distance) by Weiszfeld iterations,
 * started at the mean.
 * @param x [n, d_in] row-major.
 * @param dIn Row width.
 * @param opts maxIter (default 100), tol (relative change, default 1e-5).
 * @returns [d_in].
 * @throws {@link "tfjs-lens"!ConfigError} on an empty or ragged sample.
 * @example geometricMedian(sample, 768);
 * @category SAE
 */
export function geometricMedian(x: Float32Array, dIn: number, opts: { maxIter?: number; tol?: number } = {}): Float32Array {
  const n = checkSample(x, dIn, 'geometricMedian');
  let m = Float64Array.from(meanOf(x, dIn));
  for (let it = 0; it < (opts.maxIter ?? 100); it++) {
    const num = new Float64Array(dIn);
    let den = 0;
    for (let r = 0; r < n; r++) {
      let d2 = 0;
      for (let j = 0; j < dIn; j++) {
        const d = (x[r * dIn + j] as number) - (m[j] as number);
        d2 += d * d;
      }
      const w = 1 / Math.max(Math.sqrt(d2), 1e-8);
      den += w;
      for (let j = 0; j < dIn; j++) num[j] = (num[j] as number) + w * (x[r * dIn + j] as number);
    }
    const next = num.map((v) => v / den);
    let change = 0;
    let size = 0;
    for (let j = 0; j < dIn; j++) {
      change += ((next[j] as number) - (m[j] as number)) ** 2;
      size += (m[j] as number) ** 2;
    }
    m = next;
    if (Math.sqrt(change) <= (opts.tol ?? 1e-5) * Math.max(Math.sqrt(size), 1e-12)) break;
  }
  return Float32Array.from(m);
}
