/**
 * Hand-written SAE training loss and gradients (no tfjs autodiff on the hot path). Losses follow
 * SAELens v6 `training_forward_pass`: MSE summed over d_in and averaged over the batch, plus
 * - standard: λ · mean_b Σ_i f_bi ‖W_dec[i]‖ (L1 scaled by decoder norms, `standard_sae.py`);
 * - topk: AuxK, the top-k_aux dead latents reconstruct the detached residual (`topk_sae.py`);
 * - jumprelu: λ · mean_b Σ_i H(h_bi − θ_i) ('step') or tanh(c·f·‖W_dec‖) ('tanh'), with SAELens's
 *   rectangle-kernel pseudo-derivative for θ (`jumprelu_sae.py` `JumpReLU`/`Step` backward).
 * On tfjs-wasm a matmul with a transpose flag runs ~10x slower than a plain one, so every transpose
 * is an explicit copy and every matmul is plain 2-D; column sums are ones·A matmuls.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { SaeConfig } from './config.js';
import { decoderNorms, topkMask } from './sae.js';

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
}

/** Gradients by parameter name; `threshold` is d loss / dθ. @category SAE */
export interface SaeGrads {
  readonly W_enc: tf.Tensor2D;
  readonly b_enc: tf.Tensor1D;
  readonly W_dec: tf.Tensor2D;
  readonly b_dec: tf.Tensor1D;
  readonly threshold?: tf.Tensor1D;
}

/** Number of scalars at the head of {@link SaeGradResult.stats}. @category SAE */
export const STATS_HEAD = 6;

/** Output of {@link saeLossAndGrads}. @category SAE */
export interface SaeGradResult {
  readonly grads: SaeGrads;
  /**
   * [STATS_HEAD + d_sae]: mse loss, sparsity loss, aux loss, mean L0, Σ‖x − x̂‖², Σ‖x − x̄‖²
   * (batch-centred), then how many tokens each latent fired on.
   */
  readonly stats: tf.Tensor1D;
}

/** Column sums of a [b, n] matrix as a plain matmul: ones [1, b] · a → [n]. */
function colSum(a: tf.Tensor): tf.Tensor1D {
  const [rows, cols] = a.shape as [number, number];
  const ones = tf.ones([1, rows]) as tf.Tensor2D; // [1, batch]
  return tf.reshape(tf.matMul(ones, a as tf.Tensor2D), [cols]); // [n]
}

interface Forward {
  readonly xc: tf.Tensor2D;
  readonly h: tf.Tensor2D;
}

function encoderPre(cfg: SaeConfig, p: SaeTensors, x: tf.Tensor2D): Forward {
  const xc: tf.Tensor2D = cfg.applyBDecToInput ? tf.sub(x, p.b_dec) : x; // [batch, d_in]
  return { xc, h: tf.add(tf.matMul(xc, p.W_enc), p.b_enc) }; // [batch, d_sae]
}

interface DecoderPass {
  readonly err: tf.Tensor2D;
  readonly mse: tf.Scalar;
  readonly dOut: tf.Tensor2D;
  readonly WdecT: tf.Tensor2D;
}

/** x̂ = fd·W_dec + b_dec, the MSE and its gradient d/dx̂ = 2(x̂ − x)/batch. */
function decoderPass(p: SaeTensors, fd: tf.Tensor, x: tf.Tensor2D): DecoderPass {
  const batch = x.shape[0];
  const xhat = tf.add(tf.matMul(fd as tf.Tensor2D, p.W_dec), p.b_dec); // [batch, d_in]
  const err: tf.Tensor2D = tf.sub(xhat, x); // [batch, d_in]
  const mse = tf.div(tf.sum(tf.square(err)), batch) as tf.Scalar;
  const WdecT = tf.transpose(p.W_dec); // [d_in, d_sae]
  return { err, mse, dOut: tf.mul(err, 2 / batch), WdecT };
}

