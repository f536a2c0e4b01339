/**
 * One training-run config object (SAELens `LanguageModelSAERunnerConfig` with its `sae` training config
 * flattened in, camelCase), and its mapping to this library's {@link SaeConfig} + {@link SaeTrainingConfig}.
 * Field ↔ SAELens (jbloomAus/SAELens v6.18.0 `sae_lens/config.py`, `sae_lens/saes/*_sae.py`):
 * modelName ↔ model_name, hookName ↔ hook_name, hookHeadIndex ↔ hook_head_index, datasetPath ↔ dataset_path,
 * contextSize ↔ context_size, prependBos ↔ prepend_bos, seqposSlice ↔ seqpos_slice, storeBatchSizePrompts ↔
 * store_batch_size_prompts, nBatchesInBuffer ↔ n_batches_in_buffer, trainingTokens ↔ training_tokens,
 * trainBatchSizeTokens ↔ train_batch_size_tokens, lr ↔ lr, lrSchedulerName ↔ lr_scheduler_name ('constant',
 * 'cosineannealing'; 'linear' is ours), lrWarmUpSteps ↔ lr_warm_up_steps, lrEnd ↔ lr_end (default lr/10),
 * adamBeta1/2 ↔ adam_beta1/2, deadFeatureWindow ↔ dead_feature_window (steps), seed ↔ seed, nCheckpoints ↔
 * n_checkpoints, checkpointPath ↔ checkpoint_path, outputPath ↔ output_path; and from `sae`: architecture,
 * dIn ↔ d_in, dSae ↔ d_sae (or expansionFactor · d_in, the pre-6.0 `expansion_factor`), k, rescaleActsByDecoderNorm,
 * applyBDecToInput, normalizeActivations, decoderInitNorm ↔ decoder_init_norm, l1Coefficient / l1WarmUpSteps
 * (standard, gated), l0Coefficient / l0WarmUpSteps (jumprelu), auxLossCoefficient, topkThresholdLr (batchtopk),
 * jumprelu* fields.
 */
import { ConfigError } from '../errors.js';
import { resolveSaeTraining, saeConfig, type SaeArchitecture, type SaeConfig, type SaeTrainingConfig } from './config.js';

