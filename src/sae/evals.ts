/**
 * SAE evaluation (SAELens `evals.py` `get_sparsity_and_variance_metrics`): reconstruction quality (MSE,
 * explained variance, cosine, L2 ratio, relative reconstruction bias), sparsity (L0, L1) and feature
 * density with dead/dense fractions, over activations ({@link evaluateSae}) or over token rows with
 * special-token positions left out as SAELens's `run_evals` does ({@link evaluateSaeOnTokens}).
 * Explained variance follows SAELens's `ExplainedVarianceCalculator` (decoderesearch/SAELens 191d44eb,
 * 2026): 1 − E‖x − x̂‖² / (E‖x‖² − ‖E x‖²), every evaluated token weighted equally. SAELens v6.18.0
 * (jbloomAus/SAELens 91ca16cc) computed the denominator as E‖x‖² − (E‖x‖² / d_in)² instead (squared
 * activations before the per-dimension mean, then `torch.cat` collapsed the dimensions; fixed upstream by
 * PR #665): that value is reported separately as `explainedVarianceV618`. "Dead" is the training
 * definition (`FeatureTracker`): no firing in the last `deadWindowTokens` evaluated tokens.
 * Per-feature metrics: density, mean activation (overall and when active), SAELens's
 * `consistent_activation_heuristic` (token rows only) and the weight-based ones ({@link featurewiseWeightMetrics}).
 * Downstream CE / KL scores are in `recons_loss.ts`.
 */
import * as tf from '@tensorflow/tfjs-core';
import { ConfigError } from '../errors.js';
import { stopLayerAfterHook } from '../hooks/hook_point.js';
import type { HookedTransformer } from '../model/hooked_transformer.js';
import type { BatchProvider } from './activation_store.js';
import type { SparseAutoencoder } from './sae.js';
import { excludedTokenIds, keepMask, type ExcludeSpecialTokens } from './special_tokens.js';
import { spliceHookName } from './splice.js';
import { FeatureTracker } from './train_state.js';

/** Reconstruction and sparsity metrics. @category SAE */
export interface SaeEvalMetrics {
  /** Tokens evaluated (special-token positions excluded when evaluating token rows). */
  readonly nTokens: number;
  /** Mean squared error per element. */
  readonly mse: number;
  /** Mean over tokens of Σ_d (x − x̂)² (the training MSE term; SAELens ≥ 2026 `mse`). */
  readonly ssePerToken: number;
  /**
   * SAELens `explained_variance` (`ExplainedVarianceCalculator`, decoderesearch/SAELens 191d44eb):
   * 1 − E‖x − x̂‖² / (E‖x‖² − ‖E x‖²) over all evaluated tokens (1 when both are below 1e-10, 0 when only
   * the variance is). This is also the textbook fraction of variance explained (R², variance about the mean).
   */
  readonly explainedVariance: number;
  /**
   * SAELens `explained_variance_legacy`: the mean over tokens of 1 − ‖x − x̂‖² / ‖x − x̄_batch‖², x̄_batch the
   * mean of the token's evaluation batch (the formula behind SAELens's published `variance_explained` values).
   */
  readonly explainedVarianceLegacy: number;
  /**
   * What SAELens v6.18.0's `evals.py` printed as `explained_variance`: 1 − E‖x − x̂‖² / (E‖x‖² − (E‖x‖² / d_in)²),
   * close to variance about zero, so higher than {@link SaeEvalMetrics.explainedVariance} for activations with a
   * mean. Only for comparing with numbers from that version (equal to it when every batch has as many tokens).
   */
  readonly explainedVarianceV618: number;
  /** Mean cosine(x, x̂). */
  readonly cossim: number;
  /** Mean ‖x̂‖ / ‖x‖ (‖x‖ < 1e-4 counts as 1, as SAELens). */
  readonly l2Ratio: number;
  /** E‖x̂‖² / E[x·x̂] (arXiv 2404.16014 Eq. 10; > 1 means over-reconstruction). */
  readonly relativeReconstructionBias: number;
  /** Mean active latents per token. */
  readonly l0: number;
  /** Mean Σ_i f_i per token. */
  readonly l1: number;
  /** Window of the dead definition: a latent is dead when it fired on none of the last this many evaluated tokens. */
  readonly deadWindowTokens: number;
  /** Fraction of latents dead over the last `deadWindowTokens` tokens (training's definition, `FeatureTracker`). */
  readonly deadFraction: number;
  /** Fraction of latents firing on more than `denseThreshold` of tokens. */
  readonly denseFraction: number;
  /** Firing frequency per latent over all evaluated tokens [d_sae] (SAELens `feature_density`). */
  readonly featureDensity: Float32Array;
  /** Mean activation per latent over all evaluated tokens [d_sae]. */
  readonly featureMeanActivation: Float32Array;
  /** Mean activation per latent over the tokens it fired on [d_sae] (NaN for a latent that never fired). */
  readonly featureMeanActivationWhenActive: Float32Array;
  /**
   * Token rows only ({@link evaluateSaeOnTokens}): SAELens `consistent_activation_heuristic`, tokens a latent
   * fired on / rows (prompts) it fired in at all [d_sae] (NaN when it never fired, as torch's 0/0).
   */
  readonly consistentActivationHeuristic?: Float32Array;
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
  /**
   * Dead = no firing in the last this many evaluated tokens (default: all of them, i.e. never fired). Pass
   * training's `deadFeatureWindowTokens` to count dead latents as the training log does. Counted in whole
   * batches, as in training; must not exceed the tokens evaluated.
   */
  readonly deadWindowTokens?: number;
}

