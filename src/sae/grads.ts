/**
 * Hand-written SAE training loss and gradients (no tfjs autodiff on the hot path). Losses follow
 * SAELens v6 `training_forward_pass`: MSE summed over d_in and averaged over the batch, plus
 * - standard: λ · mean_b Σ_i f_bi ‖W_dec[i]‖ (L1 scaled by decoder norms, `standard_sae.py`);
 * - topk: AuxK, the top-k_aux dead latents reconstruct the detached residual (`topk_sae.py`); the
 *   sparse path (`grads_topk_sparse.ts`) touches only the k selected latents per token;
 * - batchtopk: as topk with the batch-wide selection (`batchtopk_sae.py`), dense path;
 * - gated: L1 on the gate path + auxiliary gate reconstruction (`gated_sae.py`; tfjs autodiff, `grads_gated.ts`);
 * - jumprelu: λ · mean_b Σ_i H(h_bi − θ_i) ('step') or tanh(c·f·‖W_dec‖) ('tanh'), with SAELens's
 *   rectangle-kernel pseudo-derivative for θ (`jumprelu_sae.py` `JumpReLU`/`Step` backward).
 * On tfjs-wasm a matmul with a transpose flag runs ~10x slower than a plain one, so every transpose
 * is an explicit copy and every matmul is plain 2-D; column sums are ones·A matmuls.
 */
import * as tf from '@tensorflow/tfjs-core';
import { ConfigError } from '../errors.js';
import type { SaeConfig } from './config.js';
import {
  auxK, colSum, decoderPass, decoderWeightGrad, encoderGrads, encoderPre, pack, varianceStats,
  type SaeGradOptions, type SaeGradResult, type SaeTensors,
} from './grad_parts.js';
import { topkSparseGrads } from './grads_topk_sparse.js';
import { gatedGrads } from './grads_gated.js';
import { batchTopkMask, decoderNorms, topkMask } from './sae_ops.js';

export { STATS_HEAD } from './grad_parts.js';
export type { SaeGradOptions, SaeGradResult, SaeGrads, SaeTensors } from './grad_parts.js';

/** standard: ReLU, L1 on f·‖W_dec[i]‖. */
function standardGrads(cfg: SaeConfig, p: SaeTensors, x: tf.Tensor2D, o: SaeGradOptions): SaeGradResult {
  const batch = x.shape[0];
  const lam = o.sparsityCoefficient;
  const fw = encoderPre(cfg, p, x);
  const f: tf.Tensor2D = tf.relu(fw.h); // [batch, d_sae]
  const d = decoderPass(p, f, x);
  const n = tf.maximum(decoderNorms(p.W_dec), 1e-12); // [d_sae]
  const fSum = colSum(f); // [d_sae]
  const l1 = tf.mul<tf.Scalar>(tf.sum(tf.mul(fSum, n)), lam / batch);
  const df = tf.add(tf.matMul(d.dOut, d.WdecT), tf.mul(n, lam / batch)); // [batch, d_in]·[d_in, d_sae] → [batch, d_sae]
  const dh = tf.mul<tf.Tensor2D>(df, tf.step(fw.h)); // [batch, d_sae]
  const l1Dec = tf.mul(tf.reshape(tf.div(tf.mul(fSum, lam / batch), n), [-1, 1]), p.W_dec); // [d_sae, d_in]
  const dW_dec: tf.Tensor2D = tf.add(decoderWeightGrad(f, d.dOut), l1Dec); // [d_sae, d_in]
  const enc = encoderGrads(cfg, p, fw, dh, colSum(d.dOut));
  const fired = colSum(tf.step(f)); // [d_sae]
  const l0 = tf.div<tf.Scalar>(tf.sum(fired), batch);
  return {
    grads: { ...enc, W_dec: dW_dec },
    stats: pack([d.mse, l1, tf.scalar(0), l0, ...varianceStats(x, d.err)], fired),
  };
}

/**
 * topk: ReLU of the k largest (decoder-norm-scaled) pre-activations per row; batchtopk: of the int(k·batch)
 * largest in the whole batch (SAELens `BatchTopK`). AuxK on dead latents (both, as SAELens's BatchTopK
 * inherits TopK's training loss).
 */
