/**
 * SAE configuration: the architecture facts of a sparse autoencoder (SAELens v6 `SAEConfig` and its
 * `standard` / `topk` / `jumprelu` subclasses, in camelCase) and the training hyper-parameters
 * (SAELens `*TrainingSAEConfig` + the trainer's fields). The on-disk snake_case form lives in
 * `sae_lens_config.ts`.
 */
import { ConfigError } from '../errors.js';

/**
 * `cfg.json` → `metadata` (SAELens `SAEMetadata`: free-form; these are the fields its LLM runner sets).
 * @category SAE
 */
export interface SaeLensMetadata {
  /** SAELens version of the file format (written as {@link SAE_LENS_FORMAT_VERSION}; < 6.0 means legacy). */
  sae_lens_version?: string;
  /** SAELens version the SAE was trained with. */
  sae_lens_training_version?: string | null;
  /** Name of the model whose activations the SAE reads (e.g. 'gpt2'). */
  model_name?: string | null;
  /** Model class that produced the activations (e.g. 'HookedTransformer'). */
  model_class_name?: string | null;
  /** Hook point the SAE reads (e.g. 'blocks.8.hook_resid_pre'). */
  hook_name?: string | null;
  /** Attention head the activations were taken from, or null for the whole hook. */
  hook_head_index?: number | null;
  /** Tokens per training sequence. */
  context_size?: number | null;
  /** Whether a BOS token was prepended to each training sequence. */
  prepend_bos?: boolean | null;
  /** Training dataset (a Hugging Face path or local file). */
  dataset_path?: string | null;
  /** Python-style [start, end) slice of the sequence positions used in training. */
  seqpos_slice?: (number | null)[] | null;
  /** Extra keyword arguments the model was loaded with. */
  model_from_pretrained_kwargs?: Record<string, unknown> | null;
  /** Special tokens left out of training: true for all, or a list of token ids. */
  exclude_special_tokens?: boolean | number[] | null;
  /** Token placed between concatenated sequences (an id or a name such as 'bos'). */
  sequence_separator_token?: number | string | null;
  /** Whether training sequences were kept separate rather than concatenated. */
  disable_concat_sequences?: boolean | null;
  /** Neuronpedia id of the SAE, when published there. */
  neuronpedia_id?: string | null;
  /** Any other metadata (e.g. `trained_with`), kept as read. */
  [extra: string]: unknown;
}

/**
 * SAE architectures (SAELens `architecture()` strings). `batchtopk` is SAELens's
 * `BatchTopKTrainingSAE` (top k·n activations across a batch of n rows; saved for inference as
 * `jumprelu`), `gated` its `GatedSAE` (gating + magnitude paths, no b_enc).
 * @category SAE
 */
export type SaeArchitecture = 'standard' | 'topk' | 'jumprelu' | 'batchtopk' | 'gated';

/** Every {@link SaeArchitecture}, in SAELens's order. @category SAE */
export const SAE_ARCHITECTURES: readonly SaeArchitecture[] = ['standard', 'gated', 'jumprelu', 'topk', 'batchtopk'];

/**
 * Input normalisation (SAELens `normalize_activations`). `expected_average_only_in` is a training-time
 * scale folded into the weights afterwards (identity at inference, as in SAELens);
 * `constant_norm_rescale` and `layer_norm` act per token at inference.
 * @category SAE
 */
export type NormalizeActivations = 'none' | 'expected_average_only_in' | 'constant_norm_rescale' | 'layer_norm';