/** Options of {@link evaluateSaeOnTokens}. @category SAE */
export interface EvaluateSaeOnTokensOptions extends Omit<EvaluateSaeOptions, 'nBatches'> {
  /** Hook to read (default: the SAE's `metadata.hook_name`). */
  readonly hookName?: string;
  /** Rows per forward pass, one evaluation batch (default 8; SAELens `batch_size_prompts`). */
  readonly batchPrompts?: number;
  /** Leave special-token positions out (default true: every special token of the model, as SAELens). */
  readonly excludeSpecialTokens?: ExcludeSpecialTokens;
}

/** Scalars per batch: Σ‖r‖², Σ‖x‖², Σ‖x̂‖², Σx·x̂, Σcos, Σratio, Σl0, Σl1, Σ legacy EV. */
const HEAD = 9;

/** Row of each kept position and the number of rows (for per-prompt counts). */
interface RowIds {
  readonly ids: Int32Array;
  readonly nRows: number;
}

/** Per-batch sums: HEAD scalars + Σx [d_in] + tokens each latent fired on [d_sae] + Σ acts [d_sae] (+ rows fired in [d_sae]). */
function batchSums(sae: SparseAutoencoder, x: tf.Tensor2D, rows?: RowIds): Float32Array {
  return tf.tidy(() => {
    const acts = sae.encode(x); // [batch, d_sae]
    const recon = sae.forward(x); // [batch, d_in]
    const nx = tf.sqrt(tf.sum(tf.square(x), 1)); // [batch]
    const nr = tf.sqrt(tf.sum(tf.square(recon), 1)); // [batch]
    const dot = tf.sum(tf.mul(x, recon), 1); // [batch]
    const r2 = tf.sum(tf.square(tf.sub(x, recon)), 1); // [batch]
    const centred = tf.sum(tf.square(tf.sub(x, tf.mean(x, 0, true))), 1); // [batch]: ‖x − x̄_batch‖²
    const head = tf.stack([
      tf.sum(r2), tf.sum(tf.square(nx)), tf.sum(tf.square(nr)), tf.sum(dot),
      tf.sum(tf.div(dot, tf.maximum(tf.mul(nx, nr), 1e-12))), tf.sum(tf.div(nr, tf.where(tf.less(nx, 1e-4), tf.onesLike(nx), nx))),
      tf.sum(tf.step(acts)), tf.sum(acts), tf.sum(tf.sub(1, tf.div(r2, tf.maximum(centred, 1e-30)))),
    ]);
    const ones = tf.ones<tf.Rank.R2>([1, x.shape[0]]); // [1, batch]
    const sumX = tf.reshape(tf.matMul(ones, x), [-1]); // [d_in]
    const fired = tf.reshape(tf.matMul(ones, tf.step(acts)), [-1]); // [d_sae]
    const sumActs = tf.reshape(tf.matMul(ones, acts), [-1]); // [d_sae]
    const parts = [head, sumX, fired, sumActs];
    if (rows !== undefined) {
      const member = new Float32Array(rows.nRows * rows.ids.length); // [n_rows, n]: 1 where position i is in row r
      rows.ids.forEach((r, i) => void (member[r * rows.ids.length + i] = 1));
      const perRow = tf.matMul(tf.tensor2d(member, [rows.nRows, rows.ids.length]), tf.step(acts)); // [n_rows, n]·[n, d_sae] → [n_rows, d_sae]
      parts.push(tf.sum(tf.step(perRow), 0)); // [d_sae]: rows the latent fired in
    }
    return tf.concat(parts).dataSync() as Float32Array;
  });
}