function topkGrads(cfg: SaeConfig, p: SaeTensors, x: tf.Tensor2D, o: SaeGradOptions): SaeGradResult & { minPositive?: tf.Scalar } {
  const batch = x.shape[0];
  const rescale = cfg.rescaleActsByDecoderNorm === true;
  const fw = encoderPre(cfg, p, x);
  const hs: tf.Tensor2D = rescale ? tf.mul(fw.h, decoderNorms(p.W_dec)) : fw.h; // [batch, d_sae]
  const select = cfg.architecture === 'batchtopk' ? batchTopkMask(hs, cfg.k as number) : topkMask(hs, cfg.k as number);
  const mask = tf.mul<tf.Tensor2D>(select, tf.step(fw.h)); // selected and positive
  const fd = tf.mul<tf.Tensor2D>(fw.h, mask); // decoder input (acts / ‖W_dec‖ = relu(h) on the kept set): [batch, d_sae]
  const d = decoderPass(p, fd, x);
  let dh: tf.Tensor2D = tf.mul(tf.matMul(d.dOut, d.WdecT), mask); // [batch, d_in]·[d_in, d_sae] → [batch, d_sae]
  let dW_dec = decoderWeightGrad(fd, d.dOut); // [d_sae, d_in]
  let dbDecOut = colSum(d.dOut);
  let aux: tf.Scalar = tf.scalar(0);
  if ((o.nDead ?? 0) > 0 && o.deadMask !== undefined) {
    const a = auxK(p, hs, fw.h, rescale, d.err, d.WdecT, { ...o, deadMask: o.deadMask });
    aux = a.aux;
    dh = tf.add(dh, a.dh);
    dW_dec = tf.add<tf.Tensor2D>(dW_dec, a.dW_dec);
    dbDecOut = tf.add<tf.Tensor1D>(dbDecOut, a.db_dec);
  }
  const enc = encoderGrads(cfg, p, fw, dh, dbDecOut);
  const fired = colSum(mask); // [d_sae]
  const acts = tf.mul(hs, mask); // SAELens feature_acts [batch, d_sae]
  return {
    grads: { ...enc, W_dec: dW_dec },
    stats: pack([d.mse, tf.scalar(0), aux, tf.div<tf.Scalar>(tf.sum(fired), batch), ...varianceStats(x, d.err)], fired),
    ...(cfg.architecture === 'batchtopk' ? { minPositive: tf.min<tf.Scalar>(tf.where(tf.greater(acts, 0), acts, tf.fill(acts.shape, Infinity))) } : {}),
  };
}