/** Encoder-side gradients from d loss / dh, plus the b_dec path through the input centring. */
function encoderGrads(cfg: SaeConfig, p: SaeTensors, f: Forward, dh: tf.Tensor, dbDecOut: tf.Tensor1D): Pick<SaeGrads, 'W_enc' | 'b_enc' | 'b_dec'> {
  const dW_enc: tf.Tensor2D = tf.matMul(tf.transpose(f.xc), dh as tf.Tensor2D); // [d_in, batch]·[batch, d_sae] → [d_in, d_sae]
  const db_enc = colSum(dh); // [d_sae]
  if (!cfg.applyBDecToInput) return { W_enc: dW_enc, b_enc: db_enc, b_dec: dbDecOut };
  const viaInput = tf.reshape(tf.matMul(p.W_enc, tf.reshape(db_enc, [-1, 1]) as tf.Tensor2D), [-1]); // [d_in, d_sae]·[d_sae, 1] → [d_in]
  return { W_enc: dW_enc, b_enc: db_enc, b_dec: tf.sub<tf.Tensor1D>(dbDecOut, viaInput) };
}

/** Batch statistics shared by all architectures: [.., Σ‖x − x̂‖², Σ‖x − x̄‖²]. */
function varianceStats(x: tf.Tensor2D, err: tf.Tensor2D): [tf.Scalar, tf.Scalar] {
  const mean = tf.div(colSum(x), x.shape[0]); // [d_in]
  return [tf.sum(tf.square(err)), tf.sum(tf.square(tf.sub(x, mean)))];
}

function pack(head: tf.Scalar[], fired: tf.Tensor1D): tf.Tensor1D {
  return tf.concat([tf.stack(head), fired]) as tf.Tensor1D;
}

/** standard: ReLU, L1 on f·‖W_dec[i]‖. */
function standardGrads(cfg: SaeConfig, p: SaeTensors, x: tf.Tensor2D, o: SaeGradOptions): SaeGradResult {
  const batch = x.shape[0];
  const lam = o.sparsityCoefficient;
  const fw = encoderPre(cfg, p, x);
  const f: tf.Tensor2D = tf.relu(fw.h); // [batch, d_sae]
  const d = decoderPass(p, f, x);
  const n = tf.maximum(decoderNorms(p.W_dec), 1e-12); // [d_sae]
  const fSum = colSum(f); // [d_sae]
  const l1 = tf.mul(tf.sum(tf.mul(fSum, n)), lam / batch) as tf.Scalar;
  const df = tf.add(tf.matMul(d.dOut, d.WdecT), tf.mul(n, lam / batch)); // [batch, d_in]·[d_in, d_sae] → [batch, d_sae]
  const dh = tf.mul(df, tf.step(fw.h)); // [batch, d_sae]
  const l1Dec = tf.mul(tf.reshape(tf.div(tf.mul(fSum, lam / batch), n), [-1, 1]), p.W_dec); // [d_sae, d_in]
  const dW_dec: tf.Tensor2D = tf.add(tf.matMul(tf.transpose(f), d.dOut), l1Dec); // [d_sae, batch]·[batch, d_in] → [d_sae, d_in]
  const enc = encoderGrads(cfg, p, fw, dh, colSum(d.dOut));
  const fired = colSum(tf.step(f)); // [d_sae]
  const l0 = tf.div(tf.sum(fired), batch) as tf.Scalar;
  return {
    grads: { ...enc, W_dec: dW_dec },
    stats: pack([d.mse, l1, tf.scalar(0), l0, ...varianceStats(x, d.err)], fired),
  };
}

interface AuxOut {
  readonly aux: tf.Scalar;
  readonly dh: tf.Tensor2D;
  readonly dW_dec: tf.Tensor2D;
  readonly db_dec: tf.Tensor1D;
}