/** Running Float64 sums over evaluated tokens, and the firing tracker behind "dead". */
class EvalSums {
  readonly head = new Float64Array(HEAD);
  readonly sumX: Float64Array;
  readonly fired: Float64Array;
  readonly sumActs: Float64Array;
  readonly rowsFired: Float64Array;
  readonly tracker: FeatureTracker;
  n = 0;
  withRows = false;

  constructor(readonly sae: SparseAutoencoder) {
    this.sumX = new Float64Array(sae.cfg.dIn);
    this.fired = new Float64Array(sae.cfg.dSae);
    this.sumActs = new Float64Array(sae.cfg.dSae);
    this.rowsFired = new Float64Array(sae.cfg.dSae);
    this.tracker = new FeatureTracker(sae.cfg.dSae);
  }

  /** Add one batch x [rows, d_in] (not disposed); `rows` maps each row of x to its prompt. */
  add(x: tf.Tensor2D, rows?: RowIds): void {
    const s = batchSums(this.sae, x, rows);
    const { dIn, dSae } = this.sae.cfg;
    for (let i = 0; i < HEAD; i++) this.head[i] = (this.head[i] as number) + (s[i] as number);
    for (let j = 0; j < dIn; j++) this.sumX[j] = (this.sumX[j] as number) + (s[HEAD + j] as number);
    const fired = s.subarray(HEAD + dIn, HEAD + dIn + dSae);
    const acc = (into: Float64Array, off: number): void => {
      for (let i = 0; i < dSae; i++) into[i] = (into[i] as number) + (s[off + i] as number);
    };
    acc(this.fired, HEAD + dIn);
    acc(this.sumActs, HEAD + dIn + dSae);
    if (rows !== undefined) {
      acc(this.rowsFired, HEAD + dIn + 2 * dSae);
      this.withRows = true;
    }
    this.tracker.update(fired, x.shape[0]);
    this.n += x.shape[0];
  }
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

/** Metrics from the running sums. */
function finish(s: EvalSums, fn: string, opts: EvaluateSaeOptions): SaeEvalMetrics {
  const { dIn, dSae } = s.sae.cfg;
  const n = s.n;
  if (n === 0) throw new ConfigError(`${fn}: no tokens were evaluated (every position masked?); pass excludeSpecialTokens: false or more rows`);
  const [sse, sx2, sr2, sdot, scos, sratio, sl0, sl1, sLegacy] = Array.from(s.head) as [number, number, number, number, number, number, number, number, number];
  let meanNormSq = 0; // ‖E x‖²
  for (let j = 0; j < dIn; j++) meanNormSq += ((s.sumX[j] as number) / n) ** 2;
  const [meanSq, resid] = [sx2 / n, sse / n]; // E‖x‖², E‖x − x̂‖²
  const total = meanSq - meanNormSq;
  const window = opts.deadWindowTokens ?? n;
  if (!Number.isInteger(window) || window < 1 || window > n) {
    throw new ConfigError(`${fn}: deadWindowTokens must be an integer in [1, ${n}] (the tokens evaluated), got ${window}; evaluate more tokens or shorten the window`);
  }
  const density = Float32Array.from(s.fired, (c) => c / n);
  const dense = opts.denseThreshold ?? 0.1;
  return {
    nTokens: n,
    mse: sse / (n * dIn),
    ssePerToken: resid,
    explainedVariance: total < 1e-10 ? (resid < 1e-10 ? 1 : 0) : 1 - resid / total,
    explainedVarianceLegacy: sLegacy / n,
    explainedVarianceV618: 1 - resid / (meanSq - (meanSq / dIn) ** 2),
    cossim: scos / n,
    l2Ratio: sratio / n,
    relativeReconstructionBias: sr2 / sdot,
    l0: sl0 / n,
    l1: sl1 / n,
    deadWindowTokens: window,
    deadFraction: s.tracker.deadMask(window).n / dSae,
    denseFraction: density.filter((d) => d > dense).length / dSae,
    featureDensity: density,
    featureMeanActivation: Float32Array.from(s.sumActs, (v) => v / n),
    featureMeanActivationWhenActive: Float32Array.from(s.sumActs, (v, i) => v / (s.fired[i] as number)),
    ...(s.withRows ? { consistentActivationHeuristic: Float32Array.from(s.fired, (c, i) => c / (s.rowsFired[i] as number)) } : {}),
    densityHistogram: densityHistogram(density, opts.bins ?? 20),
  };
}

/**
 * Reconstruction and sparsity metrics over batches of activations (no token ids, so nothing is masked:
 * use {@link evaluateSaeOnTokens} to leave special-token positions out as SAELens does).
 * @param sae The SAE (raw inputs: any normalisation is folded in or per-token).
 * @param provider Batches [batch, d_in] (an {@link ActivationStore} with scale 1).
 * @param opts Batches, dense threshold, histogram bins, dead window.
 * @returns Metrics.
 * @throws {@link "tfjs-lens"!ConfigError} if the provider's d_in differs from the SAE's, or the dead window exceeds the tokens.
 * @example const m = await evaluateSae(sae, store, { nBatches: 20 });
 * @category SAE
 */
export async function evaluateSae(sae: SparseAutoencoder, provider: BatchProvider, opts: EvaluateSaeOptions = {}): Promise<SaeEvalMetrics> {
  const { dIn } = sae.cfg;
  if (provider.dIn !== dIn) throw new ConfigError(`evaluateSae: provider d_in ${provider.dIn} differs from the SAE's ${dIn}`);
  const sums = new EvalSums(sae);
  for (let b = 0; b < (opts.nBatches ?? 10); b++) {
    const arr = await provider.nextBatch();
    const x = tf.tensor2d(arr, [provider.batchSize, dIn]); // [batch, d_in]
    sums.add(x);
    x.dispose();
  }
  return finish(sums, 'evaluateSae', opts);
}

/** Activations at the hook for one batch of rows, flattened, kept positions only: [n_kept, d_in] and each one's row, or undefined. */
function keptActivations(model: HookedTransformer, hook: string, batch: number[][], excluded: readonly number[]): { x: tf.Tensor2D; rows: RowIds } | undefined {
  const keep = keepMask(batch, excluded);
  const idx = Array.from(keep.keys()).filter((i) => keep[i] === 1);
  if (idx.length === 0) return undefined;
  const width = batch[0]?.length ?? 1;
  const rows: RowIds = { ids: Int32Array.from(idx, (i) => Math.floor(i / width)), nRows: batch.length };
  const stop = stopLayerAfterHook(hook, model.cfg.nLayers);
  const [out, cache] = model.runWithCache(batch, { namesFilter: [hook], ...(stop !== undefined ? { stopAtLayer: stop } : {}) });
  out.dispose();
  try {
    const x = tf.tidy(() => {
      const a = cache.get(hook); // [batch, pos, ...]
      const flat = tf.reshape(a, [a.shape[0] * (a.shape[1] as number), -1]) as tf.Tensor2D; // [batch·pos, d_in]
      return idx.length === flat.shape[0] ? flat : tf.gather(flat, tf.tensor1d(idx, 'int32')); // [n_kept, d_in]
    });
    return { x, rows };
  } finally {
    cache.dispose();
  }
}

/**
 * Reconstruction and sparsity metrics on token rows (SAELens `get_sparsity_and_variance_metrics`): runs the
 * model to the SAE's hook and leaves out positions whose input token is special (SAELens's default).
 * @param model A HookedTransformer.
 * @param sae The SAE (raw inputs).
 * @param rows Token rows [n_rows, pos] (equal lengths).
 * @param opts Hook, rows per batch, special-token masking, dense threshold, bins, dead window.
 * @returns Metrics over the kept positions.
 * @throws {@link "tfjs-lens"!ConfigError} on empty rows, a d_in mismatch, every position masked, or a dead window
 *   longer than the tokens evaluated; {@link "tfjs-lens"!HookNameError} for an unknown hook.
 * @example const m = evaluateSaeOnTokens(model, sae, rows);   // BOS positions left out
 * @category SAE
 */
export function evaluateSaeOnTokens(model: HookedTransformer, sae: SparseAutoencoder, rows: readonly (readonly number[])[], opts: EvaluateSaeOnTokensOptions = {}): SaeEvalMetrics {
  if (rows.length === 0) throw new ConfigError('evaluateSaeOnTokens: rows is empty');
  const hook = spliceHookName({ sae, ...(opts.hookName !== undefined ? { hookName: opts.hookName } : {}) });
  const excluded = excludedTokenIds(model, opts.excludeSpecialTokens ?? true);
  const per = opts.batchPrompts ?? 8;
  const sums = new EvalSums(sae);
  for (let i = 0; i < rows.length; i += per) {
    const kept = keptActivations(model, hook, rows.slice(i, i + per).map((r) => [...r]), excluded);
    if (kept === undefined) continue;
    const x = kept.x;
    try {
      if (x.shape[1] !== sae.cfg.dIn) throw new ConfigError(`evaluateSaeOnTokens: ${hook} has width ${x.shape[1]}, the SAE's d_in is ${sae.cfg.dIn}`);
      sums.add(x, kept.rows);
    } finally {
      x.dispose();
    }
  }
  return finish(sums, 'evaluateSaeOnTokens', opts);
}

/** SAELens `get_featurewise_weight_based_metrics`. @category SAE */
export interface FeaturewiseWeightMetrics {
  /** ‖W_enc[:, i]‖ [d_sae] (`encoder_norm`). */
  readonly encoderNorm: Float32Array;
  /** cos(W_enc[:, i], W_dec[i]) [d_sae] (`encoder_decoder_cosine_sim`). */
  readonly encoderDecoderCosineSim: Float32Array;
  /** b_enc [d_sae] (`encoder_bias`; absent for Gated SAEs, which have none). */
  readonly encoderBias?: Float32Array;
}

/**
 * Per-latent weight metrics (SAELens `get_featurewise_weight_based_metrics`).
 * @param sae The SAE.
 * @returns Encoder norms, encoder–decoder cosine similarities and encoder biases, per latent.
 * @throws {@link "tfjs-lens"!DisposedError} if the SAE was disposed.
 * @example featurewiseWeightMetrics(sae).encoderDecoderCosineSim;
 * @category SAE
 */
export function featurewiseWeightMetrics(sae: SparseAutoencoder): FeaturewiseWeightMetrics {
  const { W_enc, W_dec, b_enc } = sae.params;
  const [norm, cos] = tf.tidy(() => {
    const encT = tf.transpose(W_enc); // [d_sae, d_in]
    const ne = tf.norm(encT, 'euclidean', 1); // [d_sae]
    const nd = tf.norm(W_dec, 'euclidean', 1); // [d_sae]
    const dot = tf.sum(tf.mul(encT, W_dec), 1); // [d_sae]
    return [ne.dataSync() as Float32Array, tf.div(dot, tf.maximum(tf.mul(ne, nd), 1e-8)).dataSync() as Float32Array];
  });
  return {
    encoderNorm: Float32Array.from(norm),
    encoderDecoderCosineSim: Float32Array.from(cos),
    ...(sae.cfg.architecture === 'gated' ? {} : { encoderBias: Float32Array.from(b_enc.dataSync()) }),
  };
}