/** Architecture of a sparse autoencoder (SAELens `SAEConfig`). @category SAE */
export interface SaeConfig {
  /** 'standard' (ReLU), 'topk', 'jumprelu', 'batchtopk' or 'gated'. */
  readonly architecture: SaeArchitecture;
  /** Input width (d_in): the hook's last dimension (n_heads·d_head for hook_z). */
  readonly dIn: number;
  /** Number of latents (d_sae). */
  readonly dSae: number;
  /** TopK: latents kept per token (an integer). BatchTopK: mean latents kept per row, a positive
   * number that may be fractional (SAELens `k: float`; the batch keeps ⌊k·n⌋). */
  readonly k?: number;
  /** TopK / BatchTopK: rank pre-activations scaled by ‖W_dec[i]‖ (SAELens training default true). */
  readonly rescaleActsByDecoderNorm?: boolean;
  /** Subtract b_dec from the input before encoding (default true). */
  readonly applyBDecToInput: boolean;
  /** Input normalisation (default 'none'). */
  readonly normalizeActivations: NormalizeActivations;
  /** 'hook_z': inputs are [..., n_heads, d_head] and are flattened (default 'none'). */
  readonly reshapeActivations: 'none' | 'hook_z';
  /** Stored dtype name ('float32'); weights are always computed in float32 here. */
  readonly dtype: string;
  /** Device string written to cfg.json ('cpu'). */
  readonly device: string;
  /** Free-form metadata, SAELens field names (hook_name, model_name, context_size …). */
  readonly metadata: SaeLensMetadata;
}

/**
 * Training hyper-parameters. Defaults follow SAELens v6 (`lr` 3e-4, Adam β = (0.9, 0.999),
 * `decoder_init_norm` 0.1, JumpReLU bandwidth 0.05 and initial threshold 0.01, AuxK coefficient 1,
 * gradient-norm clipping at 1).
 * @category SAE
 */
export interface SaeTrainingConfig {
  /** Optimiser steps. */
  readonly steps: number;
  /** Tokens per step (the store's batch size; SAELens `train_batch_size_tokens`, default 4096). */
  readonly batchSize: number;
  /** Peak learning rate (default 3e-4). */
  readonly lr?: number;
  /** Linear LR warm-up steps (default 0). */
  readonly lrWarmupSteps?: number;
  /** LR decay after warm-up: 'constant' (default), 'cosine' or 'linear', to `lrMinRatio`·lr. */
  readonly lrDecay?: 'constant' | 'cosine' | 'linear';
  /** Final LR as a fraction of the peak for cosine/linear decay (default 0.1). */
  readonly lrMinRatio?: number;
  /** Sparsity coefficient: L1 (standard and gated's gate path, scaled by ‖W_dec[i]‖) or L0 (jumprelu). Default 1. */
  readonly sparsityCoefficient?: number;
  /** Steps over which the sparsity coefficient ramps linearly from 0 (default 0). */
  readonly sparsityWarmupSteps?: number;
  /** TopK / BatchTopK AuxK loss coefficient (default 1). */
  readonly auxLossCoefficient?: number;
  /** BatchTopK: rate of the threshold's moving average (SAELens `topk_threshold_lr`, default 0.01). */
  readonly topkThresholdLr?: number;
  /** JumpReLU: rectangle-kernel bandwidth ε of the pseudo-derivative (default 0.05). */
  readonly jumpreluBandwidth?: number;
  /** JumpReLU: initial threshold (default 0.01). */
  readonly jumpreluInitThreshold?: number;
  /** JumpReLU sparsity loss: 'step' (L0, GDM; default) or 'tanh' (Anthropic). */
  readonly jumpreluSparsityLossMode?: 'step' | 'tanh';
  /** JumpReLU 'tanh' mode scale (default 4). */
  readonly jumpreluTanhScale?: number;
  /** Initial decoder row norm (default 0.1; W_enc = W_decᵀ). */
  readonly decoderInitNorm?: number;
  /** Initial b_dec: 'zeros' (default), 'mean' or 'geometric_median' of a sample. */
  readonly bDecInit?: 'zeros' | 'mean' | 'geometric_median';
  /** Batches sampled for the b_dec initialisation (default 4). */
  readonly bDecInitBatches?: number;
  /** 'expected_average_only_in' scales inputs so E‖x‖ = √d_in (folded in after training). */
  readonly normalizeActivations?: 'none' | 'expected_average_only_in';
  /** Batches used to estimate the norm scaling factor (default 10; SAELens uses 1000). */
  readonly normEstimateBatches?: number;
  /** A latent is dead after this many tokens without firing (default 1000 · batchSize). */
  readonly deadFeatureWindowTokens?: number;
  /** Clip the global gradient norm to this (default 1, as SAELens; 0 disables). */
  readonly clipNorm?: number;
  /** Adam β1 (default 0.9). */
  readonly adamBeta1?: number;
  /** Adam β2 (default 0.999). */
  readonly adamBeta2?: number;
  /** Seed of the weight initialisation (default 0). */
  readonly seed?: number;
}