/** A whole SAE training run in one object (SAELens `LanguageModelSAERunnerConfig`; see the module doc for the field map). @category SAE */
export interface SaeRunnerConfig {
  /** Model name (metadata `model_name`). */
  readonly modelName?: string;
  /** Hook the SAE reads (`hook_name`). */
  readonly hookName: string;
  /** Attention head the activations come from (`hook_head_index`; metadata only). */
  readonly hookHeadIndex?: number | null;
  /** Dataset (`dataset_path`; metadata only: pass token rows or a store to {@link runSaeTraining}). */
  readonly datasetPath?: string;
  /** Tokens per row (`context_size`, default 128; metadata, and checked against token rows). */
  readonly contextSize?: number;
  /** Whether rows start with BOS (`prepend_bos`, default true; metadata). */
  readonly prependBos?: boolean;
  /** Positions [start, end) of each row used (`seqpos_slice`). */
  readonly seqposSlice?: readonly [number, number?];
  /** Rows per model forward pass (`store_batch_size_prompts`, default 32). */
  readonly storeBatchSizePrompts?: number;
  /** Mixing buffer size in batches (`n_batches_in_buffer`, default 20). */
  readonly nBatchesInBuffer?: number;
  /** SAE architecture (`sae.architecture()`). */
  readonly architecture: SaeArchitecture;
  /** Input width (`d_in`). */
  readonly dIn: number;
  /** Latents (`d_sae`); give this or `expansionFactor`. */
  readonly dSae?: number;
  /** d_sae = expansionFactor · d_in (pre-6.0 `expansion_factor`). */
  readonly expansionFactor?: number;
  /** TopK: latents per token; BatchTopK: mean latents per row (`k`, default 100 as SAELens). */
  readonly k?: number;
  /** TopK / BatchTopK (`rescale_acts_by_decoder_norm`, default true). */
  readonly rescaleActsByDecoderNorm?: boolean;
  /** Subtract b_dec before encoding (`apply_b_dec_to_input`, default true). */
  readonly applyBDecToInput?: boolean;
  /** Training normalisation (`normalize_activations`, default 'none'). */
  readonly normalizeActivations?: 'none' | 'expected_average_only_in';
  /** Initial decoder row norm (`decoder_init_norm`, default 0.1). */
  readonly decoderInitNorm?: number;
  /** Standard / gated L1 coefficient (`l1_coefficient`, default 1). */
  readonly l1Coefficient?: number;
  /** Standard / gated L1 warm-up (`l1_warm_up_steps`, default 0). */
  readonly l1WarmUpSteps?: number;
  /** JumpReLU L0 coefficient (`l0_coefficient`, default 1). */
  readonly l0Coefficient?: number;
  /** JumpReLU L0 warm-up (`l0_warm_up_steps`, default 0). */
  readonly l0WarmUpSteps?: number;
  /** TopK / BatchTopK AuxK coefficient (`aux_loss_coefficient`, default 1). */
  readonly auxLossCoefficient?: number;
  /** BatchTopK threshold EMA rate (`topk_threshold_lr`, default 0.01). */
  readonly topkThresholdLr?: number;
  /** JumpReLU initial threshold (`jumprelu_init_threshold`, default 0.01). */
  readonly jumpreluInitThreshold?: number;
  /** JumpReLU bandwidth (`jumprelu_bandwidth`, default 0.05). */
  readonly jumpreluBandwidth?: number;
  /** JumpReLU sparsity loss (`jumprelu_sparsity_loss_mode`, default 'step'). */
  readonly jumpreluSparsityLossMode?: 'step' | 'tanh';
  /** JumpReLU tanh scale (`jumprelu_tanh_scale`, default 4). */
  readonly jumpreluTanhScale?: number;
  /** Total training tokens (`training_tokens`); steps = ⌊trainingTokens / trainBatchSizeTokens⌋. */
  readonly trainingTokens: number;
  /** Tokens per step (`train_batch_size_tokens`, default 4096). */
  readonly trainBatchSizeTokens?: number;
  /** Peak learning rate (`lr`, default 3e-4). */
  readonly lr?: number;
  /** LR schedule after warm-up (`lr_scheduler_name`: 'constant' (default) or 'cosineannealing'; 'linear' is ours). */
  readonly lrSchedulerName?: 'constant' | 'cosineannealing' | 'linear';
  /** Linear LR warm-up steps (`lr_warm_up_steps`, default 0). */
  readonly lrWarmUpSteps?: number;
  /** Final LR of a decaying schedule (`lr_end`, default lr / 10). */
  readonly lrEnd?: number;
  /** Adam β1 (`adam_beta1`, default 0.9). */
  readonly adamBeta1?: number;
  /** Adam β2 (`adam_beta2`, default 0.999). */
  readonly adamBeta2?: number;
  /** Steps without firing before a latent counts as dead (`dead_feature_window`, default 1000). */
  readonly deadFeatureWindow?: number;
  /** Seed (`seed`, default 42 as SAELens). */
  readonly seed?: number;
  /** Evenly spaced checkpoints (`n_checkpoints`, default 0). */
  readonly nCheckpoints?: number;
  /** Checkpoint folder (`checkpoint_path`). */
  readonly checkpointPath?: string;
  /** Where the final SAE is saved in SAELens's layout (`output_path`; unset: not saved). */
  readonly outputPath?: string;
}

/**
 * The architecture and training configs of a run config.
 * @param r The run config.
 * @returns `cfg` (metadata filled from the run fields) and `training`.
 * @throws {@link "tfjs-lens"!ConfigError} when neither or both of dSae / expansionFactor are given, or a value is invalid.
 * @example const { cfg, training } = runnerToSaeConfigs({ hookName: 'blocks.0.hook_resid_pre', architecture: 'topk', dIn: 64, expansionFactor: 4, k: 8, trainingTokens: 1e6 });
 * @category SAE
 */
