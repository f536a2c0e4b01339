/**
 * SAE evaluation (SAELens `evals.py`): reconstruction quality (MSE, explained variance with total
 * variance E‖x‖² − ‖E x‖², cosine, L2 ratio, relative reconstruction bias), sparsity (L0, L1), feature
 * density with dead/dense fractions and a log10-density histogram; and downstream CE loss / KL with
 * the SAE spliced into the forward pass, against the clean and the zero-ablated run
 * (`ce_loss_score` = (CE_abl − CE_sae) / (CE_abl − CE_clean)).
 */
import * as tf from '@tensorflow/tfjs-core';
import { ConfigError } from '../errors.js';
import type { HookedTransformer, LogitsAndLoss } from '../model/hooked_transformer.js';
import type { BatchProvider } from './activation_store.js';
import type { SparseAutoencoder } from './sae.js';
import { saeReplacementHook, spliceHookName, type SaeSplice } from './splice.js';

/** Reconstruction and sparsity metrics. @category SAE */
export interface SaeEvalMetrics {
  /** Tokens evaluated. */
  readonly nTokens: number;
  /** Mean squared error per element. */
  readonly mse: number;
  /** Mean over tokens of Σ_d (x − x̂)² (the training MSE term). */
  readonly ssePerToken: number;
  /** 1 − E Σ(x − x̂)² / (E‖x‖² − ‖E x‖²). */
  readonly explainedVariance: number;
  /** Mean cosine(x, x̂). */
  readonly cossim: number;
  /** Mean ‖x̂‖ / ‖x‖. */
  readonly l2Ratio: number;
  /** E‖x̂‖² / E[x·x̂] (arXiv 2404.16014 Eq. 10; > 1 means over-reconstruction). */
  readonly relativeReconstructionBias: number;
  /** Mean active latents per token. */
  readonly l0: number;
  /** Mean Σ_i f_i per token. */
  readonly l1: number;
  /** Fraction of latents that never fired on the evaluated tokens. */
  readonly deadFraction: number;
  /** Fraction of latents firing on more than `denseThreshold` of tokens. */
  readonly denseFraction: number;
  /** Firing frequency per latent [d_sae]. */
  readonly featureDensity: Float32Array;
  /** Histogram of log10(density + 1e-10): bin edges (n + 1) and counts (n). */
  readonly densityHistogram: {
    /** Bin edges over log10 density, −10 to 0 (bins + 1). */
    readonly edges: number[];
    /** Latents per bin (bins). */
    readonly counts: number[];
  };
}

/** Options of {@link evaluateSae}. @category SAE */
export interface EvaluateSaeOptions {
  /** Batches to evaluate (default 10). */
  readonly nBatches?: number;
  /** Density above which a latent counts as dense (default 0.1). */
  readonly denseThreshold?: number;
  /** Histogram bins over log10 density in [−10, 0] (default 20). */
  readonly bins?: number;
}

/** Per-batch sums: [Σr², Σ‖x‖², Σ‖x̂‖², Σx·x̂, Σcos, Σratio, Σl0, Σl1] + Σx [d_in] + fired [d_sae]. */
function batchSums(sae: SparseAutoencoder, x: tf.Tensor2D): Float32Array {
  return tf.tidy(() => {
    const acts = sae.encode(x); // [batch, d_sae]
    const recon = sae.forward(x); // [batch, d_in]
    const nx = tf.sqrt(tf.sum(tf.square(x), 1)); // [batch]
    const nr = tf.sqrt(tf.sum(tf.square(recon), 1));
    const dot = tf.sum(tf.mul(x, recon), 1);
    const head = tf.stack([
      tf.sum(tf.square(tf.sub(x, recon))), tf.sum(tf.square(nx)), tf.sum(tf.square(nr)), tf.sum(dot),
      tf.sum(tf.div(dot, tf.maximum(tf.mul(nx, nr), 1e-12))), tf.sum(tf.div(nr, tf.maximum(nx, 1e-4))),
      tf.sum(tf.step(acts)), tf.sum(acts),
    ]);
    const ones = tf.ones<tf.Rank.R2>([1, x.shape[0]]); // [1, batch]
    const sumX = tf.reshape(tf.matMul(ones, x), [-1]); // [d_in]
    const fired = tf.reshape(tf.matMul(ones, tf.step(acts)), [-1]); // [d_sae]
    return tf.concat([head, sumX, fired]).dataSync() as Float32Array;
  });
}