function positiveInt(v: unknown, field: string, fn: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0) {
    throw new ConfigError(`${fn}: ${field} must be a positive integer, got ${JSON.stringify(v)}`);
  }
  return v;
}

/**
 * Build a complete {@link SaeConfig} from the fields that matter, with SAELens defaults.
 * @param c architecture, dIn, dSae (+ k for topk) and any overrides.
 * @returns A validated config.
 * @throws {@link "tfjs-lens"!ConfigError} on a bad architecture, width or k.
 * @example const cfg = saeConfig({ architecture: 'topk', dIn: 768, dSae: 6144, k: 32 });
 * @category SAE
 */
export function saeConfig(
  c: Pick<SaeConfig, 'architecture' | 'dIn' | 'dSae'> & Partial<SaeConfig>,
): SaeConfig {
  const cfg: SaeConfig = {
    applyBDecToInput: true,
    normalizeActivations: 'none',
    reshapeActivations: 'none',
    dtype: 'float32',
    device: 'cpu',
    metadata: {},
    ...c,
    ...(c.architecture === 'topk' || c.architecture === 'batchtopk' ? { rescaleActsByDecoderNorm: c.rescaleActsByDecoderNorm ?? true } : {}),
  };
  return validateSaeConfig(cfg);
}

/**
 * Check a config for internal consistency.
 * @param cfg The config.
 * @returns The same config.
 * @throws {@link "tfjs-lens"!ConfigError} naming the bad field (a width that is not a positive integer, a
 *   flag that is not a boolean, an unknown architecture or normalisation).
 * @example validateSaeConfig(cfg);
 * @category SAE
 */
export function validateSaeConfig(cfg: SaeConfig): SaeConfig {
  const fn = 'validateSaeConfig';
  if (!SAE_ARCHITECTURES.includes(cfg.architecture)) {
    throw new ConfigError(`${fn}: architecture must be one of ${SAE_ARCHITECTURES.map((a) => `'${a}'`).join(', ')}, got ${JSON.stringify(cfg.architecture)}`);
  }
  positiveInt(cfg.dIn, 'dIn', fn);
  positiveInt(cfg.dSae, 'dSae', fn);
  if (cfg.architecture === 'topk') {
    const k = positiveInt(cfg.k, 'k', fn);
    if (k > cfg.dSae) throw new ConfigError(`${fn}: k must be ≤ dSae (${cfg.dSae}), got ${k}`);
  }
  if (cfg.architecture === 'batchtopk') {
    if (typeof cfg.k !== 'number' || !Number.isFinite(cfg.k) || cfg.k <= 0) {
      throw new ConfigError(`${fn}: batchtopk needs k > 0 (mean latents per row, may be fractional), got ${JSON.stringify(cfg.k)}`);
    }
    if (cfg.k > cfg.dSae) throw new ConfigError(`${fn}: k must be ≤ dSae (${cfg.dSae}), got ${cfg.k}`);
  }
  if (typeof cfg.applyBDecToInput !== 'boolean') {
    throw new ConfigError(`${fn}: applyBDecToInput must be a boolean, got ${JSON.stringify(cfg.applyBDecToInput)}`);
  }
  if (cfg.rescaleActsByDecoderNorm !== undefined && typeof cfg.rescaleActsByDecoderNorm !== 'boolean') {
    throw new ConfigError(`${fn}: rescaleActsByDecoderNorm must be a boolean, got ${JSON.stringify(cfg.rescaleActsByDecoderNorm)}`);
  }
  if (typeof cfg.dtype !== 'string' || typeof cfg.device !== 'string') {
    throw new ConfigError(`${fn}: dtype and device must be strings, got ${JSON.stringify(cfg.dtype)} and ${JSON.stringify(cfg.device)}`);
  }
  const norms = ['none', 'expected_average_only_in', 'constant_norm_rescale', 'layer_norm'];
  if (!norms.includes(cfg.normalizeActivations)) {
    throw new ConfigError(`${fn}: normalizeActivations must be one of ${norms.join(', ')}, got ${JSON.stringify(cfg.normalizeActivations)}`);
  }
  if (cfg.reshapeActivations !== 'none' && cfg.reshapeActivations !== 'hook_z') {
    throw new ConfigError(`${fn}: reshapeActivations must be 'none' or 'hook_z', got ${JSON.stringify(cfg.reshapeActivations)}`);
  }
  return cfg;
}