export function runnerToSaeConfigs(r: SaeRunnerConfig): {
  /** The SAE architecture. */
  cfg: SaeConfig;
  /** The training hyper-parameters. */
  training: SaeTrainingConfig;
} {
  const fn = 'runnerToSaeConfigs';
  if ((r.dSae === undefined) === (r.expansionFactor === undefined)) {
    throw new ConfigError(`${fn}: give exactly one of dSae and expansionFactor (got ${r.dSae === undefined ? 'neither' : 'both'})`);
  }
  const dSae = r.dSae ?? Math.round((r.expansionFactor as number) * r.dIn);
  const batch = r.trainBatchSizeTokens ?? 4096;
  const steps = Math.floor(r.trainingTokens / batch);
  if (!(steps >= 1)) throw new ConfigError(`${fn}: trainingTokens (${r.trainingTokens}) must be at least trainBatchSizeTokens (${batch})`);
  const a = r.architecture;
  const usesK = a === 'topk' || a === 'batchtopk';
  const cfg = saeConfig({
    architecture: a, dIn: r.dIn, dSae,
    ...(usesK ? { k: r.k ?? 100, rescaleActsByDecoderNorm: r.rescaleActsByDecoderNorm ?? true } : {}),
    applyBDecToInput: r.applyBDecToInput ?? true,
    metadata: {
      model_name: r.modelName ?? null, hook_name: r.hookName, hook_head_index: r.hookHeadIndex ?? null,
      context_size: r.contextSize ?? 128, prepend_bos: r.prependBos ?? true, dataset_path: r.datasetPath ?? null,
      seqpos_slice: r.seqposSlice !== undefined ? [r.seqposSlice[0], r.seqposSlice[1] ?? null] : [null],
    },
  });
  const lr = r.lr ?? 3e-4;
  const sched = r.lrSchedulerName ?? 'constant';
  const jump = a === 'jumprelu';
  const training: SaeTrainingConfig = {
    steps, batchSize: batch, lr, lrWarmupSteps: r.lrWarmUpSteps ?? 0,
    lrDecay: sched === 'cosineannealing' ? 'cosine' : sched, lrMinRatio: (r.lrEnd ?? lr / 10) / lr,
    sparsityCoefficient: (jump ? r.l0Coefficient : r.l1Coefficient) ?? 1,
    sparsityWarmupSteps: (jump ? r.l0WarmUpSteps : r.l1WarmUpSteps) ?? 0,
    auxLossCoefficient: r.auxLossCoefficient ?? 1, topkThresholdLr: r.topkThresholdLr ?? 0.01,
    jumpreluInitThreshold: r.jumpreluInitThreshold ?? 0.01, jumpreluBandwidth: r.jumpreluBandwidth ?? 0.05,
    jumpreluSparsityLossMode: r.jumpreluSparsityLossMode ?? 'step', jumpreluTanhScale: r.jumpreluTanhScale ?? 4,
    decoderInitNorm: r.decoderInitNorm ?? 0.1, normalizeActivations: r.normalizeActivations ?? 'none',
    deadFeatureWindowTokens: ((r.deadFeatureWindow ?? 1000) + 1) * batch, // SAELens counts steps: w steps ≙ (w + 1)·B tokens
    adamBeta1: r.adamBeta1 ?? 0.9, adamBeta2: r.adamBeta2 ?? 0.999, seed: r.seed ?? 42,
  };
  resolveSaeTraining(training); // validate now
  return { cfg, training };
}

/**
 * The run config in SAELens's snake_case (`runner_cfg.json`), with the SAE fields under `sae`.
 * @param r The run config.
 * @returns A JSON-ready object.
 * @example JSON.stringify(runnerConfigToSaeLens(run));
 * @throws Never.
 * @category SAE
 */
export function runnerConfigToSaeLens(r: SaeRunnerConfig): Record<string, unknown> {
  const snake = (k: string): string => k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
  const saeKeys = new Set(['architecture', 'dIn', 'dSae', 'expansionFactor', 'k', 'rescaleActsByDecoderNorm', 'applyBDecToInput', 'normalizeActivations', 'decoderInitNorm',
    'l1Coefficient', 'l1WarmUpSteps', 'l0Coefficient', 'l0WarmUpSteps', 'auxLossCoefficient', 'topkThresholdLr', 'jumpreluInitThreshold', 'jumpreluBandwidth',
    'jumpreluSparsityLossMode', 'jumpreluTanhScale']);
  const top: Record<string, unknown> = {};
  const sae: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(r)) {
    if (v === undefined) continue;
    const name = k === 'dIn' ? 'd_in' : k === 'dSae' ? 'd_sae' : snake(k);
    (saeKeys.has(k) ? sae : top)[name] = v;
  }
  return { ...top, sae };
}
