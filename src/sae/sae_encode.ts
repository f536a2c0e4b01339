/**
 * SAE parameter types and the encoder of every architecture on flattened rows (SAELens `encode` of
 * `standard_sae.py`, `topk_sae.py`, `batchtopk_sae.py` (training SAE), `jumprelu_sae.py`, `gated_sae.py`).
 */
import * as tf from '@tensorflow/tfjs-core';
import { ConfigError, ShapeError } from '../errors.js';
import type { SaeConfig } from './config.js';
import { batchTopkRelu, decoderNorms, topkRelu } from './sae_ops.js';

/** SAE weights as plain arrays (row-major), SAELens tensor names. @category SAE */
export interface SaeWeightArrays {
  /** [d_in, d_sae]. */
  readonly W_enc: Float32Array;
  /** [d_sae] (Gated: unused, zeros; SAELens's gated SAE has no b_enc and it is not saved). */
  readonly b_enc: Float32Array;
  /** [d_sae, d_in]. */
  readonly W_dec: Float32Array;
  /** [d_in]. */
  readonly b_dec: Float32Array;
  /** [d_sae], JumpReLU only. */
  readonly threshold?: Float32Array;
  /** [d_sae], Gated only: bias of the gating path. */
  readonly b_gate?: Float32Array;
  /** [d_sae], Gated only: log-scale of W_enc for the magnitude path. */
  readonly r_mag?: Float32Array;
  /** [d_sae], Gated only: bias of the magnitude path. */
  readonly b_mag?: Float32Array;
  /** BatchTopK only: the running threshold (SAELens `topk_threshold`, default 0). */
  readonly topk_threshold?: number;
}

/** The SAE parameters as tensors. @category SAE */
export interface SaeParams {
  /** [d_in, d_sae]. */
  readonly W_enc: tf.Variable<tf.Rank.R2>;
  /** [d_sae] (Gated: unused zeros). */
  readonly b_enc: tf.Variable<tf.Rank.R1>;
  /** [d_sae, d_in]. */
  readonly W_dec: tf.Variable<tf.Rank.R2>;
  /** [d_in]. */
  readonly b_dec: tf.Variable<tf.Rank.R1>;
  /** [d_sae], JumpReLU only. */
  readonly threshold?: tf.Variable<tf.Rank.R1>;
  /** [d_sae], Gated only. */
  readonly b_gate?: tf.Variable<tf.Rank.R1>;
  /** [d_sae], Gated only. */
  readonly r_mag?: tf.Variable<tf.Rank.R1>;
  /** [d_sae], Gated only. */
  readonly b_mag?: tf.Variable<tf.Rank.R1>;
}

function checkLen(name: string, a: Float32Array | undefined, n: number, arch: string): Float32Array {
  if (a === undefined || a.length !== n) {
    throw new ShapeError(`SparseAutoencoder: ${name} must hold ${n} values for a '${arch}' SAE, got ${a?.length ?? 'none'}`);
  }
  return a;
}

/**
 * Variables for an SAE's weights (checked against the config).
 * @param cfg The validated config.
 * @param w The arrays.
 * @returns New variables (the caller owns them).
 * @throws {@link "tfjs-lens"!ShapeError} when an array has the wrong length or is missing.
 * @example const p = makeParams(cfg, initSaeWeights(cfg));
 * @category SAE
 */
export function makeParams(cfg: SaeConfig, w: SaeWeightArrays): SaeParams {
  const { dIn, dSae, architecture: a } = cfg;
  const arrays = [checkLen('W_enc', w.W_enc, dIn * dSae, a), checkLen('b_enc', w.b_enc, dSae, a), checkLen('W_dec', w.W_dec, dSae * dIn, a), checkLen('b_dec', w.b_dec, dIn, a)] as const;
  const thr = a === 'jumprelu' ? checkLen('threshold', w.threshold, dSae, a) : undefined;
  const gated = a === 'gated' ? [checkLen('b_gate', w.b_gate, dSae, a), checkLen('r_mag', w.r_mag, dSae, a), checkLen('b_mag', w.b_mag, dSae, a)] as const : undefined;
  const v1 = (x: Float32Array): tf.Variable<tf.Rank.R1> => tf.variable(tf.tensor1d(x), true);
  return tf.tidy(() => ({
    W_enc: tf.variable(tf.tensor2d(arrays[0], [dIn, dSae]), true),
    b_enc: v1(arrays[1]),
    W_dec: tf.variable(tf.tensor2d(arrays[2], [dSae, dIn]), true),
    b_dec: v1(arrays[3]),
    ...(thr !== undefined ? { threshold: v1(thr) } : {}),
    ...(gated !== undefined ? { b_gate: v1(gated[0]), r_mag: v1(gated[1]), b_mag: v1(gated[2]) } : {}),
  }));
}