/** TopK AuxK: the top-k_aux dead latents (by scaled pre-activation) reconstruct the detached residual. */
function auxK(p: SaeTensors, hs: tf.Tensor, h: tf.Tensor, rescale: boolean, err: tf.Tensor2D, WdecT: tf.Tensor2D, o: SaeGradOptions): AuxOut {
  const [batch, dIn] = err.shape as [number, number];
  const nDead = o.nDead ?? 0;
  const half = Math.floor(dIn / 2);
  const kAux = Math.min(half, nDead);
  const coef = (o.auxLossCoefficient ?? 1) * Math.min(nDead / half, 1);
  const dead = tf.reshape(o.deadMask as tf.Tensor1D, [1, -1]); // [1, d_sae]
  const masked = tf.add(tf.mul(hs, dead), tf.mul(tf.sub(dead, 1), 1e30)); // live latents → −1e30: [batch, d_sae]
  const m = tf.mul(topkMask(masked, kAux), dead); // [batch, d_sae]
  const ua = tf.mul(rescale ? h : hs, m) as tf.Tensor2D; // decode(auxk_acts) input: acts / ‖W_dec‖ = h when rescaling
  const diff = tf.add(tf.add(tf.matMul(ua, p.W_dec), p.b_dec), err); // recons − (x − x̂): [batch, d_in]
  const aux = tf.mul(tf.div(tf.sum(tf.square(diff)), batch), coef) as tf.Scalar;
  const dAux = tf.mul(diff, (2 * coef) / batch) as tf.Tensor2D; // [batch, d_in]
  const dh = tf.mul(tf.matMul(dAux, WdecT), m) as tf.Tensor2D; // [batch, d_in]·[d_in, d_sae] → [batch, d_sae]
  return { aux, dh, dW_dec: tf.matMul(tf.transpose(ua), dAux), db_dec: colSum(dAux) }; // [d_sae, batch]·[batch, d_in]
}

/** topk: ReLU of the k largest (decoder-norm-scaled) pre-activations; AuxK on dead latents. */
function topkGrads(cfg: SaeConfig, p: SaeTensors, x: tf.Tensor2D, o: SaeGradOptions): SaeGradResult {
  const batch = x.shape[0];
  const rescale = cfg.rescaleActsByDecoderNorm === true;
  const fw = encoderPre(cfg, p, x);
  const hs: tf.Tensor2D = rescale ? tf.mul(fw.h, decoderNorms(p.W_dec)) : fw.h; // [batch, d_sae]
  const mask = tf.mul(topkMask(hs, cfg.k as number), tf.step(fw.h)); // selected and positive
  const fd = tf.mul(fw.h, mask) as tf.Tensor2D; // decoder input (acts / ‖W_dec‖ = relu(h) on the kept set): [batch, d_sae]
  const d = decoderPass(p, fd, x);
  let dh: tf.Tensor2D = tf.mul(tf.matMul(d.dOut, d.WdecT), mask); // [batch, d_in]·[d_in, d_sae] → [batch, d_sae]
  let dW_dec: tf.Tensor2D = tf.matMul(tf.transpose(fd), d.dOut); // [d_sae, batch]·[batch, d_in] → [d_sae, d_in]
  let dbDecOut = colSum(d.dOut);
  let aux: tf.Scalar = tf.scalar(0);
  if ((o.nDead ?? 0) > 0 && o.deadMask !== undefined) {
    const a = auxK(p, hs, fw.h, rescale, d.err, d.WdecT, o);
    aux = a.aux;
    dh = tf.add(dh, a.dh);
    dW_dec = tf.add<tf.Tensor2D>(dW_dec, a.dW_dec);
    dbDecOut = tf.add<tf.Tensor1D>(dbDecOut, a.db_dec);
  }
  const enc = encoderGrads(cfg, p, fw, dh, dbDecOut);
  const fired = colSum(mask); // [d_sae]
  return {
    grads: { ...enc, W_dec: dW_dec },
    stats: pack([d.mse, tf.scalar(0), aux, tf.div(tf.sum(fired), batch) as tf.Scalar, ...varianceStats(x, d.err)], fired),
  };
}

