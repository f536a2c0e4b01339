/**
 * Shared pieces of the hand-written SAE gradients (`grads.ts`, `grads_topk_sparse.ts`): parameter and
 * result types, the encoder/decoder passes with their gradients, and TopK's AuxK term. Every matmul is
 * plain 2-D with explicit transposes (tfjs-wasm runs transpose-flag matmuls ~10x slower).
 */
import * as tf from '@tensorflow/tfjs-core';
import { rank1 } from '../utils/tensor_rank.js';
import type { SaeConfig } from './config.js';
import { topkMask } from './sae_ops.js';

/** Parameter tensors the gradient code reads (SAELens names). @category SAE */
export interface SaeTensors {
  /** [d_in, d_sae]. */
  readonly W_enc: tf.Tensor2D;
  /** [d_sae]. */
  readonly b_enc: tf.Tensor1D;
  /** [d_sae, d_in]. */
  readonly W_dec: tf.Tensor2D;
  /** [d_in]. */
  readonly b_dec: tf.Tensor1D;
  /** [d_sae], JumpReLU only (θ itself; the trainer optimises log θ). */
  readonly threshold?: tf.Tensor1D;
  /** [d_sae], Gated only. */
  readonly b_gate?: tf.Tensor1D;
  /** [d_sae], Gated only. */
  readonly r_mag?: tf.Tensor1D;
  /** [d_sae], Gated only. */
  readonly b_mag?: tf.Tensor1D;
}

/** Options of {@link saeLossAndGrads}. @category SAE */
export interface SaeGradOptions {
  /** L1 (standard) or L0 (jumprelu) coefficient at this step (after warm-up). */
  readonly sparsityCoefficient: number;
  /** 1 for dead latents, 0 otherwise [d_sae] (TopK AuxK). */
  readonly deadMask?: tf.Tensor1D;
  /** Number of dead latents (the sum of deadMask). */
  readonly nDead?: number;
  /** TopK AuxK coefficient (default 1). */
  readonly auxLossCoefficient?: number;
  /** JumpReLU bandwidth ε (default 0.05). */
  readonly bandwidth?: number;
  /** JumpReLU sparsity loss (default 'step'). */
  readonly sparsityLossMode?: 'step' | 'tanh';
  /** JumpReLU tanh scale (default 4). */
  readonly tanhScale?: number;
  /** TopK: compute the decoder and all gradients on the k selected latents per token only (default
   * true; `false` uses the dense [batch, d_sae] path). */
  readonly sparse?: boolean;
}

/** Gradients by parameter name; `threshold` is d loss / dθ. @category SAE */
export interface SaeGrads {
  /** d loss / d W_enc [d_in, d_sae]. */
  readonly W_enc: tf.Tensor2D;
  /** d loss / d b_enc [d_sae]. */
  readonly b_enc: tf.Tensor1D;
  /** d loss / d W_dec [d_sae, d_in]. */
  readonly W_dec: tf.Tensor2D;
  /** d loss / d b_dec [d_in]. */
  readonly b_dec: tf.Tensor1D;
  /** d loss / dθ [d_sae], JumpReLU only. */
  readonly threshold?: tf.Tensor1D;
  /** d loss / d b_gate [d_sae], Gated only. */
  readonly b_gate?: tf.Tensor1D;
  /** d loss / d r_mag [d_sae], Gated only. */
  readonly r_mag?: tf.Tensor1D;
  /** d loss / d b_mag [d_sae], Gated only. */
  readonly b_mag?: tf.Tensor1D;
}

/** Number of scalars at the head of {@link SaeGradResult.stats}. @category SAE */
export const STATS_HEAD = 6;

/** Output of {@link saeLossAndGrads}. @category SAE */
export interface SaeGradResult {
  /** Gradients of the training loss (MSE + sparsity + aux), same shapes as the parameters. */
  readonly grads: SaeGrads;
  /**
   * Shape `[STATS_HEAD + d_sae]`: mse loss, sparsity loss, aux loss, mean L0, Σ‖x − x̂‖², Σ‖x − x̄‖²
   * (batch-centred), then how many tokens each latent fired on.
   */
  readonly stats: tf.Tensor1D;
  /** BatchTopK: the smallest positive latent activation of the batch (Infinity when none fired), for
   * the threshold update (SAELens `update_topk_threshold`). */
  readonly minPositiveAct?: number;
}

/**
 * Column sums of a [b, n] matrix as a plain matmul (ones [1, b] · a), faster on tfjs-wasm than tf.sum(a, 0).
 * @param a [b, n].
 * @returns [n].
 * @example colSum(tf.ones([4, 3]));   // [4, 4, 4]
 * @throws Never.
 * @category SAE
 */
