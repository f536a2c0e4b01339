/**
 * Weight transformations that keep an SAE's function: folding ‖W_dec[i]‖ into the encoder (SAELens
 * `fold_W_dec_norm` of every architecture, `_fold_norm_topk`), the BatchTopK → JumpReLU conversion
 * SAELens applies when saving a BatchTopK SAE for inference (`BatchTopKTrainingSAE.
 * process_state_dict_for_saving_inference`, jbloomAus/SAELens v6.18.0), and BatchTopK's threshold update.
 */
import { ConfigError } from '../errors.js';
import { saeConfig, type SaeConfig } from './config.js';
import { SparseAutoencoder, type SaeWeightArrays } from './sae.js';

/** ‖W_dec[i]‖ per latent from row-major [d_sae, d_in]. */
function rowNorms(W_dec: Float32Array, dSae: number, dIn: number): Float64Array {
  const n = new Float64Array(dSae);
  for (let i = 0; i < dSae; i++) {
    let ss = 0;
    for (let j = 0; j < dIn; j++) ss += (W_dec[i * dIn + j] as number) ** 2;
    n[i] = Math.sqrt(ss);
  }
  return n;
}

/**
 * Fold decoder norms into weight arrays: W_dec rows to unit norm, W_enc columns × ‖W_dec[i]‖, and every
 * per-latent encoder bias/threshold × ‖W_dec[i]‖ (b_enc; JumpReLU threshold; Gated b_gate and b_mag,
 * not r_mag). Latents with a zero decoder row are left as they are.
 * @param w Weight arrays (not modified).
 * @param dIn Input width.
 * @param dSae Number of latents.
 * @returns New arrays.
 * @example const folded = foldDecoderNormArrays(sae.toArrays(), 8, 32);
 * @throws Never.
 * @category SAE
 */
export function foldDecoderNormArrays(w: SaeWeightArrays, dIn: number, dSae: number): SaeWeightArrays {
  const norms = rowNorms(w.W_dec, dSae, dIn);
  const W_dec = new Float32Array(w.W_dec);
  const W_enc = new Float32Array(w.W_enc);
  const scale = (a: Float32Array | undefined): Float32Array | undefined => (a === undefined ? undefined : a.map((v, i) => ((norms[i] as number) === 0 ? v : v * (norms[i] as number))));
  for (let i = 0; i < dSae; i++) {
    const n = norms[i] as number;
    if (n === 0) continue;
    for (let j = 0; j < dIn; j++) {
      W_dec[i * dIn + j] = (W_dec[i * dIn + j] as number) / n;
      W_enc[j * dSae + i] = (W_enc[j * dSae + i] as number) * n;
    }
  }
  const out: SaeWeightArrays = { ...w, W_dec, W_enc, b_enc: scale(w.b_enc) as Float32Array };
  const extra: Partial<Record<'threshold' | 'b_gate' | 'b_mag', Float32Array>> = {};
  for (const k of ['threshold', 'b_gate', 'b_mag'] as const) {
    const v = scale(w[k]);
    if (v !== undefined) extra[k] = v;
  }
  return { ...out, ...extra };
}

/**
 * A copy of the SAE with decoder norms folded into the encoder (SAELens `fold_W_dec_norm`): outputs are
 * unchanged; latents of standard / JumpReLU / Gated SAEs scale by ‖W_dec[i]‖.
 * @param sae The SAE (not modified).
 * @returns A new SAE (dispose it).
 * @throws {@link "tfjs-lens"!ConfigError} for a TopK or BatchTopK SAE without `rescaleActsByDecoderNorm` (folding
 *   would change which latents are selected; SAELens raises NotImplementedError).
 * @example const folded = foldDecoderNorm(sae);
 * @category SAE
 */
export function foldDecoderNorm(sae: SparseAutoencoder): SparseAutoencoder {
  const { architecture: a, dIn, dSae } = sae.cfg;
  if ((a === 'topk' || a === 'batchtopk') && sae.cfg.rescaleActsByDecoderNorm !== true) {
    throw new ConfigError(`foldDecoderNorm: folding W_dec norms into a '${a}' SAE with rescaleActsByDecoderNorm false would change the selected latents; set rescaleActsByDecoderNorm: true`);
  }
  const s = new SparseAutoencoder(sae.cfg, foldDecoderNormArrays(sae.toArrays(), dIn, dSae));
  s.topkThreshold = sae.topkThreshold;
  return s;
}

/**
 * The JumpReLU SAE SAELens saves for a BatchTopK SAE (`save_inference_model`): with
 * `rescaleActsByDecoderNorm`, W_dec rows are normalised and W_enc, b_enc scaled (`_fold_norm_topk`); the
 * running `topk_threshold` becomes every latent's threshold. Inference is then per token (no batch).
 * @param sae A batchtopk SAE (not modified).
 * @returns A new jumprelu SAE (dispose it).
 * @throws {@link "tfjs-lens"!ConfigError} if the SAE is not batchtopk.
 * @example const inference = batchTopkToJumpRelu(trained);
 * @category SAE
 */
export function batchTopkToJumpRelu(sae: SparseAutoencoder): SparseAutoencoder {
  const c = sae.cfg;
  if (c.architecture !== 'batchtopk') throw new ConfigError(`batchTopkToJumpRelu: expected a 'batchtopk' SAE, got '${c.architecture}'`);
  let w = sae.toArrays();
  if (c.rescaleActsByDecoderNorm === true) w = foldDecoderNormArrays(w, c.dIn, c.dSae);
  const { topk_threshold: _t, ...rest } = w;
  return new SparseAutoencoder(jumpReluCfgOf(c), { ...rest, threshold: new Float32Array(c.dSae).fill(sae.topkThreshold) });
}

/**
 * The JumpReLU inference config of a BatchTopK config (SAELens `get_inference_sae_cfg_dict`: the
 * `JumpReLUSAEConfig` fields only, so no k, rescale flag or `topk_threshold_lr`).
 * @param c A batchtopk config.
 * @returns The jumprelu config.
 * @example jumpReluCfgOf(sae.cfg).architecture;   // 'jumprelu'
 * @throws Never.
 * @category SAE
 */
export function jumpReluCfgOf(c: SaeConfig): SaeConfig {
  const { k: _k, rescaleActsByDecoderNorm: _r, ...rest } = c;
  return saeConfig({ ...rest, architecture: 'jumprelu' });
}

/**
 * BatchTopK threshold update (SAELens `update_topk_threshold`): an exponential moving average towards the
 * smallest positive activation of the batch, θ ← (1 − lr)·θ + lr·min⁺; unchanged when nothing fired.
 * @param current θ.
 * @param minPositive Smallest positive activation of the batch (Infinity or NaN when none).
 * @param lr `topk_threshold_lr` (default 0.01).
 * @returns The new θ.
 * @example nextTopkThreshold(0, 2, 0.01);   // 0.02
 * @throws Never.
 * @category SAE
 */
export function nextTopkThreshold(current: number, minPositive: number, lr = 0.01): number {
  if (!Number.isFinite(minPositive)) return current;
  return (1 - lr) * current + lr * minPositive;
}