/** jumprelu: f = h·H(h − θ); θ gets the rectangle-kernel pseudo-derivative. */
function jumpreluGrads(cfg: SaeConfig, p: SaeTensors, x: tf.Tensor2D, o: SaeGradOptions): SaeGradResult {
  const batch = x.shape[0];
  const lam = o.sparsityCoefficient;
  const eps = o.bandwidth ?? 0.05;
  const theta = p.threshold as tf.Tensor1D;
  const fw = encoderPre(cfg, p, x);
  const u = tf.sub(fw.h, theta); // h − θ: [batch, d_sae]
  const gate = tf.step(u); // H(h − θ)
  const f: tf.Tensor2D = tf.mul(fw.h, gate); // [batch, d_sae]
  const d = decoderPass(p, f, x);
  let df: tf.Tensor2D = tf.matMul(d.dOut, d.WdecT); // [batch, d_in]·[d_in, d_sae] → [batch, d_sae]
  let dW_dec: tf.Tensor2D = tf.matMul(tf.transpose(f), d.dOut); // [d_sae, batch]·[batch, d_in] → [d_sae, d_in]
  const kernel = tf.cast(tf.less(tf.abs(u), eps / 2), 'float32'); // rectangle((h − θ)/ε)
  let sparsity: tf.Scalar;
  let dTheta: tf.Tensor1D;
  if ((o.sparsityLossMode ?? 'step') === 'tanh') {
    const c = o.tanhScale ?? 4;
    const n = tf.maximum(decoderNorms(p.W_dec), 1e-12); // [d_sae]
    const t = tf.tanh(tf.mul(tf.mul(f, n), c)); // [batch, d_sae]
    sparsity = tf.mul(tf.sum(t), lam / batch) as tf.Scalar;
    const sech2 = tf.sub(1, tf.square(t));
    df = tf.add(df, tf.mul(tf.mul(sech2, n), (lam * c) / batch));
    const dn = tf.mul(colSum(tf.mul(f, sech2) as tf.Tensor2D), (lam * c) / batch); // [d_sae]
    dW_dec = tf.add(dW_dec, tf.mul(tf.reshape(tf.div(dn, n), [-1, 1]), p.W_dec)); // [d_sae, d_in]
    dTheta = tf.zerosLike(theta);
  } else {
    sparsity = tf.mul(tf.sum(gate), lam / batch) as tf.Scalar;
    dTheta = tf.mul(colSum(kernel as tf.Tensor2D), -lam / (batch * eps)); // Step backward: −(1/ε)·K·λ/batch
  }
  const dh = tf.mul(df, gate); // [batch, d_sae]
  dTheta = tf.add(dTheta, tf.mul(tf.mul(colSum(tf.mul(kernel, df)), theta), -1 / eps)); // −(θ/ε)·Σ K·df
  const enc = encoderGrads(cfg, p, fw, dh, colSum(d.dOut));
  const fired = colSum(tf.step(f)); // [d_sae]
  return {
    grads: { ...enc, W_dec: dW_dec, threshold: dTheta },
    stats: pack([d.mse, sparsity, tf.scalar(0), tf.div(tf.sum(fired), batch) as tf.Scalar, ...varianceStats(x, d.err)], fired),
  };
}

/**
 * Training loss and hand-written gradients for one batch.
 * @param cfg Architecture (standard, topk, jumprelu).
 * @param p Parameters.
 * @param x [batch, d_in] (already normalised).
 * @param o Coefficients, dead mask, JumpReLU options.
 * @returns Gradients (same shapes as the parameters) and packed statistics; the caller disposes them.
 * @example const { grads, stats } = saeLossAndGrads(sae.cfg, sae.params, x, { sparsityCoefficient: 5 });
 * @category SAE
 */
export function saeLossAndGrads(cfg: SaeConfig, p: SaeTensors, x: tf.Tensor2D, o: SaeGradOptions): SaeGradResult {
  return tf.tidy(() => {
    const r =
      cfg.architecture === 'standard' ? standardGrads(cfg, p, x, o)
        : cfg.architecture === 'topk' ? topkGrads(cfg, p, x, o)
          : jumpreluGrads(cfg, p, x, o);
    return r as unknown as tf.TensorContainerObject;
  }) as unknown as SaeGradResult;
}