/**
 * The leading shape of an SAE input: x without its last dimension (d_in), or without its last two
 * (n_heads, d_head) for hook_z inputs.
 * @param x The input.
 * @param cfg The SAE config.
 * @returns The leading shape, or undefined if x does not end in d_in.
 * @example leadShape(tf.zeros([2, 5, 64]), cfg);   // [2, 5]
 * @throws Never.
 * @category SAE
 */
export function leadShape(x: tf.Tensor, cfg: SaeConfig): number[] | undefined {
  const last = x.shape[x.rank - 1] ?? 0;
  if (x.rank >= 1 && last === cfg.dIn) return x.shape.slice(0, -1);
  const lastTwo = x.rank >= 2 ? last * (x.shape[x.rank - 2] ?? 0) : -1;
  if (lastTwo === cfg.dIn && (cfg.reshapeActivations === 'hook_z' || x.rank >= 4)) return x.shape.slice(0, -2);
  return undefined;
}

/**
 * Reshape flattened rows [n, w] back to [...lead, w].
 * @param t [n, w].
 * @param lead Leading shape (product n).
 * @returns [...lead, w].
 * @example flatTo(acts, [2, 5]);   // [2, 5, d_sae]
 * @throws Never.
 * @category SAE
 */
export function flatTo(t: tf.Tensor2D, lead: readonly number[]): tf.Tensor {
  return tf.reshape(t, [...lead, t.shape[1]]); // [..., w]
}

/**
 * Encoder on normalised rows: centring by b_dec, pre-activation, activation.
 * @param cfg The SAE config.
 * @param p Parameters.
 * @param x Normalised input [n, d_in].
 * @param preHook Applied to the (magnitude) pre-activation before the activation (SAELens `hook_sae_acts_pre`).
 * @returns `hiddenPre` [n, d_sae] (TopK/BatchTopK: ×‖W_dec‖ when rescaling; Gated: magnitude path) and `acts` [n, d_sae].
 * @throws {@link "tfjs-lens"!ConfigError} when an architecture's extra parameters are missing.
 * @example const { acts } = encodeFlat(sae.cfg, sae.params, x);
 * @category SAE
 */
export function encodeFlat(
  cfg: SaeConfig,
  p: SaeParams,
  x: tf.Tensor2D,
  preHook: (h: tf.Tensor2D) => tf.Tensor2D = (h) => h,
): {
  /** Pre-activations [n, d_sae]. */
  hiddenPre: tf.Tensor2D;
  /** Latents [n, d_sae]. */
  acts: tf.Tensor2D;
} {
  const xc: tf.Tensor2D = cfg.applyBDecToInput ? tf.sub(x, p.b_dec) : x; // [n, d_in]
  const a = cfg.architecture;
  if (a === 'gated') {
    const { b_gate, r_mag, b_mag } = p;
    if (b_gate === undefined || r_mag === undefined || b_mag === undefined) throw new ConfigError('SparseAutoencoder.encode: a gated SAE needs b_gate, r_mag and b_mag');
    const active = tf.cast(tf.greater(tf.add(tf.matMul(xc, p.W_enc), b_gate), 0), 'float32'); // [n, d_sae]
    const mag = preHook(tf.add(tf.matMul(xc, tf.mul(p.W_enc, tf.exp(r_mag))), b_mag)); // [n, d_sae]
    return { hiddenPre: mag, acts: tf.mul(active, tf.relu(mag)) };
  }
  const h = preHook(tf.add(tf.matMul(xc, p.W_enc), p.b_enc)); // [n, d_sae]
  if (a === 'topk' || a === 'batchtopk') {
    const hs: tf.Tensor2D = cfg.rescaleActsByDecoderNorm === true ? tf.mul(h, decoderNorms(p.W_dec)) : h; // [n, d_sae]
    return { hiddenPre: hs, acts: a === 'topk' ? topkRelu(hs, cfg.k as number) : batchTopkRelu(hs, cfg.k as number) };
  }
  if (a === 'jumprelu') {
    if (p.threshold === undefined) throw new ConfigError('SparseAutoencoder.encode: a jumprelu SAE needs the threshold parameter');
    return { hiddenPre: h, acts: tf.mul(tf.relu(h), tf.cast(tf.greater(h, p.threshold), 'float32')) };
  }
  return { hiddenPre: h, acts: tf.relu(h) };
}