export function colSum(a: tf.Tensor2D): tf.Tensor1D {
  const [rows, cols] = a.shape;
  const ones = tf.ones<tf.Rank.R2>([1, rows]); // [1, batch]
  return tf.reshape(tf.matMul(ones, a), [cols]); // [n]
}

/**
 * d loss / d W_dec = fᵀ·dOut [d_sae, d_in], computed as (dOutᵀ·f)ᵀ: the transposes then copy
 * d_in-wide matrices ([batch, d_in] and [d_in, d_sae]) instead of the [batch, d_sae] latents, and the
 * matmul has the faster [d_in, batch]·[batch, d_sae] layout on tfjs-wasm.
 * @param f Decoder input [batch, d_sae].
 * @param dOut d loss / d x̂ [batch, d_in].
 * @returns [d_sae, d_in].
 * @example decoderWeightGrad(f, dOut);
 * @throws Never.
 * @category SAE
 */
export function decoderWeightGrad(f: tf.Tensor2D, dOut: tf.Tensor2D): tf.Tensor2D {
  return tf.transpose(tf.matMul<tf.Tensor2D>(tf.transpose(dOut), f)); // ([d_in, batch]·[batch, d_sae])ᵀ → [d_sae, d_in]
}

/** Centred input xc [batch, d_in] and pre-activations h [batch, d_sae]. @category SAE */
export interface Forward {
  readonly xc: tf.Tensor2D;
  readonly h: tf.Tensor2D;
}

/**
 * Encoder pre-activations: xc = x − b_dec (when applied), h = xc·W_enc + b_enc.
 * @param cfg Architecture.
 * @param p Parameters.
 * @param x [batch, d_in].
 * @returns xc [batch, d_in] and h [batch, d_sae].
 * @example const { xc, h } = encoderPre(cfg, p, x);
 * @throws Never.
 * @category SAE
 */
export function encoderPre(cfg: SaeConfig, p: SaeTensors, x: tf.Tensor2D): Forward {
  const xc: tf.Tensor2D = cfg.applyBDecToInput ? tf.sub(x, p.b_dec) : x; // [batch, d_in]
  return { xc, h: tf.add(tf.matMul(xc, p.W_enc), p.b_enc) }; // [batch, d_sae]
}

/** Residual err = x̂ − x, the MSE, d loss/d x̂ and W_decᵀ. @category SAE */
interface DecoderPass {
  readonly err: tf.Tensor2D;
  readonly mse: tf.Scalar;
  readonly dOut: tf.Tensor2D;
  readonly WdecT: tf.Tensor2D;
}

/**
 * Dense decoder: x̂ = fd·W_dec + b_dec, the MSE (Σ_d, mean over batch) and d/dx̂ = 2(x̂ − x)/batch.
 * @param p Parameters.
 * @param fd Decoder input [batch, d_sae].
 * @param x [batch, d_in].
 * @returns err, mse, dOut [batch, d_in] and W_decᵀ [d_in, d_sae].
 * @example const d = decoderPass(p, f, x);
 * @throws Never.
 * @category SAE
 */
export function decoderPass(p: SaeTensors, fd: tf.Tensor2D, x: tf.Tensor2D): DecoderPass {
  const batch = x.shape[0];
  const xhat = tf.add(tf.matMul(fd, p.W_dec), p.b_dec); // [batch, d_in]
  const err: tf.Tensor2D = tf.sub(xhat, x); // [batch, d_in]
  const mse = tf.div<tf.Scalar>(tf.sum(tf.square(err)), batch);
  const WdecT = tf.transpose(p.W_dec); // [d_in, d_sae]
  return { err, mse, dOut: tf.mul(err, 2 / batch), WdecT };
}

/**
 * Encoder-side gradients from d loss / dh, plus the b_dec path through the input centring.
 * @param cfg Architecture.
 * @param p Parameters.
 * @param f The encoder pass.
 * @param dh d loss / dh [batch, d_sae].
 * @param dbDecOut d loss / d b_dec through the output [d_in].
 * @returns Gradients of W_enc [d_in, d_sae], b_enc [d_sae], b_dec [d_in].
 * @example encoderGrads(cfg, p, fw, dh, colSum(dOut));
 * @throws Never.
 * @category SAE
 */
