/**
 * TopK SAE loss and gradients on the selected latents only (the sparse counterpart of SAELens's
 * `use_sparse_activations`). Only the encoder pre-activations need a dense matmul (for the top-k
 * selection); the decoder, d loss/dh and the W_dec / W_enc / b_enc gradients involve just the k
 * latents each token keeps, i.e. batch·k·d_in multiply-adds instead of batch·d_sae·d_in, done as
 * row gathers / scatter-adds on typed arrays (tfjs-wasm's gather and scatter kernels are far slower).
 * The AuxK term, when latents are dead, runs on the dead latents' columns only.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { SaeConfig } from './config.js';
import { auxK, colSum, encoderPre, type SaeGradOptions, type SaeGradResult, type SaeTensors } from './grad_parts.js';
import { decoderNorms } from './sae_ops.js';

interface Selected {
  /** Latent index of each kept entry [batch·k]. */
  readonly idx: Int32Array;
  /** Decoder coefficient of each kept entry (acts / ‖W_dec‖ when rescaling; 0 if not positive) [batch·k]. */
  readonly c: Float32Array;
}

function select(hs: tf.Tensor2D, k: number, norms: Float32Array | undefined): Selected {
  const top = tf.topk(hs, k); // [batch, k]
  const vals = top.values.dataSync();
  const idx = top.indices.dataSync() as Int32Array;
  tf.dispose([top.values, top.indices]);
  const c = new Float32Array(vals.length);
  for (let i = 0; i < vals.length; i++) {
    const v = vals[i] as number;
    c[i] = v > 0 ? (norms !== undefined ? v / (norms[idx[i] as number] as number) : v) : 0;
  }
  return { idx, c };
}

interface SparseOut {
  readonly err: Float32Array;
  readonly sse: number;
  readonly dWdec: Float32Array;
  readonly dWencT: Float32Array;
  readonly dbEnc: Float32Array;
  readonly dbDec: Float32Array;
  readonly fired: Float32Array;
}

/** Decoder forward and backward over the kept entries (row-major typed arrays). */
function sparseDecoder(sel: Selected, W: Float32Array, bDec: Float32Array, xs: Float32Array, xcs: Float32Array, batch: number, k: number, dSae: number): SparseOut {
  const dIn = bDec.length;
  const err = new Float32Array(batch * dIn);
  let sse = 0;
  for (let b = 0; b < batch; b++) {
    const row = err.subarray(b * dIn, (b + 1) * dIn);
    row.set(bDec);
    for (let q = b * k; q < (b + 1) * k; q++) {
      const cv = sel.c[q] as number;
      if (cv === 0) continue;
      const off = (sel.idx[q] as number) * dIn;
      for (let j = 0; j < dIn; j++) row[j] = (row[j] as number) + cv * (W[off + j] as number);
    }
    for (let j = 0; j < dIn; j++) {
      const e = (row[j] as number) - (xs[b * dIn + j] as number);
      row[j] = e;
      sse += e * e;
    }
  }
  const g = 2 / batch; // d loss / d x̂ = g·err
  const dWdec = new Float32Array(dSae * dIn);
  const dWencT = new Float32Array(dSae * dIn);
  const dbEnc = new Float32Array(dSae);
  const fired = new Float32Array(dSae);
  const dbDec = new Float32Array(dIn);
  for (let b = 0; b < batch; b++) {
    const e0 = b * dIn;
    for (let j = 0; j < dIn; j++) dbDec[j] = (dbDec[j] as number) + g * (err[e0 + j] as number);
    for (let q = b * k; q < (b + 1) * k; q++) {
      const cv = sel.c[q] as number;
      if (cv === 0) continue; // not kept or relu'(h) = 0: no gradient
      const lat = sel.idx[q] as number;
      const off = lat * dIn;
      let df = 0;
      for (let j = 0; j < dIn; j++) df += (err[e0 + j] as number) * (W[off + j] as number);
      const dh = g * df; // d loss / dh for this (token, latent)
      const cg = cv * g;
      for (let j = 0; j < dIn; j++) {
        dWdec[off + j] = (dWdec[off + j] as number) + cg * (err[e0 + j] as number);
        dWencT[off + j] = (dWencT[off + j] as number) + dh * (xcs[e0 + j] as number);
      }
      dbEnc[lat] = (dbEnc[lat] as number) + dh;
      fired[lat] = (fired[lat] as number) + 1;
    }
  }
  return { err, sse, dWdec, dWencT, dbEnc, dbDec, fired };
}

function totalVariance(xs: Float32Array, batch: number, dIn: number): number {
  const mean = new Float64Array(dIn);
  for (let i = 0; i < xs.length; i++) mean[i % dIn] = (mean[i % dIn] as number) + (xs[i] as number) / batch;
  let tv = 0;
  for (let i = 0; i < xs.length; i++) tv += ((xs[i] as number) - (mean[i % dIn] as number)) ** 2;
  return tv;
}

/**
 * AuxK restricted to the dead latents' columns (the only ones it touches): the dense AuxK of
 * `grad_parts.ts` on [batch, n_dead] / [n_dead, d_in] sub-matrices, its gradients added into the
 * sparse path's arrays. `deadMask` is `o.deadMask` (present whenever AuxK runs). Returns the aux loss.
 */
