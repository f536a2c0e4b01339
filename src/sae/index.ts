/**
 * tfjs-lens/sae: sparse autoencoders with SAELens v6 semantics and file format: config, model, initialisation, training, activation stores, evaluation, splicing into a model, feature analysis and dashboards.
 * @packageDocumentation
 * @module tfjs-lens/sae
 */
export { saeConfig, validateSaeConfig, resolveSaeTraining } from './config.js';
export type {
  NormalizeActivations,
  ResolvedSaeTraining,
  SaeArchitecture,
  SaeConfig,
  SaeTrainingConfig,
} from './config.js';
export { saeConfigFromCfgJson, saeConfigToCfgJson } from './sae_lens_config.js';
export type { SaeLensCfgJson } from './sae_lens_config.js';
export type { SaeLensMetadata } from './config.js';
export { SparseAutoencoder } from './sae.js';
export { SAE, loadPretrainedSaeParts, loadSaeConfigFromHuggingface } from './pretrained.js';
export type { FromPretrainedOptions, PretrainedSae } from './pretrained.js';
export { checkRelease, configOverrides, defaultSaeRegistryPath, loadSaeRegistry, parseSaeRegistry, repoIdAndFolderName } from './pretrained_registry.js';
export type { PretrainedSaeLookup, SaeRegistry } from './pretrained_registry.js';
export { gemma2ConfigFromHf, handleConfigDefaulting, handlePre6Config } from './pretrained_loaders.js';
export type { SaeLensCfgDict } from './pretrained_loaders.js';
export type { SaeForwardOptions, SaeParams, SaeWeightArrays } from './sae.js';
export { initSae } from './init.js';
export type { SaeInitOptions } from './init.js';
export { ActivationStore, arrayActivationSource, modelActivationSource, tokenWindows } from './activation_store.js';
export type {
  ActivationSource,
  ActivationStoreOptions,
  BatchProvider,
  CachingModel,
  ModelSourceOptions,
} from './activation_store.js';
export { cacheActivations, diskActivationSource, readActivationCacheMeta } from './disk_cache.js';
export type { ActivationCacheMeta, CacheActivationsOptions } from './disk_cache.js';
export { trainSae } from './train.js';
export type { SaeStepMetrics, TrainSaeOptions, TrainSaeResult } from './train.js';
export { SAE_FILES, loadSae, readSaeSparsity, saeDir, saveSae } from './io.js';
export type { SaveSaeOptions } from './io.js';
export { parseSaeCfgText, parseSaeSafetensors, parseSaeSparsity, saeFromFiles, saeWeightsFromTensors } from './io_codec.js';
export type { SaeCodecOptions, SaeFileTensor } from './io_codec.js';
export { listShippedSaes, loadShippedSae } from './shipped.js';
export type { ShippedSaeEntry } from './shipped.js';
export { findShippedSae, type ShippedSaeName } from './shipped_lookup.js';
export { encoderCeLossRecovered, encoderHookActivations, evaluateSaeOnEncoderTokens } from './evals_encoder.js';
export type { EncoderCeLossMetrics, EncoderCeLossOptions } from './evals_encoder.js';
export { densityHistogram, evaluateSae, evaluateSaeOnTokens } from './evals.js';
export type { EvaluateSaeOnTokensOptions, EvaluateSaeOptions, SaeEvalMetrics } from './evals.js';
export { ceLossRecovered } from './recons_loss.js';
export type { CeLossMetrics, CeLossOptions } from './recons_loss.js';
export { excludedTokenIds, specialTokenIds } from './special_tokens.js';
export type { ExcludeSpecialTokens, SpecialTokenSource } from './special_tokens.js';
export { runWithCacheWithSaes, runWithSaes, saeFwdHooks, saeReplacementHook, spliceHookName } from './splice.js';
export type { SaeSplice } from './splice.js';
export { topActivatingContexts, topFeaturesForActivation } from './features.js';
export type { FeatureAttribution, FeatureExample, TopContextsOptions } from './features.js';
export { featureDashboardHtml, writeFeatureDashboard } from './dashboard_html.js';
export type { FeatureDashboardOptions } from './dashboard_html.js';
export { featureRecovery, syntheticFeatures } from './synthetic.js';
export type { SyntheticFeatures, SyntheticOptions } from './synthetic.js';
export { logFeatureSparsity } from './train_state.js';
export { SAE_LENS_FORMAT_VERSION, trainingCfgFields } from './sae_lens_config.js';
export { initSaeWeights } from './init.js';
export { SAE_ARCHITECTURES } from './config.js';
export { SAE_HOOK_NAMES } from './sae.js';
export type { SaeHookFn, SaeHookName } from './sae.js';
export { batchTopkCount, batchTopkMask, batchTopkRelu } from './sae_ops.js';
export { batchTopkToJumpRelu, foldDecoderNorm, foldDecoderNormArrays, jumpReluCfgOf, nextTopkThreshold } from './convert.js';
export { runnerConfigToSaeLens, runnerToSaeConfigs } from './runner_config.js';
export type { SaeRunnerConfig } from './runner_config.js';
export { runSaeTraining } from './runner.js';
export type { RunSaeTrainingOptions, SaeRunSource } from './runner.js';
export type { TrainSaeRunnerOptions } from './train.js';
export type { SaeRunOptions } from './splice.js';
export { featurewiseWeightMetrics } from './evals.js';
export type { FeaturewiseWeightMetrics } from './evals.js';