export function encoderGrads(cfg: SaeConfig, p: SaeTensors, f: Forward, dh: tf.Tensor2D, dbDecOut: tf.Tensor1D): Pick<SaeGrads, 'W_enc' | 'b_enc' | 'b_dec'> {
  const dW_enc: tf.Tensor2D = tf.matMul(tf.transpose(f.xc), dh); // [d_in, batch]·[batch, d_sae] → [d_in, d_sae]
  const db_enc = colSum(dh); // [d_sae]
  if (!cfg.applyBDecToInput) return { W_enc: dW_enc, b_enc: db_enc, b_dec: dbDecOut };
  const viaInput = tf.reshape(tf.matMul(p.W_enc, tf.reshape(db_enc, [-1, 1])), [-1]); // [d_in, d_sae]·[d_sae, 1] → [d_in]
  return { W_enc: dW_enc, b_enc: db_enc, b_dec: tf.sub<tf.Tensor1D>(dbDecOut, viaInput) };
}

/**
 * Batch statistics for explained variance: Σ‖x − x̂‖² and Σ‖x − x̄‖² (batch-centred).
 * @param x [batch, d_in].
 * @param err x̂ − x [batch, d_in].
 * @returns Two scalars.
 * @example const [sse, tv] = varianceStats(x, err);
 * @throws Never.
 * @category SAE
 */
export function varianceStats(x: tf.Tensor2D, err: tf.Tensor2D): [tf.Scalar, tf.Scalar] {
  const mean = tf.div(colSum(x), x.shape[0]); // [d_in]
  return [tf.sum(tf.square(err)), tf.sum(tf.square(tf.sub(x, mean)))];
}

/**
 * Pack the step statistics: head scalars then per-latent firing counts.
 * @param head STATS_HEAD scalars.
 * @param fired [d_sae].
 * @returns [STATS_HEAD + d_sae].
 * @example pack([mse, l1, aux, l0, sse, tv], fired);
 * @throws Never.
 * @category SAE
 */
export function pack(head: tf.Scalar[], fired: tf.Tensor1D): tf.Tensor1D {
  return tf.concat1d([rank1(tf.stack(head), 'pack'), fired]);
}

/** AuxK loss and its gradient contributions (dense). @category SAE */
interface AuxOut {
  readonly aux: tf.Scalar;
  readonly dh: tf.Tensor2D;
  readonly dW_dec: tf.Tensor2D;
  readonly db_dec: tf.Tensor1D;
}

/**
 * TopK AuxK (SAELens `calculate_topk_aux_loss`): the top-k_aux dead latents (by scaled
 * pre-activation), k_aux = min(d_in/2, n_dead), reconstruct the detached residual x − x̂; the loss is
 * scaled by min(n_dead / (d_in/2), 1).
 * @param p Parameters.
 * @param hs Ranking pre-activations [batch, d_sae] (h·‖W_dec‖ when rescaling).
 * @param h Pre-activations [batch, d_sae].
 * @param rescale Whether hs = h·‖W_dec‖.
 * @param err x̂ − x [batch, d_in].
 * @param WdecT W_decᵀ [d_in, d_sae].
 * @param o Dead mask (required here), count, coefficient.
 * @returns The loss and its gradients w.r.t. h, W_dec and b_dec.
 * @example const a = auxK(p, hs, h, true, err, WdecT, o);
 * @throws Never.
 * @category SAE
 */
export function auxK(p: SaeTensors, hs: tf.Tensor2D, h: tf.Tensor2D, rescale: boolean, err: tf.Tensor2D, WdecT: tf.Tensor2D, o: SaeGradOptions & { readonly deadMask: tf.Tensor1D }): AuxOut {
  const [batch, dIn] = err.shape;
  const nDead = o.nDead ?? 0;
  const half = Math.floor(dIn / 2);
  const kAux = Math.min(half, nDead);
  const coef = (o.auxLossCoefficient ?? 1) * Math.min(nDead / half, 1);
  const dead = tf.reshape(o.deadMask, [1, -1]); // [1, d_sae]
  const masked = tf.add(tf.mul(hs, dead), tf.mul(tf.sub(dead, 1), 1e30)); // live latents → −1e30: [batch, d_sae]
  const m = tf.mul(topkMask(masked, kAux), dead); // [batch, d_sae]
  const ua = tf.mul<tf.Tensor2D>(rescale ? h : hs, m); // decode(auxk_acts) input: acts / ‖W_dec‖ = h when rescaling
  const diff = tf.add(tf.add(tf.matMul(ua, p.W_dec), p.b_dec), err); // recons − (x − x̂): [batch, d_in]
  const aux = tf.mul<tf.Scalar>(tf.div(tf.sum(tf.square(diff)), batch), coef);
  const dAux = tf.mul<tf.Tensor2D>(diff, (2 * coef) / batch); // [batch, d_in]
  const dh = tf.mul<tf.Tensor2D>(tf.matMul(dAux, WdecT), m); // [batch, d_in]·[d_in, d_sae] → [batch, d_sae]
  return { aux, dh, dW_dec: decoderWeightGrad(ua, dAux), db_dec: colSum(dAux) };
}