/**
 * log10-density histogram over [−10, 0] (dead latents land in the first bin).
 * @param density Firing frequency per latent.
 * @param bins Number of bins.
 * @returns Edges and counts.
 * @example densityHistogram(Float32Array.of(0, 0.01, 0.5), 10).counts;
 * @throws Never.
 * @category SAE
 */
export function densityHistogram(density: ArrayLike<number>, bins = 20): {
  /** Bin edges over log10 density, −10 to 0 (bins + 1). */
  edges: number[];
  /** Latents per bin (bins; values outside [−10, 0] go to the end bins). */
  counts: number[];
} {
  const edges = Array.from({ length: bins + 1 }, (_, i) => -10 + (10 * i) / bins);
  const counts = new Array<number>(bins).fill(0);
  for (let i = 0; i < density.length; i++) {
    const v = Math.log10((density[i] as number) + 1e-10);
    const b = Math.min(bins - 1, Math.max(0, Math.floor(((v + 10) / 10) * bins)));
    counts[b] = (counts[b] as number) + 1;
  }
  return { edges, counts };
}

/**
 * Reconstruction and sparsity metrics over batches of activations.
 * @param sae The SAE (raw inputs: any normalisation is folded in or per-token).
 * @param provider Batches [batch, d_in] (an {@link ActivationStore} with scale 1).
 * @param opts Batches, dense threshold, histogram bins.
 * @returns Metrics.
 * @throws {@link "tfjs-lens"!ConfigError} if the provider's d_in differs from the SAE's.
 * @example const m = await evaluateSae(sae, store, { nBatches: 20 });
 * @category SAE
 */
export async function evaluateSae(sae: SparseAutoencoder, provider: BatchProvider, opts: EvaluateSaeOptions = {}): Promise<SaeEvalMetrics> {
  const { dIn, dSae } = sae.cfg;
  if (provider.dIn !== dIn) throw new ConfigError(`evaluateSae: provider d_in ${provider.dIn} differs from the SAE's ${dIn}`);
  const acc = new Float64Array(8 + dIn + dSae);
  let n = 0;
  for (let b = 0; b < (opts.nBatches ?? 10); b++) {
    const arr = await provider.nextBatch();
    const x = tf.tensor2d(arr, [provider.batchSize, dIn]);
    const s = batchSums(sae, x);
    x.dispose();
    for (let i = 0; i < acc.length; i++) acc[i] = (acc[i] as number) + (s[i] as number);
    n += provider.batchSize;
  }
  const [sse, sx2, sr2, sdot, scos, sratio, sl0, sl1] = Array.from(acc.subarray(0, 8)) as number[];
  let meanSq = 0;
  for (let j = 0; j < dIn; j++) meanSq += ((acc[8 + j] as number) / n) ** 2;
  const totalVar = (sx2 as number) / n - meanSq;
  const density = Float32Array.from(acc.subarray(8 + dIn), (c) => c / n);
  const dense = opts.denseThreshold ?? 0.1;
  return {
    nTokens: n,
    mse: (sse as number) / (n * dIn),
    ssePerToken: (sse as number) / n,
    explainedVariance: 1 - (sse as number) / n / Math.max(totalVar, 1e-30),
    cossim: (scos as number) / n,
    l2Ratio: (sratio as number) / n,
    relativeReconstructionBias: (sr2 as number) / (sdot as number),
    l0: (sl0 as number) / n,
    l1: (sl1 as number) / n,
    deadFraction: density.filter((d) => d === 0).length / dSae,
    denseFraction: density.filter((d) => d > dense).length / dSae,
    featureDensity: density,
    densityHistogram: densityHistogram(density, opts.bins ?? 20),
  };
}