/** jumprelu: f = h·H(h − θ); θ gets the rectangle-kernel pseudo-derivative. */
function jumpreluGrads(cfg: SaeConfig, p: SaeTensors, x: tf.Tensor2D, o: SaeGradOptions): SaeGradResult {
  const batch = x.shape[0];
  const lam = o.sparsityCoefficient;
  const eps = o.bandwidth ?? 0.05;
  const theta = p.threshold;
  if (theta === undefined) throw new ConfigError('saeLossAndGrads: a jumprelu SAE needs the threshold parameter');
  const fw = encoderPre(cfg, p, x);
  const u = tf.sub<tf.Tensor2D>(fw.h, theta); // h − θ: [batch, d_sae]
  const gate = tf.step(u); // H(h − θ)
  const f: tf.Tensor2D = tf.mul(fw.h, gate); // [batch, d_sae]
  const d = decoderPass(p, f, x);
  let df: tf.Tensor2D = tf.matMul(d.dOut, d.WdecT); // [batch, d_in]·[d_in, d_sae] → [batch, d_sae]
  let dW_dec = decoderWeightGrad(f, d.dOut); // [d_sae, d_in]
  const kernel = tf.cast(tf.less<tf.Tensor2D>(tf.abs(u), eps / 2), 'float32'); // rectangle((h − θ)/ε)
  let sparsity: tf.Scalar;
  let dTheta: tf.Tensor1D;
  if ((o.sparsityLossMode ?? 'step') === 'tanh') {
    const c = o.tanhScale ?? 4;
    const n = tf.maximum(decoderNorms(p.W_dec), 1e-12); // [d_sae]
    const t = tf.tanh(tf.mul(tf.mul(f, n), c)); // [batch, d_sae]
    sparsity = tf.mul<tf.Scalar>(tf.sum(t), lam / batch);
    const sech2 = tf.sub(1, tf.square(t));
    df = tf.add(df, tf.mul(tf.mul(sech2, n), (lam * c) / batch));
    const dn = tf.mul(colSum(tf.mul(f, sech2)), (lam * c) / batch); // [d_sae]
    dW_dec = tf.add(dW_dec, tf.mul(tf.reshape(tf.div(dn, n), [-1, 1]), p.W_dec)); // [d_sae, d_in]
    dTheta = tf.zerosLike(theta);
  } else {
    sparsity = tf.mul<tf.Scalar>(tf.sum(gate), lam / batch);
    dTheta = tf.mul(colSum(kernel), -lam / (batch * eps)); // Step backward: −(1/ε)·K·λ/batch
  }
  const dh = tf.mul<tf.Tensor2D>(df, gate); // [batch, d_sae]
  dTheta = tf.add(dTheta, tf.mul(tf.mul(colSum(tf.mul(kernel, df)), theta), -1 / eps)); // −(θ/ε)·Σ K·df
  const enc = encoderGrads(cfg, p, fw, dh, colSum(d.dOut));
  const fired = colSum(tf.step(f)); // [d_sae]
  return {
    grads: { ...enc, W_dec: dW_dec, threshold: dTheta },
    stats: pack([d.mse, sparsity, tf.scalar(0), tf.div<tf.Scalar>(tf.sum(fired), batch), ...varianceStats(x, d.err)], fired),
  };
}

/**
 * Training loss and hand-written gradients for one batch.
 * @param cfg Architecture (standard, topk, jumprelu, batchtopk, gated).
 * @param p Parameters.
 * @param x [batch, d_in] (already normalised).
 * @param o Coefficients, dead mask, JumpReLU options.
 * @returns Gradients (same shapes as the parameters) and packed statistics; the caller disposes them.
 * @example const { grads, stats } = saeLossAndGrads(sae.cfg, sae.params, x, { sparsityCoefficient: 5 });
 * @throws {@link "tfjs-lens"!ConfigError} if a jumprelu config comes without `p.threshold`.
 * @category SAE
 */
export function saeLossAndGrads(cfg: SaeConfig, p: SaeTensors, x: tf.Tensor2D, o: SaeGradOptions): SaeGradResult {
  if (cfg.architecture === 'gated') return gatedGrads(cfg, p, x, o);
  // tf.tidy keeps the tensors it is handed back: the result's tensors, as a tuple.
  type Out = [tf.Tensor2D, tf.Tensor1D, tf.Tensor2D, tf.Tensor1D, tf.Tensor1D | undefined, tf.Tensor1D, tf.Scalar | undefined];
  const [W_enc, b_enc, W_dec, b_dec, threshold, stats, minPos] = tf.tidy((): Out => {
    const r: SaeGradResult & { minPositive?: tf.Scalar } =
      cfg.architecture === 'standard' ? standardGrads(cfg, p, x, o)
        : cfg.architecture === 'topk' ? (o.sparse === false ? topkGrads(cfg, p, x, o) : topkSparseGrads(cfg, p, x, o))
          : cfg.architecture === 'batchtopk' ? topkGrads(cfg, p, x, o)
            : jumpreluGrads(cfg, p, x, o);
    const g = r.grads;
    return [g.W_enc, g.b_enc, g.W_dec, g.b_dec, g.threshold, r.stats, r.minPositive];
  });
  let minPositiveAct: number | undefined;
  if (minPos !== undefined) {
    minPositiveAct = minPos.dataSync()[0] as number;
    minPos.dispose();
  }
  return {
    grads: { W_enc, b_enc, W_dec, b_dec, ...(threshold === undefined ? {} : { threshold }) },
    stats,
    ...(minPositiveAct !== undefined ? { minPositiveAct } : {}),
  };
}
