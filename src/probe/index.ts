/**
 * tfjs-lens/probe: the β-VAE anomaly probe: the VAE, its training and scores, pooled activation features, detection metrics, baseline detectors and synthetic anomalies.
 * @packageDocumentation
 * @module tfjs-lens/probe
 */
export { BetaVae, klPerSample, reconErrorPerSample } from './beta_vae.js';
export type { VaeOutputs, VaeRunOptions, VaeWeightArrays } from './beta_vae.js';
export { DEFAULT_VAE_CONFIG, DEFAULT_VAE_TRAIN, betaAt, resolveTrainConfig, resolveVaeConfig } from './vae_config.js';
export type { BetaVaeConfig, VaeTrainConfig } from './vae_config.js';
export { trainBetaVae } from './vae_train.js';
export type { VaeEpochRecord, VaeTrainOptions, VaeTrainResult } from './vae_train.js';
export { vaeScores } from './vae_scores.js';
export type { VaeScores } from './vae_scores.js';
export { VAE_FILES, loadBetaVae, saveBetaVae } from './vae_io.js';
export type { SavedVaeConfig } from './vae_codec.js';
export { VAE_FORMAT, encodeBetaVae, betaVaeFromParts, decodeBetaVae } from './vae_codec.js';
export type { VaeTensor, DecodedBetaVae } from './vae_codec.js';
export { applyScaler, fitScaler, selectRows } from './matrix.js';
export type { ColumnScaler, FeatureMatrix } from './matrix.js';
export {
  averagePrecision,
  binaryReport,
  detectionMetrics,
  maxF1Threshold,
  prCurve,
  quantileThreshold,
  rocAuc,
  rocCurve,
} from './metrics.js';
export type { BinaryLabels, BinaryReport, DetectionMetrics } from './metrics.js';
export { fitGaussian, fitKnn, fitMahalanobis, fitPca, rankAverage } from './baselines.js';
export type { FittedDetector, GaussianFit } from './baselines.js';
export { extractPooledFeatures, probeHookName } from './features.js';
export type { ExtractOptions, PoolingModel, TokenBatch } from './features.js';
export { cachedFeatures } from './feature_cache.js';
export { pseudoPerplexities } from './pseudo_perplexity.js';
export type { PseudoPerplexity } from './pseudo_perplexity.js';
export { umapEmbed } from './embed2d.js';
export type { UmapOptions } from './embed2d.js';
export { makeSyntheticAnomalies, stratifiedSplit } from './synthetic.js';
export type { SyntheticAnomalyOptions } from './synthetic.js';
export { PROBE_DATASETS, PROBE_DATASET_INFO, loadProbeDataset } from './text_datasets.js';
export type { ProbeDatasetName, ProbeDatasetOptions, ProbeTextDataset } from './text_datasets.js';
export { fitLengthDetector, sqrtNPooled } from './length_correction.js';
export type { Moments, SymmetricEigen } from './linalg.js';
export type { FeatureCacheKey } from './feature_cache.js';
export { tokenMean } from './length_correction.js';
export { hashTexts, modelRevision } from './feature_cache.js';
export { loadProbeSplits, normaliseProbeText } from './probe_splits.js';
export type { DedupCounts, LabelledPart, ProbeSplitOptions, ProbeSplits } from './probe_splits.js';
export { probeDatasetPools } from './text_datasets.js';
export { chooseOnDev } from './dev_choice.js';
export type { DevCandidate, DevChoice, DevRows } from './dev_choice.js';
export { aurocOverSeeds } from './bootstrap.js';
export type { AurocSummary, SeedScores } from './bootstrap.js';
export { fitTfidfKnn, fitTfidfSvd } from './text_baselines.js';
export type { TextDetector, TfidfAnalyzer } from './text_baselines.js';
export { fitIsolationForest, isolationForestPathCorrection } from './isolation_forest.js';