/** Downstream metrics with the SAE spliced in. @category SAE */
export interface CeLossMetrics {
  /** Mean next-token loss of the clean model. */
  readonly ceLossWithoutSae: number;
  /** With the SAE's reconstruction at the hook. */
  readonly ceLossWithSae: number;
  /** With the hook zero-ablated. */
  readonly ceLossWithAblation: number;
  /** (CE_abl − CE_sae) / (CE_abl − CE_clean): 1 = perfect, 0 = as bad as ablation. */
  readonly ceLossScore: number;
  /** Mean KL(clean ‖ with SAE) per position. */
  readonly klDivWithSae: number;
  /** Mean KL(clean ‖ ablated) per position. */
  readonly klDivWithAblation: number;
  /** (KL_abl − KL_sae) / KL_abl. */
  readonly klDivScore: number;
  /** Tokens scored. */
  readonly nTokens: number;
}

function klSum(clean: tf.Tensor3D, other: tf.Tensor3D): number {
  return tf.tidy(() => {
    const lp = tf.logSoftmax(clean, -1);
    return tf.sum(tf.mul(tf.exp(lp), tf.sub(lp, tf.logSoftmax(other, -1)))).dataSync()[0] as number;
  });
}

/**
 * CE loss recovered (SAELens `get_recons_loss`): clean, SAE-spliced and zero-ablated runs.
 * @param model A HookedTransformer.
 * @param splice The SAE (and hook; the error term is never used here).
 * @param rows Token rows [n_rows, pos].
 * @param opts batchPrompts per forward pass (default 4).
 * @returns CE and KL metrics.
 * @throws {@link "tfjs-lens"!ConfigError} on empty rows; {@link "tfjs-lens"!HookNameError} for an unknown hook.
 * @example const { ceLossScore } = ceLossRecovered(model, { sae }, rows);
 * @category SAE
 */
export function ceLossRecovered(
  model: HookedTransformer,
  splice: SaeSplice,
  rows: readonly (readonly number[])[],
  opts: { batchPrompts?: number } = {},
): CeLossMetrics {
  if (rows.length === 0) throw new ConfigError('ceLossRecovered: rows is empty');
  const hook = spliceHookName(splice);
  const sums = { clean: 0, sae: 0, abl: 0, klSae: 0, klAbl: 0, tokens: 0, positions: 0 };
  const per = opts.batchPrompts ?? 4;
  const replace = saeReplacementHook({ ...splice, useErrorTerm: false });
  for (let i = 0; i < rows.length; i += per) {
    const batch = rows.slice(i, i + per).map((r) => [...r]);
    const run = (fn?: (a: tf.Tensor) => tf.Tensor): LogitsAndLoss =>
      model.runWithHooks(batch, { returnType: 'both', lossPerToken: true, fwdHooks: fn ? [[hook, fn]] : [] });
    const clean = run();
    const withSae = run(replace as (a: tf.Tensor) => tf.Tensor);
    const abl = run((a) => tf.zerosLike(a));
    const sum = (t: tf.Tensor): number => tf.tidy(() => tf.sum(t).dataSync()[0] as number);
    sums.clean += sum(clean.loss);
    sums.sae += sum(withSae.loss);
    sums.abl += sum(abl.loss);
    sums.klSae += klSum(clean.logits, withSae.logits);
    sums.klAbl += klSum(clean.logits, abl.logits);
    sums.tokens += clean.loss.size;
    sums.positions += clean.logits.shape[0] * clean.logits.shape[1];
    tf.dispose([clean.logits, clean.loss, withSae.logits, withSae.loss, abl.logits, abl.loss]);
  }
  const ce = { clean: sums.clean / sums.tokens, sae: sums.sae / sums.tokens, abl: sums.abl / sums.tokens };
  const kl = { sae: sums.klSae / sums.positions, abl: sums.klAbl / sums.positions };
  return {
    ceLossWithoutSae: ce.clean, ceLossWithSae: ce.sae, ceLossWithAblation: ce.abl,
    ceLossScore: (ce.abl - ce.sae) / (ce.abl - ce.clean),
    klDivWithSae: kl.sae, klDivWithAblation: kl.abl, klDivScore: (kl.abl - kl.sae) / kl.abl,
    nTokens: sums.tokens,
  };
}
