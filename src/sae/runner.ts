/**
 * A whole SAE training run from one {@link SaeRunnerConfig} (SAELens `LanguageModelSAETrainingRunner.run`):
 * activations from a model over token rows (or any batch provider) → {@link trainSae} → the final SAE
 * saved to `outputPath` in SAELens's layout (`save_inference_model`: BatchTopK as JumpReLU) with
 * `sparsity.safetensors` and `runner_cfg.json`.
 */
import { ConfigError } from '../errors.js';
import { ActivationStore, modelActivationSource, type BatchProvider, type CachingModel } from './activation_store.js';
import { saveSae } from './io.js';
import { runnerConfigToSaeLens, runnerToSaeConfigs, type SaeRunnerConfig } from './runner_config.js';
import { trainSae, type TrainSaeResult } from './train.js';
import { logFeatureSparsity } from './train_state.js';

/** Where a run's activations come from. @category SAE */
export type SaeRunSource =
  | {
    /** A ready batch provider (its batch size must equal `trainBatchSizeTokens`). */
    readonly store: BatchProvider & {
      /** √d_in / E‖x‖ over `n` batches, after which the store serves scaled rows (needed for 'expected_average_only_in'). */
      estimateNormScalingFactor?(n: number): Promise<number>;
    };
  }
  | {
    /** The model whose `hookName` activations are learned. */
    readonly model: CachingModel;
    /** Token rows [n, contextSize] (cycled as needed). */
    readonly tokens: readonly (readonly number[])[];
  };

/** Options of {@link runSaeTraining}. @category SAE */
export interface RunSaeTrainingOptions {
  /** No progress on stderr. */
  readonly quiet?: boolean;
  /** Log every N steps (default 50). */
  readonly logEvery?: number;
  /** Metrics JSONL path. */
  readonly metricsPath?: string;
}

/**
 * Train an SAE from one run config.
 * @param run The run config.
 * @param source A batch provider, or a model and token rows.
 * @param opts Logging.
 * @returns As {@link trainSae}; the SAE is also saved to `run.outputPath` when set.
 * @throws {@link "tfjs-lens"!ConfigError} on an invalid run config, token rows of the wrong length, or a store
 *   whose batch size differs from `trainBatchSizeTokens`.
 * @example
 * const r = await runSaeTraining({ hookName: 'blocks.0.hook_resid_post', architecture: 'batchtopk', dIn: 64,
 *   expansionFactor: 8, k: 16, trainingTokens: 2_000_000, trainBatchSizeTokens: 4096, contextSize: 128 }, { model, tokens });
 * @category SAE
 */
export async function runSaeTraining(run: SaeRunnerConfig, source: SaeRunSource, opts: RunSaeTrainingOptions = {}): Promise<TrainSaeResult> {
  const { training } = runnerToSaeConfigs(run); // validates
  let store: BatchProvider & { estimateNormScalingFactor?(n: number): Promise<number> };
  if ('store' in source) {
    store = source.store;
  } else {
    const width = run.contextSize ?? 128;
    const bad = source.tokens.findIndex((r) => r.length !== width);
    if (bad >= 0) throw new ConfigError(`runSaeTraining: token row ${bad} has ${source.tokens[bad]?.length} tokens, contextSize is ${width}`);
    const src = await modelActivationSource(source.model, run.hookName, source.tokens, {
      batchPrompts: run.storeBatchSizePrompts ?? 32,
      ...(run.seqposSlice !== undefined ? { seqposSlice: run.seqposSlice } : {}),
    });
    store = new ActivationStore(src, { batchSize: training.batchSize, bufferBatches: run.nBatchesInBuffer ?? 20, seed: run.seed ?? 42 });
  }
  const result = await trainSae({
    store, runner: run,
    ...(opts.quiet !== undefined ? { quiet: opts.quiet } : {}),
    ...(opts.logEvery !== undefined ? { logEvery: opts.logEvery } : {}),
    ...(opts.metricsPath !== undefined ? { metricsPath: opts.metricsPath } : {}),
  });
  if (run.outputPath !== undefined) {
    try {
      await saveSae(result.sae, run.outputPath, { logSparsity: logFeatureSparsity(result.featureDensity), runnerCfg: runnerConfigToSaeLens(run) });
    } catch (err) {
      result.sae.dispose();
      throw err;
    }
  }
  return result;
}