function sparseAux(p: SaeTensors, xc: tf.Tensor2D, h: tf.Tensor2D, hs: tf.Tensor2D, rescale: boolean, s: SparseOut, o: SaeGradOptions, deadMask: tf.Tensor1D): tf.Scalar {
  const [batch, dIn] = xc.shape;
  const mask = deadMask.dataSync();
  const deadIdx = Int32Array.from(Array.from(mask.keys()).filter((i) => (mask[i] as number) > 0.5));
  const di = tf.tensor1d(deadIdx, 'int32');
  const hDead = tf.gather(h, di, 1); // [batch, n_dead]
  const WdecDead = tf.gather(p.W_dec, di); // [n_dead, d_in]
  const a = auxK(
    { ...p, W_dec: WdecDead }, rescale ? tf.gather(hs, di, 1) : hDead, hDead, rescale,
    tf.tensor2d(s.err, [batch, dIn]), tf.transpose(WdecDead), { ...o, deadMask: tf.ones<tf.Rank.R1>([deadIdx.length]), nDead: deadIdx.length }, // W_decᵀ [d_in, n_dead]
  );
  const dWd = a.dW_dec.dataSync(); // [n_dead, d_in]
  const dWe = tf.matMul(tf.transpose(a.dh), xc).dataSync(); // [n_dead, batch]·[batch, d_in] → [n_dead, d_in]
  const dbe = colSum(a.dh).dataSync(); // [n_dead]
  deadIdx.forEach((lat, r) => {
    for (let j = 0; j < dIn; j++) {
      s.dWdec[lat * dIn + j] = (s.dWdec[lat * dIn + j] as number) + (dWd[r * dIn + j] as number);
      s.dWencT[lat * dIn + j] = (s.dWencT[lat * dIn + j] as number) + (dWe[r * dIn + j] as number);
    }
    s.dbEnc[lat] = (s.dbEnc[lat] as number) + (dbe[r] as number);
  });
  const dbd = a.db_dec.dataSync();
  for (let j = 0; j < dIn; j++) s.dbDec[j] = (s.dbDec[j] as number) + (dbd[j] as number);
  return a.aux;
}

/**
 * TopK loss and gradients computed on the k kept latents per token (plus dense AuxK when latents are
 * dead). Same results as the dense path up to float rounding.
 * @param cfg A topk config.
 * @param p Parameters.
 * @param x [batch, d_in].
 * @param o Dead mask / count, AuxK coefficient.
 * @returns Gradients and packed statistics (see {@link SaeGradResult}).
 * @example const r = topkSparseGrads(cfg, sae.params, x, { sparsityCoefficient: 0 });
 * @throws Never.
 * @category SAE
 */
export function topkSparseGrads(cfg: SaeConfig, p: SaeTensors, x: tf.Tensor2D, o: SaeGradOptions): SaeGradResult {
  const [batch, dIn] = x.shape;
  const { dSae } = cfg;
  const k = cfg.k as number;
  const rescale = cfg.rescaleActsByDecoderNorm === true;
  const fw = encoderPre(cfg, p, x); // dense h: [batch, d_sae]
  const nT = decoderNorms(p.W_dec); // [d_sae]
  const hs: tf.Tensor2D = rescale ? tf.mul(fw.h, nT) : fw.h;
  const sel = select(hs, k, rescale ? (nT.dataSync() as Float32Array) : undefined);
  const xs = x.dataSync() as Float32Array;
  const s = sparseDecoder(sel, p.W_dec.dataSync() as Float32Array, p.b_dec.dataSync() as Float32Array, xs, fw.xc.dataSync() as Float32Array, batch, k, dSae);
  const aux = (o.nDead ?? 0) > 0 && o.deadMask !== undefined ? sparseAux(p, fw.xc, fw.h, hs, rescale, s, o, o.deadMask) : tf.scalar(0);
  const dW_dec = tf.tensor2d(s.dWdec, [dSae, dIn]);
  const dW_enc = tf.transpose(tf.tensor2d(s.dWencT, [dSae, dIn])); // [d_sae, d_in] → [d_in, d_sae]
  const db_enc = tf.tensor1d(s.dbEnc);
  const dbDecOut = tf.tensor1d(s.dbDec);
  const db_dec = cfg.applyBDecToInput
    ? tf.sub<tf.Tensor1D>(dbDecOut, tf.reshape(tf.matMul(p.W_enc, tf.reshape(db_enc, [-1, 1])), [-1])) // [d_in, d_sae]·[d_sae, 1]
    : dbDecOut;
  const l0 = s.fired.reduce((acc, v) => acc + v, 0) / batch;
  // stats: [mse, sparsity (none for topk), aux, l0, Σ‖x − x̂‖², Σ‖x − x̄‖²] + fired [d_sae]
  const stats = tf.concat1d([
    tf.tensor1d([s.sse / batch, 0]), tf.reshape(aux, [1]), tf.tensor1d([l0, s.sse, totalVariance(xs, batch, dIn)]), tf.tensor1d(s.fired), // [STATS_HEAD + d_sae]
  ]);
  return { grads: { W_enc: dW_enc, b_enc: db_enc, W_dec: dW_dec, b_dec: db_dec }, stats };
}