/** Resolved training hyper-parameters (every default filled in). @category SAE */
export type ResolvedSaeTraining = Required<SaeTrainingConfig>;

/**
 * Fill in the defaults of a training config and check it.
 * @param t The training config.
 * @returns Every field set.
 * @throws {@link "tfjs-lens"!ConfigError} on non-positive steps/batch size/lr or a negative coefficient.
 * @example resolveSaeTraining({ steps: 1000, batchSize: 4096 }).lr;   // 3e-4
 * @category SAE
 */
export function resolveSaeTraining(t: SaeTrainingConfig): ResolvedSaeTraining {
  const fn = 'resolveSaeTraining';
  positiveInt(t.steps, 'steps', fn);
  positiveInt(t.batchSize, 'batchSize', fn);
  const r: ResolvedSaeTraining = {
    lr: 3e-4, lrWarmupSteps: 0, lrDecay: 'constant', lrMinRatio: 0.1,
    sparsityCoefficient: 1, sparsityWarmupSteps: 0, auxLossCoefficient: 1, topkThresholdLr: 0.01,
    jumpreluBandwidth: 0.05, jumpreluInitThreshold: 0.01, jumpreluSparsityLossMode: 'step', jumpreluTanhScale: 4,
    decoderInitNorm: 0.1, bDecInit: 'zeros', bDecInitBatches: 4,
    normalizeActivations: 'none', normEstimateBatches: 10,
    deadFeatureWindowTokens: 1000 * t.batchSize, clipNorm: 1, adamBeta1: 0.9, adamBeta2: 0.999, seed: 0,
    ...stripUndefined(t),
  } as ResolvedSaeTraining;
  if (!(r.lr > 0)) throw new ConfigError(`${fn}: lr must be > 0, got ${r.lr}`);
  for (const f of ['sparsityCoefficient', 'auxLossCoefficient', 'clipNorm', 'lrWarmupSteps', 'sparsityWarmupSteps'] as const) {
    if (!(r[f] >= 0)) throw new ConfigError(`${fn}: ${f} must be ≥ 0, got ${r[f]}`);
  }
  if (!(r.topkThresholdLr > 0 && r.topkThresholdLr <= 1)) throw new ConfigError(`${fn}: topkThresholdLr must be in (0, 1], got ${r.topkThresholdLr}`);
  if (!(r.jumpreluBandwidth > 0) || !(r.jumpreluInitThreshold > 0) || !(r.decoderInitNorm > 0)) {
    throw new ConfigError(`${fn}: jumpreluBandwidth, jumpreluInitThreshold and decoderInitNorm must be > 0`);
  }
  return r;
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
